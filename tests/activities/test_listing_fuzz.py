"""Property tests: whatever arrives, the parser returns a sound ``Listing`` or raises ``ListingError``.

Three sources of input: arbitrary text and bytes, mutations of the seed record, and records generated from
the format's own grammar (which must parse back to what was generated).
"""

import dataclasses
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities import moc as moc_rules
from activities.listing import FieldError, Listing, ListingError, derive_title, parse_listing
from portal.lib.csv import FORMULA_PREFIXES, starts_like_formula

SEED = (Path(__file__).resolve().parents[2] / "seeds" / "000_cd1b7cbbb4c31ee5.txt").read_text(
    encoding="utf-8"
)
SEED_LINES = SEED.split("\n")

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIELD_NAMES = [
    "Title",
    "Provider",
    "Activity Link",
    "Start Date",
    "End Date",
    "Credit Details",
    "MOC Credit Details",
    "Commercial Support",
    "Activity Type",
    "CME Finder Type",
    "Fee to Participate",
    "Measured Outcome",
    "Provider Ship",
    "Registration",
    "Specialty",
    "Audience",
]
FIELD_VALUES = [
    "X",
    "",
    "Yes",
    "Free",
    "$25.00",
    "2023-09-01 05:00:00",
    "9999-12-31 23:59:59",
    "0001-01-01 00:00:00",
    "2023-13-45",
    "Nursing: 1.5 hours",
    "AMA PRA Category 1 Credit\u2122: 1.3 hours",
    "ABS - 1.5 Point; Credit Type(s): Accredited CME (ABS)",
    "Regularly Scheduled Series",
    "Course",
    "Enduring Material",
    "Jointly Provided by (",
    "Limited",
    "(((, ,)",
    "http://[::1",
    "https://example.org/a",
]


def parse_or_refuse(data: str | bytes) -> Listing | None:
    """The listing, or None when refused; any other exception fails the test."""
    try:
        listing = parse_listing(data)
    except ListingError as exc:
        assert exc.errors
        assert all(isinstance(error, FieldError) and error.field and error.message for error in exc.errors)
        return None
    assert isinstance(listing, Listing)
    return listing


def assert_sound(listing: Listing) -> None:
    assert listing.end >= listing.start
    assert listing.start.tzinfo is not None
    assert listing.credits
    assert all(credit.amount > 0 for credit in listing.credits)
    assert len({credit.credit_type for credit in listing.credits}) == len(listing.credits)
    assert all(row.points > 0 for row in listing.moc)
    assert listing.specialties
    assert all(name.strip() for name in listing.specialties)
    assert listing.fee_kind in {"free", "variable", "fixed"}
    assert (listing.fee_amount is not None) == (listing.fee_kind == "fixed")
    assert listing.fee_amount is None or listing.fee_amount > 0
    assert listing.providership in {"direct", "joint"}
    assert listing.registration in {"open", "limited"}
    assert listing.provider.strip()
    assert listing.title.strip()
    assert not starts_like_formula(listing.title)
    assert listing.summary.strip()


def check(data: str | bytes) -> Listing | None:
    listing = parse_or_refuse(data)
    if listing is not None:
        assert_sound(listing)
    return listing


# --- the checker itself can fail ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"end": datetime(2000, 1, 1, tzinfo=UTC)},
        {"credits": ()},
        {"specialties": ()},
        {"fee_amount": Decimal("25.00")},
        {"fee_kind": "fixed"},
        {"title": '=HYPERLINK("https://example.org")'},
    ],
)
def test_broken_listing_fails_the_invariants(change):
    listing = dataclasses.replace(parse_listing(SEED), **change)

    with pytest.raises(AssertionError):
        assert_sound(listing)


def test_seed_passes_the_invariants():
    assert check(SEED) is not None


# --- arbitrary input ---------------------------------------------------------------------------------------


@FUZZ
@given(st.text())
def test_arbitrary_text_is_parsed_or_refused(text):
    check(text)


@FUZZ
@given(st.binary())
def test_arbitrary_bytes_are_parsed_or_refused(data):
    check(data)


@FUZZ
@given(st.lists(st.sampled_from(SEED_LINES) | st.text(max_size=40), max_size=30).map("\n".join))
def test_shuffled_seed_lines_are_parsed_or_refused(text):
    check(text)


# --- mutations of the seed ---------------------------------------------------------------------------------

field_line = st.builds(
    lambda dash, name, colon, value: f"{dash}{name}{colon}{value}",
    st.sampled_from(["- ", "-", " - ", "-\t"]),
    st.sampled_from(FIELD_NAMES) | st.sampled_from(FIELD_NAMES).map(str.upper),
    st.sampled_from([":", ": ", " : "]),
    st.sampled_from(FIELD_VALUES) | st.text(max_size=20),
)
interesting_chars = st.sampled_from(
    [*":-,()\n\r\t $.;0123456789", "\ufeff", "\u2122", "\ufe0f", "\u00ae", "\x00", "\u0301", "\u2028"]
)


@st.composite
def mutated_seed(draw):
    lines = list(SEED_LINES)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["drop", "duplicate", "splice", "glue"]))
        index = draw(st.integers(0, len(lines)))
        if action == "drop" and lines:
            del lines[min(index, len(lines) - 1)]
        elif action == "duplicate" and lines:
            line = lines[min(index, len(lines) - 1)]
            lines.insert(draw(st.integers(0, len(lines))), line)
        elif action == "splice":
            lines.insert(index, draw(field_line))
        elif action == "glue" and lines:
            position = min(index, len(lines) - 1)
            lines[position] += " " + draw(field_line).lstrip()
    text = "\n".join(lines)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        position = draw(st.integers(0, len(text)))
        chars = draw(interesting_chars | st.text(min_size=1, max_size=3))
        if action == "insert":
            text = text[:position] + chars + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 5)) :]
        else:
            text = text[:position] + chars + text[position + len(chars) :]
    return text


@FUZZ
@given(mutated_seed())
def test_mutated_seed_text_is_parsed_or_refused(text):
    check(text)


@FUZZ
@given(mutated_seed(), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_mutated_seed_bytes_are_parsed_or_refused(text, line_end, bom):
    data = text.replace("\n", line_end).encode("utf-8", errors="surrogatepass")
    check((b"\xef\xbb\xbf" if bom else b"") + data)


# Any datetime, and more often one near either end of the calendar, where adding 12 months or 3 years to
# it runs out of years.
FIRST = datetime(1, 1, 1, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
FOUR_YEARS = 4 * 366 * 86400
any_datetime = (
    st.datetimes(timezones=st.just(UTC))
    | st.integers(0, FOUR_YEARS).map(lambda seconds: LAST - timedelta(seconds=seconds))
    | st.integers(0, FOUR_YEARS).map(lambda seconds: FIRST + timedelta(seconds=seconds))
)


def stamp(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment:%m-%d %H:%M:%S}"


@FUZZ
@given(
    any_datetime,
    any_datetime | st.none(),
    st.sampled_from(
        ["Course", "Regularly Scheduled Series", "Enduring Material", "Internet Enduring Material"]
    ),
)
def test_any_dates_with_any_schedule_rule_are_parsed_or_refused(start, end, activity_type):
    """``end`` None means end == start, the enduring material's unknown expiry."""
    text = (
        SEED.replace("- Start Date: 2023-09-01 05:00:00", f"- Start Date: {stamp(start)}")
        .replace("- End Date: 2023-09-01 05:00:00", f"- End Date: {stamp(end or start)}")
        .replace("- Activity Type: Enduring Material", f"- Activity Type: {activity_type}")
    )
    listing = check(text)
    if listing is not None:
        assert listing.start == start.replace(microsecond=0)


# --- records generated from the grammar -------------------------------------------------------------------

ACTIVITY_TYPES = {
    "Course": ("course", None),
    "Regularly Scheduled Series": ("rss", 365),
    "Internet Live Course": ("internet_live", None),
    "Enduring Material": ("enduring", 3 * 365),
    "Internet Enduring Material": ("internet_enduring", 3 * 365),
    "Journal-based CME": ("journal", None),
    "Manuscript Review": ("manuscript_review", None),
    "Test-item Writing": ("test_item_writing", None),
    "Committee Learning": ("committee_learning", None),
    "Performance Improvement": ("performance_improvement", None),
    "Internet Searching and Learning": ("internet_searching", None),
    "Learning from Teaching": ("learning_from_teaching", None),
    "Other/Blended Learning": ("other_blended", None),
}
FORMATS = {
    "Online Learning": "online",
    "In Person": "in_person",
    "Live Online": "live_online",
    "Blended": "blended",
}
CREDIT_TYPES = {
    "AMA PRA Category 1 Credit\u2122": ("ama_pra_1", Decimal("0.25")),
    "AMA PRA Category 1 Credit\u2122\ufe0f": ("ama_pra_1", Decimal("0.25")),
    "AMA PRA Category 1 Credit\u00ae": ("ama_pra_1", Decimal("0.25")),
    "IPCE Credits": ("ipce", Decimal("0.25")),
    "Nursing": ("nursing", Decimal("0.01")),
    "Pharmacy": ("pharmacy", Decimal("0.01")),
    "AAPA Category 1 CME Credits": ("aapa", Decimal("0.25")),
    "Social Work": ("social_work", Decimal("0.01")),
    "Psychology": ("psychology", Decimal("0.01")),
    "Dietetics": ("dietetics", Decimal("0.01")),
    "Physical Therapy": ("physical_therapy", Decimal("0.01")),
    "Optometry": ("optometry", Decimal("0.01")),
    "Dental": ("dental", Decimal("0.01")),
}
BOARDS = {"ABA": "ABA", "ABIM": "ABIM", "ABPath": "ABPATH", "ABPATH": "ABPATH", "ABS": "ABS", "ABU": "ABU"}
MOC_TYPES = {
    "Medical Knowledge": "medical_knowledge",
    "Patient Safety": "patient_safety",
    "Lifelong Learning": "lifelong_learning",
    "Self-Assessment": "self_assessment",
    "Accredited CME": "accredited_cme",
}
OUTCOMES = {
    "Learner Knowledge": "learner_knowledge",
    "Learner/Team Competence": "learner_competence",
    "Learner/Team Performance": "learner_performance",
    "Patient Health": "patient_health",
    "Community/Population Health": "community_health",
}
SPECIALTIES = ["Cardiology", "All Practice Areas (e.g. ethics, law)", "Pain Medicine", "Surgery of the Spine"]
words = st.text(
    st.characters(categories=["L", "N"], include_characters=" .-'\u00e9\u2122"), min_size=1, max_size=30
)


def amount_text(amount: Decimal) -> str:
    """``1.50`` as ``1.5``, ``10.00`` as ``10``: the way listings write amounts."""
    return f"{amount.normalize():f}"


def three_years_after(moment: datetime) -> datetime:
    """Same day and time three years on; 29 February becomes the 28th."""
    day = 28 if (moment.month, moment.day) == (2, 29) else moment.day
    return moment.replace(year=moment.year + 3, day=day)


@st.composite
def generated_listing(draw):
    """A valid record and the fields it must parse to."""
    activity_label = draw(st.sampled_from(sorted(ACTIVITY_TYPES)))
    activity_code, max_days = ACTIVITY_TYPES[activity_label]
    start = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 100 * 365 * 86400)))
    days = draw(st.integers(0, max_days if max_days is not None else 5000))
    end = start + timedelta(days=days)

    credit_names = draw(st.lists(st.sampled_from(sorted(CREDIT_TYPES)), min_size=1, max_size=5))
    credits, credit_lines = {}, []
    for name in credit_names:
        code, step = CREDIT_TYPES[name]
        if code in credits:
            continue
        amount = draw(st.integers(1, 400)) * step
        credits[code] = amount.quantize(Decimal("0.01"))
        credit_lines.append(
            f"{name}: {amount_text(amount)} {draw(st.sampled_from(['hours', 'hour', 'credits']))}"
        )

    moc_pairs = draw(
        st.lists(st.tuples(st.sampled_from(sorted(BOARDS)), st.sampled_from(sorted(MOC_TYPES))), max_size=4)
    )
    moc, moc_lines = {}, []
    for board, moc_type in moc_pairs:
        key = (BOARDS[board], MOC_TYPES[moc_type])
        if key in moc or moc_rules.approval_problem(*key, None):  # only the pairs the board awards
            continue
        points = Decimal(draw(st.integers(1, 40))) / 2
        moc[key] = points.quantize(Decimal("0.01"))
        moc_lines.append(f"{board} - {amount_text(points)} Points; Credit Type(s): {moc_type} ({board})")

    fee = draw(st.sampled_from(["Free", "Variable", "$25.00", "25 USD", "$1,250.50"]))
    expected_fee = {
        "Free": ("free", None),
        "Variable": ("variable", None),
        "$25.00": ("fixed", Decimal("25.00")),
        "25 USD": ("fixed", Decimal("25.00")),
        "$1,250.50": ("fixed", Decimal("1250.50")),
    }[fee]
    outcomes = draw(st.lists(st.sampled_from(sorted(OUTCOMES)), unique=True, max_size=5))
    specialties = draw(st.lists(st.sampled_from(SPECIALTIES), unique=True, min_size=1))
    format_label = draw(st.sampled_from(sorted(FORMATS)))
    support = draw(st.booleans())
    joint = draw(st.sampled_from(["", "Acme Society", None]))
    registration = draw(st.sampled_from(["Open to all", "Limited", "Limited to members"]))
    provider = draw(words.filter(str.strip)).strip()
    # A title as stored (its spaces collapsed) may not begin like a spreadsheet formula; see the test below.
    title = draw(
        st.none() | words.filter(lambda t: t.strip() and not starts_like_formula(" ".join(t.split())))
    )

    def name(label: str) -> str:
        return draw(st.sampled_from([label, label.upper(), label.lower()]))

    def sep() -> str:
        return draw(st.sampled_from([": ", ":"]))

    credit_block = "\n".join(credit_lines)
    if moc_lines or draw(st.booleans()):
        credit_block += f" - {name('MOC Credit Details')}{sep()}" + "\n".join(moc_lines)
    credit_block += f" - {name('Commercial Support')}{sep()}{'Yes' if support else 'No'}"
    providership = (
        "Directly Provided" if joint is None else f"Jointly Provided{' by ' + joint if joint else ''}"
    )
    lines = [
        f"- {name('Provider')}{sep()}{provider}",
        f"- {name('Activity Link')}{sep()}https://example.org/activity/{draw(st.integers(1, 10**6))}",
        f"- {name('Start Date')}{sep()}{start:%Y-%m-%d %H:%M:%S}",
        f"- {name('End Date')}{sep()}{end:%Y-%m-%d %H:%M:%S}",
        f"- {name('Credit Details')}{sep()}{credit_block}",
        f"- {name('Activity Type')}{sep()}{activity_label}",
        f"- {name('CME Finder Type')}{sep()}{format_label}",
        f"- {name('Fee to Participate')}{sep()}{fee}",
        f"- {name('Provider Ship')}{sep()}{providership}",
        f"- {name('Registration')}{sep()}{registration}",
        f"- {name('Specialty')}{sep()}{', '.join(specialties)}",
    ]
    if outcomes:
        lines.insert(
            draw(st.integers(5, len(lines))), f"- {name('Measured Outcome')}{sep()}{', '.join(outcomes)}"
        )
    if title is not None:
        lines.insert(draw(st.integers(0, len(lines))), f"- {name('Title')}{sep()}{title}")
    text = "The activity reviews a topic. It has a second sentence.\n" + "\n".join(lines)
    text = text.replace("\n", draw(st.sampled_from(["\n", "\r\n"])))
    data = draw(
        st.sampled_from([text, "\ufeff" + text, text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode()])
    )

    defaulted = end == start and activity_code in {"enduring", "internet_enduring"}
    expected = {
        "provider": unicodedata.normalize("NFC", " ".join(provider.split())),
        "start": start,
        "end": three_years_after(start) if defaulted else end,
        "end_defaulted": defaulted,
        "credits": credits,
        "moc": moc,
        "commercial_support": support,
        "activity_type": activity_code,
        "format": FORMATS[format_label],
        "fee": expected_fee,
        "outcomes": tuple(OUTCOMES[o] for o in outcomes),
        "providership": ("direct", "") if joint is None else ("joint", joint),
        "registration": ("open" if registration.startswith("Open") else "limited", registration),
        "specialties": tuple(specialties),
        "title": None if title is None else unicodedata.normalize("NFC", " ".join(title.split())),
    }
    return data, expected


@settings(max_examples=300, deadline=None)
@given(generated_listing())
def test_generated_record_parses_back_to_what_was_written(record):
    data, expected = record
    listing = check(data)

    assert listing is not None
    assert listing.warnings == ()
    assert listing.provider == expected["provider"]
    assert listing.start == expected["start"]
    assert listing.end == expected["end"]
    assert listing.end_defaulted is expected["end_defaulted"]
    assert {credit.credit_type: credit.amount for credit in listing.credits} == expected["credits"]
    assert {(row.board, row.credit_type): row.points for row in listing.moc} == expected["moc"]
    assert listing.commercial_support is expected["commercial_support"]
    assert listing.activity_type == expected["activity_type"]
    assert listing.format == expected["format"]
    assert (listing.fee_kind, listing.fee_amount) == expected["fee"]
    assert listing.measured_outcomes == expected["outcomes"]
    assert (listing.providership, listing.joint_provider) == expected["providership"]
    assert (listing.registration, listing.registration_text) == expected["registration"]
    assert listing.specialties == expected["specialties"]
    if expected["title"] is None:
        assert listing.title_derived is True
        assert listing.title == "The activity reviews a topic"
    else:
        assert listing.title_derived is False
        assert listing.title == expected["title"]


# --- titles that begin like a spreadsheet formula ---------------------------------------------------------

padding = st.text(st.sampled_from(" \t"), max_size=5)


@FUZZ
@given(padding, st.sampled_from(FORMULA_PREFIXES[:4]), words, padding)
def test_title_beginning_like_a_formula_is_refused_by_name(before, prefix, rest, after):
    """Whatever spaces the parser strips around it, a stored title never begins with =, +, - or @."""
    text = SEED.replace("- Provider:", f"- Title:{before}{prefix}{rest}{after}\n- Provider:", 1)

    with pytest.raises(ListingError) as info:
        parse_listing(text)

    assert [error.field for error in info.value.errors] == ["Title"]
    assert "may not begin with" in info.value.errors[0].message


summary_text = st.lists(st.sampled_from([*"=+-@\t\r \n.,;:!?aZ\u00e9"]) | st.text(max_size=5), max_size=30)


@FUZZ
@given(summary_text.map("".join))
def test_derived_title_never_begins_like_a_formula(summary):
    assert not starts_like_formula(derive_title(summary))
    listing = check(f"{summary}\n" + SEED[SEED.index("- Provider:") :])
    if listing is not None and listing.title_derived:
        assert listing.title == derive_title(listing.summary)
