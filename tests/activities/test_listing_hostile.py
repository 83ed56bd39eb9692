"""Hostile listings: long runs of spaces, tabs, colons and dashes, anywhere in the record.

Each property says what the provider sees, not only that the parser returns: the record parses to exactly
what the seed says, or it is refused with errors naming the field the run was put in (or, for a line past
``MAX_LINE``, the file and that line). How long the parser takes is measured by ``bench/listing_parser.py``;
no test here times anything.
"""

import dataclasses
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.listing import (
    ACTIVITY_LINK,
    ACTIVITY_TYPE,
    COMMERCIAL_SUPPORT,
    CREDIT_DETAILS,
    END_DATE,
    FEE,
    FILE,
    FORMAT,
    MAX_LINE,
    MEASURED_OUTCOME,
    MOC_CREDIT_DETAILS,
    PROVIDER,
    PROVIDERSHIP,
    REGISTRATION,
    SPECIALTY,
    START_DATE,
    SUMMARY,
    TITLE,
    ListingError,
    parse_listing,
)
from portal.lib.csv import starts_like_formula

SEED = (Path(__file__).resolve().parents[2] / "seeds" / "000_cd1b7cbbb4c31ee5.txt").read_text(
    encoding="utf-8"
)
SEED_LISTING = parse_listing(SEED)
SUMMARY_LINE, *_ = SEED.split("\n")

HOSTILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The seed's field lines, with "|" where a run of spaces or tabs must change nothing (around the dash, the
# words of a name, the colon, and the words of a value the parser reads word by word) and "#" inside a date,
# where any run breaks the value. Each mark is only an insertion point: removing the marks gives the seed.
MARKED = """\
|-| |Provider|:|StatPearls,| |LLC|
|-| |Activity| |Link|:| |https://www.statpearls.com/ArticleLibrary/viewarticle/23719|
|-| |Start| |Date|:| |2023#-09-01# #05:#00:00|
|-| |End| |Date|:| |2023-09#-01# #05:00#:00|
|-| |Credit| |Details|:| |IPCE| |Credits|:| |1.5| |hours|
|AMA| |PRA| |Category| |1| |Credit\u2122\ufe0f|:| |1.5| |hours|
|Nursing|:| |1.5| |hours|
|Pharmacy|:| |1.5| |hours| |-| |MOC| |Credit| |Details|:| |ABS| |-| |1.5| |Point|;| |Credit| |Type|(s)|:| \
|Accredited| |CME| |(|ABS|)|
|ABOS| |-| |1.5| |Point|;| |Credit| |Type|(s)|:| |Accredited| |CME| |(|ABOS|)|
|ABPATH| |-| |1.5| |Point|;| |Credit| |Type|(s)|:| |Lifelong| |Learning| |(|ABPATH|)|
|ABA| |-| |1.5| |Point|;| |Credit| |Type|(s)|:| |Lifelong| |Learning| |(|ABA|)|
|ABS| |-| |1.5| |Point|;| |Credit| |Type|(s)|:| |Self-Assessment| |(|ABS|)| |-| |Commercial| |Support|:| |No|
|-| |Activity| |Type|:| |Enduring| |Material|
|-| |CME| |Finder| |Type|:| |Online| |Learning|
|-| |Fee| |to| |Participate|:| |Variable|
|-| |Measured| |Outcome|:| |Learner| |Knowledge|,| |Learner/Team| |Competence|
|-| |Provider| |Ship|:| |Directly| |Provided|
|-| |Registration|:| |Open| |to| |all|
|-| |Specialty|:| |All| |Practice| |Areas| |(e.g.| |ethics)|,| |General| |Surgery|,| |Pain| |Medicine|,| \
|Surgery| |of| |the| |Spine|"""
FIELDS_TEXT = SEED[len(SUMMARY_LINE) + 1 :]


def _slots(marked: str) -> tuple[list[int], dict[int, str]]:
    """Positions in the unmarked text: the neutral ones, and the breaking ones with the field they break."""
    neutral, breaking, clean, line = [], {}, [], 0
    for char in marked:
        if char == "|":
            neutral.append(len(clean))
        elif char == "#":
            breaking[len(clean)] = START_DATE if line == 2 else END_DATE
        else:
            line += char == "\n"
            clean.append(char)
    assert "".join(clean) == FIELDS_TEXT, "the marks must sit in the seed's own text"
    return neutral, breaking


NEUTRAL, BREAKING = _slots(MARKED)
OFFSET = len(SUMMARY_LINE) + 1
LINE_STARTS = {0} | {i + 1 for i, char in enumerate(FIELDS_TEXT) if char == "\n"}
SUMMARY_SPACES = [i for i, char in enumerate(SUMMARY_LINE) if char == " "] + [0, len(SUMMARY_LINE)]

# What each line of the seed feeds: the Listing attributes it sets and the fields its errors may name.
# Dates and the activity type decide the end together; "- Provider: Ship" (a colon put inside the name)
# reads as a second Provider field.
DATES = ({"start", "end", "end_defaulted"}, {START_DATE, END_DATE})
CREDITS = ({"credits", "moc", "commercial_support"}, {CREDIT_DETAILS, MOC_CREDIT_DETAILS, COMMERCIAL_SUPPORT})
GROUPS = [
    ({"summary", "title"}, {SUMMARY, TITLE}),
    ({"provider"}, {PROVIDER}),
    ({"activity_link"}, {ACTIVITY_LINK}),
    DATES,
    DATES,
    *[CREDITS] * 8,
    ({"activity_type", "end", "end_defaulted"}, {ACTIVITY_TYPE, START_DATE, END_DATE}),
    ({"format"}, {FORMAT}),
    ({"fee_kind", "fee_amount"}, {FEE}),
    ({"measured_outcomes"}, {MEASURED_OUTCOME}),
    ({"providership", "joint_provider"}, {PROVIDERSHIP, PROVIDER}),
    ({"registration", "registration_text"}, {REGISTRATION}),
    ({"specialties"}, {SPECIALTY}),
]
assert len(GROUPS) == len(SEED.split("\n"))
ATTRIBUTES = [f.name for f in dataclasses.fields(SEED_LISTING) if f.name != "warnings"]


def insert(text: str, edits: dict[int, str]) -> str:
    """``text`` with each run of ``edits`` put in at its position (positions in the original text)."""
    for position in sorted(edits, reverse=True):
        text = text[:position] + edits[position] + text[position:]
    return text


def refusal(text: str) -> ListingError | None:
    try:
        parse_listing(text)
    except ListingError as exc:
        return exc
    return None


def long_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.split("\n"), 1) if len(line) > MAX_LINE]


def assert_refused_for_the_first_long_line(text: str) -> None:
    numbers = long_lines(text)
    error = refusal(text)
    assert error is not None
    assert [e.field for e in error.errors] == [FILE]
    assert error.errors[0].message.startswith(f"line {numbers[0]} is longer than {MAX_LINE:,} characters")


# Runs as long as a few characters, as long as a line may be, and longer than that.
lengths = st.integers(1, 40) | st.integers(MAX_LINE - 60, MAX_LINE + 60) | st.integers(1, 3 * MAX_LINE)
whitespace_units = st.text(st.sampled_from(" \t"), min_size=1, max_size=6)
hostile_units = st.sampled_from(
    [" ", "\t", ":", "-", " -", "- ", " - ", ":-", " : ", "-:", "::", "--", " \t:"]
)
hostile_units |= st.text(st.sampled_from(" \t:-"), min_size=1, max_size=6)


@st.composite
def runs(draw, units):
    unit, length = draw(units), draw(lengths)
    return (unit * (length // len(unit) + 1))[:length]


# --- runs of spaces and tabs where the format says spacing does not matter ----------------------------------


@HOSTILE
@given(st.dictionaries(st.sampled_from(NEUTRAL), runs(whitespace_units), min_size=1, max_size=4))
def test_runs_of_spaces_and_tabs_around_names_colons_and_words_change_nothing(edits):
    text = SUMMARY_LINE + "\n" + insert(FIELDS_TEXT, edits)

    if long_lines(text):
        assert_refused_for_the_first_long_line(text)
    else:
        assert parse_listing(text) == SEED_LISTING


@HOSTILE
@given(st.dictionaries(st.sampled_from(sorted(LINE_STARTS)), st.integers(1, 50_000), min_size=1, max_size=3))
def test_runs_of_blank_lines_between_lines_change_nothing(edits):
    text = SUMMARY_LINE + "\n" + insert(FIELDS_TEXT, {at: "\n" * count for at, count in edits.items()})

    assert parse_listing(text) == SEED_LISTING


@HOSTILE
@given(
    st.dictionaries(st.sampled_from(sorted(BREAKING)), runs(whitespace_units), min_size=1, max_size=2),
    st.dictionaries(st.sampled_from(NEUTRAL), runs(whitespace_units), max_size=2),
)
def test_a_run_inside_a_date_is_refused_by_the_dates_name(breaking, neutral):
    text = SUMMARY_LINE + "\n" + insert(FIELDS_TEXT, {**neutral, **breaking})

    if long_lines(text):
        assert_refused_for_the_first_long_line(text)
    else:
        error = refusal(text)
        assert error is not None
        assert {e.field for e in error.errors} == {BREAKING[at] for at in breaking}
        assert all("is not a date" in e.message for e in error.errors)


@HOSTILE
@given(st.dictionaries(st.sampled_from(SUMMARY_SPACES), runs(whitespace_units), min_size=1, max_size=3))
def test_runs_of_spaces_and_tabs_in_the_summary_keep_it_as_written_and_its_title(edits):
    summary = insert(SUMMARY_LINE, edits)
    text = summary + "\n" + FIELDS_TEXT

    if long_lines(text):
        assert_refused_for_the_first_long_line(text)
    else:
        listing = parse_listing(text)
        assert listing.summary == summary.strip()
        assert listing.title == SEED_LISTING.title
        assert dataclasses.replace(listing, summary=SEED_LISTING.summary) == SEED_LISTING


# --- runs of colons, dashes and spaces anywhere, in names and values -----------------------------------------


@HOSTILE
@given(st.data())
def test_a_hostile_run_anywhere_touches_only_the_field_it_is_in(data):
    """Put a run into one line, at any place: line start or end, inside the field's name, the value.

    The record still parses, and only what that line feeds may differ from the seed (a line that stops
    reading as a field joins the one before it, so that one may differ too); or it is refused, and every
    error names one of those fields. Nothing else about the record changes, and nothing else is blamed.
    """
    lines = SEED.split("\n")
    number = data.draw(st.integers(0, len(lines) - 1), label="line")
    at = data.draw(st.integers(0, len(lines[number])), label="position")
    run = data.draw(runs(hostile_units), label="run")
    lines[number] = lines[number][:at] + run + lines[number][at:]
    text = "\n".join(lines)

    if long_lines(text):
        assert_refused_for_the_first_long_line(text)
        return
    attributes, names = set(GROUPS[number][0]), set(GROUPS[number][1])
    if number > 0:
        attributes |= GROUPS[number - 1][0]
        names |= GROUPS[number - 1][1]
    error = refusal(text)
    if error is not None:
        assert error.errors
        assert {e.field for e in error.errors} <= names, error.errors
        return
    listing = parse_listing(text)
    for name in ATTRIBUTES:
        if name not in attributes:
            assert getattr(listing, name) == getattr(SEED_LISTING, name), name
    assert all(w.endswith(": unknown field, ignored") for w in listing.warnings)
    assert listing.title and not starts_like_formula(listing.title)
