"""Benchmark: the catalog and its API at 100,000 activities, through the full stack (gunicorn, HTTP).

Fills the benchmark database with ``generate_demo_data`` (once; reused while it holds the same catalog),
serves the portal with gunicorn on a free local port, and times a fixed mix of catalog and API requests
(keywords common and rare, each filter, combined filters, facets, the first and a deep page) beside
``/healthz``, a trivial view through the same stack, as the floor. Prints median and p95 per request type
and their ratio to the floor's. Targets: p95 under 50 ms for every type, and none above 10x the floor.

Run with ``make bench`` or ``python bench/catalog.py [--activities N] [--repeat R]``.
"""

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, median, percentile, setup_django, table

TARGET_P95_MS = 50
TARGET_RATIO = 10

REQUESTS = [
    ("floor: trivial view (/healthz)", "/healthz"),
    ("catalog, first page", "/activities/"),
    ("catalog, deep page (page 2,000)", "/activities/?page=2000"),
    ("keyword, common (diabetes)", "/activities/?q=diabetes"),
    ("keyword, rare (intrathecal)", "/activities/?q=intrathecal&include_past=1"),
    ("keyword prefix, two words (migraine prev)", "/activities/?q=migraine+prev"),
    ("keyword, very common (assessment)", "/activities/?q=assessment"),
    ("filter: specialty", "/activities/?specialty=cardiology"),
    ("filter: activity type", "/activities/?activity_type=internet_enduring"),
    ("filter: format", "/activities/?format=live_online"),
    ("filter: credit type", "/activities/?credit_type=nursing"),
    ("filter: MOC board", "/activities/?moc_board=ABIM"),
    ("filter: MOC credit type", "/activities/?moc_credit_type=patient_safety"),
    ("filter: free", "/activities/?free=true"),
    ("filter: provider", "/activities/?provider=mayo-clinic"),
    ("filter: starts after / before", "/activities/?starts_after=2026-12-01&starts_before=2027-03-31"),
    ("filter: include past", "/activities/?include_past=1"),
    ("combined filters + keyword", "/activities/?q=cancer&format=online&credit_type=ama_pra_1&free=true"),
    ("combined filters, sorted by credit", "/activities/?specialty=oncology&moc_board=ABIM&sort=credits"),
    ("sorted by title, page 50", "/activities/?sort=title&page=50"),
    ("home page (counts, facets, starting soon)", "/"),
    ("API: first page", "/api/activities/"),
    ("API: keyword + filters", "/api/activities/?q=diabetes&format=online&free=true"),
    ("API: deep page (page 1,000)", "/api/activities/?page=1000&include_past=1"),
    ("API: one activity", None),  # filled in with a real slug
]
# Not in the target mix: a keyword no one searched since the catalog last changed, so neither its matches
# nor its result cards are cached yet. What it costs is PostgreSQL's ranked full-text query itself.
COLD = "keyword never searched before (uncached)"


def cold_keywords():
    """Distinct two-word searches, each seen once, that match real activities."""
    from activities.demo_data import TOPICS, WORDS

    for topic in TOPICS:
        for word in WORDS:
            yield f"{topic.split()[0]}+{word}"


def print_plan() -> None:
    """The catalog's keyword query plan at this size: the GIN index at work."""
    from activities.search import ranked_matches

    print("Keyword query plan (q=diabetes):")
    for line in ranked_matches("diabetes").explain(analyze=True).splitlines():
        print("   ", line)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_catalog(count: int) -> None:
    from django.core.management import call_command

    from activities.models import Activity

    have = Activity.objects.filter(activity_link__startswith="https://cme.example.org/1/").count()
    if have != count:
        print(f"Generating {count:,} activities (have {have:,})...", flush=True)
        call_command("generate_demo_data", activities=count, seed=1)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def get(port: int, path: str) -> tuple[int, float, bytes]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, (time.perf_counter() - started) * 1000, body


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)

    setup_django()
    ensure_catalog(args.activities)
    from activities.models import Activity

    slug = Activity.objects.published().order_by("pk").values_list("slug", flat=True).first()
    requests = [(label, path or f"/api/activities/{slug}/") for label, path in REQUESTS]

    port = free_port()
    static_root = tempfile.mkdtemp(prefix="cme-bench-static-")
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": static_root,
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        for _, path in requests:  # warm up: the catalog index, the database cache, the templates
            for _ in range(3):
                status, _, body = get(port, path)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
        timings = {label: [] for label, _ in requests}
        timings[COLD] = []
        cold_words = iter(cold_keywords())
        for _ in range(args.repeat):  # interleaved, so no request type gets a quieter moment than another
            for label, path in requests:
                timings[label].append(get(port, path)[1])
            timings[COLD].append(get(port, f"/activities/?q={next(cold_words)}")[1])
    finally:
        server.terminate()
        server.wait(10)

    floor = timings[requests[0][0]]
    floor_median, floor_p95 = median(floor), percentile(floor, 95)
    rows, failures = [], []
    for label in [*(label for label, _ in requests), COLD]:
        values = timings[label]
        p50, p95 = median(values), percentile(values, 95)
        ratio = p95 / floor_p95
        rows.append([label, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / floor_median:.1f}x", f"{ratio:.1f}x"])
        if label != COLD and (p95 > TARGET_P95_MS or ratio > TARGET_RATIO):
            failures.append(label)
    print_plan()
    print(
        f"Catalog at {args.activities:,} activities through gunicorn (1 worker), {args.repeat} requests each"
    )
    print(table(["request", "median ms", "p95 ms", "median vs floor", "p95 vs floor"], rows))
    if failures:
        print(f"Over target (p95 {TARGET_P95_MS} ms or {TARGET_RATIO}x the floor): {', '.join(failures)}")
        return 1
    print(
        f"Every request type within target (p95 under {TARGET_P95_MS} ms and at most {TARGET_RATIO}x the floor)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
