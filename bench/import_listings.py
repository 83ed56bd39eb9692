"""Benchmark: listing files imported per second on PostgreSQL (target: at least 1,000 a second).

Writes 10,000 generated listing files, then times the import service the command uses, three ways:
into an empty catalog (every file created), again (every file unchanged), and with every listing revised
as providers revise them: summary, dates, fee and credit hours (every file updated). Run with ``make bench`` or ``python bench/import_listings.py [--count N]``.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, table

TARGET = 1000


def write_files(directory: Path, texts: list[str]) -> None:
    for n, text in enumerate(texts):
        (directory / f"{n // 1000:03d}").mkdir(exist_ok=True)
        (directory / f"{n // 1000:03d}" / f"listing-{n:06d}.txt").write_text(text, encoding="utf-8")


def run(count: int) -> list[list[str]]:
    setup_django()
    from django.db import connection

    from activities.services import import_listings, listing_sources
    from bench.listings import listings

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE activities_activity, activities_creditdesignation, activities_mocapproval, "
            "activities_activity_specialties, portal_auditentry RESTART IDENTITY CASCADE"
        )
    rows = []
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as edited:
        write_files(Path(first), listings(count, variant=0))
        write_files(Path(edited), listings(count, variant=1))
        for label, directory, expected in [
            ("new listings (created)", first, "created"),
            ("same files again (unchanged)", first, "unchanged"),
            ("every listing revised (updated)", edited, "updated"),
        ]:
            sources = listing_sources([directory])
            started = time.perf_counter()
            report = import_listings(sources=sources)
            elapsed = time.perf_counter() - started
            done = report.count(expected)
            if done != count:
                raise SystemExit(f"{label}: expected {count} {expected}, got {report.summary()}")
            rate = count / elapsed
            rows.append([label, f"{count:,}", f"{elapsed:.2f} s", f"{rate:,.0f}/s", f"{rate / TARGET:.1f}x"])
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args(argv)
    rows = run(args.count)
    print(f"Listing import on PostgreSQL (target {TARGET:,} listings/s)")
    print(table(["run", "files", "time", "listings/s", "vs target"], rows))


if __name__ == "__main__":
    main()
