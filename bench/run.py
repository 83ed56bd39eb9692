"""Run every benchmark (``make bench``) and print their figures."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "import_listings.py",
    "listing_parser.py",
    "catalog.py",
    "certificates.py",
    "assessments_take.py",
    "outcomes.py",
    "checkin.py",
]


def main() -> int:
    failed = 0
    for name in BENCHMARKS:
        print(f"\n== {name}", flush=True)
        failed += (
            subprocess.run([sys.executable, str(HERE / name), *sys.argv[1:]], check=False).returncode != 0
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
