"""Benchmark: the listing parser on hostile files at the 1 MiB upload limit, in µs per KiB.

The parser reads what providers upload, so its time must grow with a file's size and nothing else. Each
hostile file is 1 MiB of what used to make its patterns backtrack: long runs of spaces, tabs, colons and
dashes, alone and mixed, in field names and values, at line start, middle and end, every line just under
``MAX_LINE`` (a longer line is refused before any pattern runs). The floor is a normal listing, timed in the
same run. Prints each file's µs per KiB, its ratio to the floor and what the parser answered, then the worst
case. Target: no hostile file above 10x the floor. Pure Python, no database.

Run with ``make bench`` or ``python bench/listing_parser.py [--repeat R]``.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activities.listing import MAX_LINE, ListingError, parse_listing
from bench.common import ROOT, median, table
from bench.listings import listings

TARGET_RATIO = 10
SIZE = 1024 * 1024
SEED = (ROOT / "seeds" / "000_cd1b7cbbb4c31ee5.txt").read_text(encoding="utf-8")
FIELDS = SEED[SEED.index("- Provider:") :]
WIDTH = MAX_LINE - 1  # the longest line the parser reads through


def fill(line: str, *, before: str = "", after: str = FIELDS) -> str:
    """``before``, then ``line`` (cut to ``WIDTH``) on as many lines as make the file 1 MiB, then ``after``."""
    line = line[:WIDTH]
    count = max(1, (SIZE - len((before + after).encode())) // (len(line.encode()) + 1))
    return before + "\n".join([line] * count) + "\n" + after


SUMMARY = "Chronic pain is a complex condition.\n"
IN_VALUE = {"before": SUMMARY + FIELDS + "\n- Note:\n", "after": ""}  # an unknown field's lines, last
IN_CREDITS = {
    "before": SUMMARY + FIELDS[: FIELDS.index("AMA PRA")],
    "after": FIELDS[FIELDS.index("AMA PRA") :],
}
IN_MOC = {
    "before": SUMMARY + FIELDS[: FIELDS.index(" - MOC Credit Details:")] + " - MOC Credit Details:\n",
    "after": FIELDS[FIELDS.index("ABS - 1.5 Point; Credit Type(s): Self") :],
}


def hostile_files() -> list[tuple[str, str]]:
    spaces, tabs, mixed = " " * WIDTH, "\t" * WIDTH, " \t" * WIDTH
    run = 1600
    moc_runs = (
        f"ABS{spaces[:run]}-{tabs[:run]}1.5{spaces[:run]}Point;{mixed[:run]}Credit Type(s){spaces[:run]}:"
    )
    return [
        ("summary: runs of spaces between words", fill("pain" + spaces[:-8] + "pain")),
        ("summary: runs of tabs, colons and dashes", fill("a" + ("\t::--" * WIDTH)[: WIDTH - 2] + "b")),
        ("summary: dash, letter, spaces, no colon", fill("- a" + spaces)),
        ("credit lines: name, spaces, no colon", fill("Nursing" + spaces, **IN_CREDITS)),
        (
            "credit lines: runs around colon and amount",
            fill("Nursing" + spaces[:3000] + ":" + tabs[:3000] + "1.5" + spaces[:3000] + "x", **IN_CREDITS),
        ),
        ("credit lines: many short bad lines", fill("x:", **IN_CREDITS)),
        (
            "MOC lines: runs between every part",
            fill(moc_runs + spaces[:run] + "x", **IN_MOC),
        ),
        (
            "MOC lines: type, spaces, no parenthesis",
            fill("ABS - 1 Point; Credit Type(s): a" + spaces, **IN_MOC),
        ),
        ("MOC lines: many short bad lines", fill("A - 1 Point; Credit Type(s): x", **IN_MOC)),
        ("values: runs of spaces and tabs", fill("Open to all" + mixed, **IN_VALUE)),
        ("values: runs of spaces before a dash", fill("Learner" + spaces[:-12] + "-x", **IN_VALUE)),
        ("values: runs of space-dash pairs", fill("x" + " -" * WIDTH, **IN_VALUE)),
        ("values: runs of colons", fill(":" * WIDTH, **IN_VALUE)),
        ("values: runs of dashes", fill("-" * WIDTH, **IN_VALUE)),
        ("values: mixed runs of space, tab, colon, dash", fill(" \t:-" * WIDTH, **IN_VALUE)),
        ("field names: dash, letter, spaces, no colon", fill("- a" + spaces, **IN_VALUE)),
        ("field names: words and spaces, no colon", fill("- " + "a " * WIDTH, **IN_VALUE)),
        ("field names: letter, tabs, no colon", fill("-\tP" + tabs, **IN_VALUE)),
        (
            "field names: known words, spaces, no colon",
            fill(" - MOC" + spaces[:4000] + "Credit" + spaces, **IN_VALUE),
        ),
        ("field names: many short unknown fields", fill("- a:", **IN_VALUE)),
        ("field names: one field given many times", fill("- Provider: x", **IN_VALUE)),
    ]


def time_parse(text: str, repeat: int) -> tuple[float, str]:
    """Median µs per KiB over ``repeat`` parses, and what the parser answered (as a provider would read it)."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            listing = parse_listing(text)
            answer = f"parsed ({len(listing.warnings)} warnings)" if listing.warnings else "parsed"
        except ListingError as exc:
            first = exc.errors[0]
            answer = f"refused: {first.field}: {first.message[:40]}"
            if len(exc.errors) > 1:
                answer += f" (+{len(exc.errors) - 1})"
        timings.append(time.perf_counter() - started)
    return median(timings) * 1e6 / (len(text.encode()) / 1024), answer


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args, _ = parser.parse_known_args(argv)  # run.py hands every benchmark the same arguments

    floor = median([time_parse(text, args.repeat)[0] for text in listings(200, seed=3)])
    # Ordinary text at the limit: the seed's summary paragraph, repeated. Its figure shows what a 1 MiB file
    # costs when nothing in it is hostile, so the hostile rows can be read against both.
    normal_mib, answer = time_parse(fill(SEED[: SEED.index("\n")]), args.repeat)
    rows = [
        ["floor: normal listing (~1 KiB; median of 200)", "1", f"{floor:,.1f}", "1.0x", "", "parsed"],
        ["normal text at 1 MiB (a long summary)", "1,024", f"{normal_mib:,.1f}", f"{normal_mib / floor:.1f}x",
         "1.0x", answer],
    ]  # fmt: skip
    worst_label, worst, failures = "", 0.0, []
    for label, text in hostile_files():
        figure, answer = time_parse(text, args.repeat)
        size = f"{len(text.encode()) // 1024:,}"
        rows.append(
            [label, size, f"{figure:,.1f}", f"{figure / floor:.1f}x", f"{figure / normal_mib:.1f}x", answer]
        )
        if figure > worst:
            worst_label, worst = label, figure
        if figure / floor > TARGET_RATIO:
            failures.append(label)
    print(f"Listing parser: median of {args.repeat} parses a file; hostile lines of {WIDTH:,} characters")
    print(table(["file", "KiB", "µs per KiB", "vs floor", "vs normal 1 MiB", "parser's answer"], rows))
    print(
        f"Worst case at 1 MiB: {worst:,.1f} µs per KiB ({worst * 1024 / 1e6:.2f} s a file), "
        f"{worst / floor:.1f}x the floor of {floor:,.1f} µs per KiB: {worst_label}."
    )
    if failures:
        print(f"Over target ({TARGET_RATIO}x the floor): {', '.join(failures)}")
        return 1
    print(f"Every hostile file within target (at most {TARGET_RATIO}x the floor).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
