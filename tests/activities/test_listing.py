"""The listing parser against ``docs/listing-format.md``: every rule with a record it accepts and one it refuses.

Variants are built from the seed record with small, exact string replacements, so each test reads as
"the seed, except ...". Pure tests: no database.
"""

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from activities import moc
from activities.listing import (
    ACTIVITY_LINK,
    ACTIVITY_TYPE,
    COMMERCIAL_SUPPORT,
    CREDIT_DETAILS,
    END_DATE,
    FEE,
    FILE,
    FORMAT,
    MAX_FIELDS,
    MAX_LINE,
    MAX_PROBLEMS,
    MEASURED_OUTCOME,
    MOC_CREDIT_DETAILS,
    PROVIDER,
    PROVIDERSHIP,
    REGISTRATION,
    SPECIALTY,
    START_DATE,
    SUMMARY,
    TITLE,
    CreditLine,
    FieldError,
    ListingError,
    MocLine,
    parse_listing,
)
from activities.vocabulary import moc_credit_type_label

SEED_PATH = Path(__file__).resolve().parents[2] / "seeds" / "000_cd1b7cbbb4c31ee5.txt"
SEED = SEED_PATH.read_text(encoding="utf-8")

# The seed's own lines, so a variant can swap exactly one of them.
LINES = {
    PROVIDER: "- Provider:StatPearls, LLC",
    ACTIVITY_LINK: "- Activity Link: https://www.statpearls.com/ArticleLibrary/viewarticle/23719",
    START_DATE: "- Start Date: 2023-09-01 05:00:00",
    END_DATE: "- End Date: 2023-09-01 05:00:00",
    ACTIVITY_TYPE: "- Activity Type: Enduring Material",
    FORMAT: "- CME Finder Type: Online Learning",
    FEE: "- Fee to Participate: Variable",
    MEASURED_OUTCOME: "- Measured Outcome: Learner Knowledge, Learner/Team Competence",
    PROVIDERSHIP: "- Provider Ship: Directly Provided",
    REGISTRATION: "- Registration: Open to all",
    SPECIALTY: (
        "- Specialty: All Practice Areas (e.g. ethics), General Surgery, Pain Medicine, Surgery of the Spine"
    ),
}
CREDITS = (
    "IPCE Credits: 1.5 hours\n"
    "AMA PRA Category 1 Credit\u2122\ufe0f: 1.5 hours\n"
    "Nursing: 1.5 hours\n"
    "Pharmacy: 1.5 hours"
)
MOC = (
    "ABS - 1.5 Point; Credit Type(s): Accredited CME (ABS)\n"
    "ABOS - 1.5 Point; Credit Type(s): Accredited CME (ABOS)\n"
    "ABPATH - 1.5 Point; Credit Type(s): Lifelong Learning (ABPATH)\n"
    "ABA - 1.5 Point; Credit Type(s): Lifelong Learning (ABA)\n"
    "ABS - 1.5 Point; Credit Type(s): Self-Assessment (ABS)"
)
SEED_START = datetime(2023, 9, 1, 5, 0, tzinfo=UTC)


def variant(*replacements: tuple[str, str]) -> str:
    """The seed with each ``(old, new)`` applied; ``old`` must occur exactly once, so a typo fails loudly."""
    text = SEED
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the seed"
        text = text.replace(old, new)
    return text


def with_field(name: str, value: str) -> str:
    """The seed with one line field's value replaced."""
    return variant((LINES[name], f"- {name}: {value}"))


def with_dates(start: str, end: str, activity_type: str = "Enduring Material") -> str:
    return variant(
        (LINES[START_DATE], f"- Start Date: {start}"),
        (LINES[END_DATE], f"- End Date: {end}"),
        (LINES[ACTIVITY_TYPE], f"- Activity Type: {activity_type}"),
    )


def with_credits(*lines: str) -> str:
    return variant((CREDITS, "\n".join(lines)))


def with_moc(*lines: str) -> str:
    return variant((MOC, "\n".join(lines)))


def refuse(data: str | bytes) -> list[FieldError]:
    with pytest.raises(ListingError) as info:
        parse_listing(data)
    assert info.value.errors, "a ListingError names at least one field"
    return info.value.errors


def fields(errors: list[FieldError]) -> set[str]:
    return {error.field for error in errors}


def message(errors: list[FieldError], name: str) -> str:
    return " | ".join(error.message for error in errors if error.field == name)


@pytest.fixture(scope="module")
def seed_listing():
    return parse_listing(SEED)


# --- the seed ---------------------------------------------------------------------------------------------


def test_seed_parses_to_exactly_its_fields(seed_text):
    listing = parse_listing(seed_text)

    assert (
        listing.title == "Chronic pain is a complex condition characterized by changes in the nervous system"
    )
    assert listing.title_derived is True
    assert listing.summary.startswith("Chronic pain is a complex condition")
    assert listing.summary.endswith("to treat their pain or spasticity.")
    assert listing.provider == "StatPearls, LLC"
    assert listing.activity_link == "https://www.statpearls.com/ArticleLibrary/viewarticle/23719"
    assert listing.start == SEED_START
    assert listing.end == datetime(2026, 9, 1, 5, 0, tzinfo=UTC)
    assert listing.end_defaulted is True
    assert listing.credits == (
        CreditLine("ipce", Decimal("1.50")),
        CreditLine("ama_pra_1", Decimal("1.50")),
        CreditLine("nursing", Decimal("1.50")),
        CreditLine("pharmacy", Decimal("1.50")),
    )
    assert listing.moc == (
        MocLine("ABS", "accredited_cme", Decimal("1.50")),
        MocLine("ABOS", "accredited_cme", Decimal("1.50")),
        MocLine("ABPATH", "lifelong_learning", Decimal("1.50")),
        MocLine("ABA", "lifelong_learning", Decimal("1.50")),
        MocLine("ABS", "self_assessment", Decimal("1.50")),
    )
    assert listing.commercial_support is False
    assert listing.activity_type == "enduring"
    assert listing.format == "online"
    assert listing.fee_kind == "variable"
    assert listing.fee_amount is None
    assert listing.measured_outcomes == ("learner_knowledge", "learner_competence")
    assert listing.providership == "direct"
    assert listing.joint_provider == ""
    assert listing.registration == "open"
    assert listing.registration_text == "Open to all"
    assert listing.specialties == (
        "All Practice Areas (e.g. ethics)",
        "General Surgery",
        "Pain Medicine",
        "Surgery of the Spine",
    )
    assert listing.warnings == ()


def test_seed_as_text_and_as_bytes_parse_alike(seed_text):
    assert parse_listing(seed_text) == parse_listing(SEED)


# --- shape: colon spacing, encodings, line ends, field-name case --------------------------------------------


@pytest.mark.parametrize(
    "old, new",
    [
        (LINES[ACTIVITY_LINK], LINES[ACTIVITY_LINK].replace(": ", ":")),
        (LINES[FEE], LINES[FEE].replace(": ", ":")),
        (LINES[SPECIALTY], LINES[SPECIALTY].replace(": ", ":")),
        ("- Credit Details: IPCE", "- Credit Details:IPCE"),
        (" - MOC Credit Details: ABS", " - MOC Credit Details:ABS"),
        (" - Commercial Support: No", " - Commercial Support:No"),
        (LINES[PROVIDER], "- Provider:   StatPearls, LLC"),
    ],
)
def test_space_after_the_colon_is_optional(seed_listing, old, new):
    assert parse_listing(variant((old, new))) == seed_listing


def test_a_field_line_without_its_colon_is_not_a_field():
    errors = refuse(variant((LINES[PROVIDER], "- Provider StatPearls, LLC")))

    assert fields(errors) == {PROVIDER}
    assert "required" in message(errors, PROVIDER)


def test_utf8_byte_order_mark_is_ignored(seed_listing, seed_text):
    assert parse_listing(b"\xef\xbb\xbf" + seed_text) == seed_listing
    assert parse_listing("\ufeff" + SEED) == seed_listing


def test_utf16_file_is_refused_as_a_file():
    assert fields(refuse(SEED.encode("utf-16"))) == {FILE}


def test_crlf_line_ends_parse_like_lf(seed_listing):
    assert parse_listing(SEED.replace("\n", "\r\n").encode("utf-8")) == seed_listing
    assert parse_listing(SEED.replace("\n", "\r\n")) == seed_listing


def test_crlf_does_not_leak_into_error_messages():
    text = variant((LINES[END_DATE], "- End Date: 2023-13-45")).replace("\n", "\r\n")

    assert refuse(text) == [FieldError(END_DATE, "2023-13-45 is not a date")]


@pytest.mark.parametrize(
    "name",
    [
        "AMA PRA Category 1 Credit\u2122",
        "AMA PRA Category 1 Credit\u2122\ufe0f",
        "AMA PRA Category 1 Credit\u00ae",
        "AMA PRA Category 1 Credit",
        "ama pra category 1 credit(TM)",
    ],
)
def test_ama_credit_name_with_any_trademark_sign_or_none(seed_listing, name):
    listing = parse_listing(variant(("AMA PRA Category 1 Credit\u2122\ufe0f:", f"{name}:")))

    assert listing == seed_listing
    assert CreditLine("ama_pra_1", Decimal("1.50")) in listing.credits


def test_other_ama_category_is_not_a_credit_type():
    errors = refuse(variant(("AMA PRA Category 1 Credit\u2122\ufe0f:", "AMA PRA Category 2 Credit\u2122:")))

    assert fields(errors) == {CREDIT_DETAILS}
    assert "not a known credit type" in message(errors, CREDIT_DETAILS)


@pytest.mark.parametrize(
    "old, new",
    [
        (LINES[PROVIDER], "- PROVIDER:StatPearls, LLC"),
        ("- Activity Link:", "- activity link:"),
        ("- Start Date:", "- START DATE:"),
        ("- End Date:", "- end date:"),
        ("- Credit Details:", "- CREDIT details:"),
        (" - MOC Credit Details:", " - moc credit details:"),
        (" - Commercial Support:", " - COMMERCIAL SUPPORT:"),
        ("- Activity Type:", "- activity TYPE:"),
        ("- CME Finder Type:", "- cme finder type:"),
        ("- Fee to Participate:", "- FEE TO PARTICIPATE:"),
        ("- Measured Outcome:", "- measured outcome:"),
        ("- Provider Ship:", "- PROVIDER SHIP:"),
        ("- Registration:", "- registration:"),
        ("- Specialty:", "- sPeCiAlTy:"),
    ],
)
def test_field_names_match_in_any_case(seed_listing, old, new):
    assert parse_listing(variant((old, new))) == seed_listing


def test_a_misspelled_field_name_is_a_warning_and_the_field_is_then_missing():
    errors = refuse(variant((LINES[FEE], "- Fee to Particpate: Variable")))

    assert fields(errors) == {FEE}
    assert "required" in message(errors, FEE)


def test_non_ascii_text_is_kept():
    listing = parse_listing(variant((LINES[PROVIDER], "- Provider: Universit\u00e9 de Montr\u00e9al\u00ae")))

    assert listing.provider == "Universit\u00e9 de Montr\u00e9al\u00ae"


def test_decomposed_accents_are_normalised():
    listing = parse_listing(variant((LINES[PROVIDER], "- Provider: Universite\u0301 de Montre\u0301al")))

    assert listing.provider == "Universit\u00e9 de Montr\u00e9al"


# --- title ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "anchor",
    [LINES[PROVIDER], LINES[START_DATE], LINES[ACTIVITY_TYPE], LINES[REGISTRATION], LINES[SPECIALTY]],
)
def test_optional_title_line_anywhere_among_the_fields(seed_listing, anchor):
    listing = parse_listing(variant((anchor, f"- Title: Intrathecal Drug Delivery\u2122\n{anchor}")))

    assert listing.title == "Intrathecal Drug Delivery\u2122"
    assert listing.title_derived is False
    assert dataclasses.replace(listing, title=seed_listing.title, title_derived=True) == seed_listing


def test_title_line_after_the_last_field(seed_listing):
    listing = parse_listing(SEED + "\n- title: Intrathecal Drug Delivery")

    assert listing.title == "Intrathecal Drug Delivery"
    assert listing.title_derived is False
    assert listing.specialties == seed_listing.specialties


def test_title_given_twice_is_refused():
    text = variant((LINES[PROVIDER], f"- Title: One\n- Title: Two\n{LINES[PROVIDER]}"))
    errors = refuse(text)

    assert fields(errors) == {TITLE}
    assert "more than once" in message(errors, TITLE)


def test_overlong_title_is_refused():
    errors = refuse(variant((LINES[PROVIDER], f"- Title: {'x' * 301}\n{LINES[PROVIDER]}")))

    assert fields(errors) == {TITLE}
    assert "longer" in message(errors, TITLE)


def test_derived_title_is_the_first_sentence_only():
    listing = parse_listing(variant(("Chronic pain is a complex", "Pain hurts. Chronic pain is a complex")))

    assert listing.title == "Pain hurts"
    assert listing.title_derived is True


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
@pytest.mark.parametrize("padding", ["", " ", "   ", "\t", " \t "])
def test_title_beginning_like_a_spreadsheet_formula_is_refused(prefix, padding):
    """Registry files carry titles exactly: whatever the parser strips first, the stored title is judged."""
    title = f'{prefix}HYPERLINK("https://example.org","Intrathecal")'
    errors = refuse(variant((LINES[PROVIDER], f"- Title:{padding}{title}{padding}\n{LINES[PROVIDER]}")))

    assert fields(errors) == {TITLE}
    assert message(errors, TITLE) == (
        f"{title} begins with '{prefix}': a title may not begin with =, +, -, @, a tab or a line break"
    )


@pytest.mark.parametrize(
    "line, title",
    [
        ("- Title:\tIntrathecal Drug Delivery", "Intrathecal Drug Delivery"),
        ("- Title: \t  Intrathecal Drug Delivery \t", "Intrathecal Drug Delivery"),
        ("- Title:\r\nIntrathecal Drug Delivery", "Intrathecal Drug Delivery"),  # a CR is a line end
        ("- Title: Intrathecal = Drug - Delivery", "Intrathecal = Drug - Delivery"),
        ("- Title: 5-HT3 antagonists", "5-HT3 antagonists"),
        ("- Title: \u2212 5 \u00b0C storage", "\u2212 5 \u00b0C storage"),  # a minus sign is not a hyphen
    ],
)
def test_title_stored_without_a_formula_start_is_accepted(line, title):
    listing = parse_listing(variant((LINES[PROVIDER], f"{line}\n{LINES[PROVIDER]}")))

    assert listing.title == title
    assert listing.title_derived is False


@pytest.mark.parametrize(
    "start, title",
    [
        ("=HYPERLINK(1) Pain hurts. ", "HYPERLINK(1) Pain hurts"),
        ("- Pain hurts. ", "Pain hurts"),
        ("@@ + = - \t Pain hurts. ", "Pain hurts"),
        ("+1 for pain. ", "1 for pain"),
    ],
)
def test_title_derived_from_a_summary_never_begins_like_a_formula(start, title):
    listing = parse_listing(start + SEED)

    assert listing.title == title
    assert listing.title_derived is True
    assert listing.summary.startswith(start.strip())  # the summary itself is kept as written


def test_summary_with_no_words_for_a_title_needs_a_title_line():
    errors = refuse("=+-@ .\n" + SEED[SEED.index(LINES[PROVIDER]) :])

    assert fields(errors) == {TITLE}
    assert "required" in message(errors, TITLE)
    listing = parse_listing("=+-@ .\n- Title: Intrathecal\n" + SEED[SEED.index(LINES[PROVIDER]) :])
    assert listing.title == "Intrathecal"


# --- line length ------------------------------------------------------------------------------------------


def test_line_cap_leaves_room_for_a_long_summary():
    summary = ("Chronic pain is a complex condition. " * 400)[: MAX_LINE - 1] + "."
    assert len(summary) == MAX_LINE

    listing = parse_listing(summary + "\n" + SEED[SEED.index(LINES[PROVIDER]) :])

    assert listing.summary == summary
    assert listing.title == "Chronic pain is a complex condition"


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_line_longer_than_the_cap_is_refused_naming_the_line(line_end):
    text = variant((LINES[FEE], "- Fee to Participate: Variable" + " " * MAX_LINE + "x"))
    number = text.split("\n").index(next(line for line in text.split("\n") if len(line) > MAX_LINE)) + 1

    errors = refuse(text.replace("\n", line_end))

    assert errors == [FieldError(FILE, f"line {number} is longer than {MAX_LINE:,} characters")]
    assert number == SEED.split("\n").index(LINES[FEE]) + 1


def test_several_long_lines_are_counted_after_the_first():
    long = "x" * (MAX_LINE + 1)
    errors = refuse(f"{long}\nshort\n{long}\n{long}\n" + SEED)

    assert errors == [FieldError(FILE, f"line 1 is longer than {MAX_LINE:,} characters (and 2 more lines)")]


@pytest.mark.parametrize(
    "old, new",
    [
        (LINES[PROVIDER], "- Provider" + " " * 500 + ":StatPearls, LLC"),
        (LINES[PROVIDERSHIP], "- Provider" + "\t" * 500 + "Ship" + " " * 500 + ": Directly Provided"),
        (LINES[FORMAT], " \t " * 300 + "-" + " \t" * 300 + "CME Finder Type: Online Learning"),
        ("1.5 hours - MOC", "1.5 hours" + " " * 3000 + "-" + "\t" * 3000 + "MOC"),
        ("Nursing: 1.5 hours", "Nursing" + " " * 3000 + ":" + " " * 3000 + "1.5" + " " * 3000 + "hours"),
        (
            "Credit Type(s): Lifelong Learning (ABA)",
            "Credit Type(s)" + " " * 3000 + ": Lifelong Learning (ABA)",
        ),
        ("Accredited CME (ABS)\n", "Accredited CME" + " " * 3000 + "(ABS)\n"),
    ],
)
def test_long_runs_of_spaces_between_the_parts_of_a_line_change_nothing(seed_listing, old, new):
    assert parse_listing(variant((old, new))) == seed_listing


def test_more_fields_than_a_record_could_hold_are_refused_naming_the_line():
    notes = "".join(f"\n- Note {n}: x" for n in range(MAX_FIELDS - 14))  # the seed has 14 fields
    assert len(parse_listing(SEED + notes).warnings) == MAX_FIELDS - 14

    errors = refuse(SEED + notes + "\n- Note: one too many\n- Note: and another")

    number = len(SEED.split("\n")) + MAX_FIELDS - 14 + 1
    assert errors == [
        FieldError(FILE, f"has more than {MAX_FIELDS} fields (the next starts on line {number})")
    ]


def test_a_field_with_many_problems_reports_the_first_and_counts_the_rest():
    errors = refuse(with_credits(*[f"Bad line {n}" for n in range(MAX_PROBLEMS + 5)]))

    assert fields(errors) == {CREDIT_DETAILS}
    text = message(errors, CREDIT_DETAILS)
    assert text.count("is not '<credit type>: <amount> hours'") == MAX_PROBLEMS
    assert "'Bad line 0'" in text and f"'Bad line {MAX_PROBLEMS}'" not in text
    assert text.endswith("; and 5 more")


def test_a_long_line_is_quoted_short_in_its_error():
    errors = refuse(with_credits("Nursing: 1.5 hours", "x" * 5000))

    assert message(errors, CREDIT_DETAILS) == f"{'x' * 80!r}… is not '<credit type>: <amount> hours'"


@pytest.mark.parametrize(
    "old, new, name",
    [
        ("Nursing: 1.5 hours", "Nursing" + " " * 9000 + "x", CREDIT_DETAILS),
        ("Accredited CME (ABS)\n", "Accredited" + " " * 9000 + "CME\n", MOC_CREDIT_DETAILS),
        (LINES[FEE], LINES[FEE] + " " * 9000 + "x", FEE),
        (LINES[START_DATE], "- Start Date: 2023-09-01" + " " * 9000 + "05:00:00", START_DATE),
    ],
)
def test_long_runs_of_spaces_inside_a_value_are_refused_by_the_fields_name(old, new, name):
    assert fields(refuse(variant((old, new)))) == {name}


# --- summary ----------------------------------------------------------------------------------------------


def test_missing_summary_is_refused():
    errors = refuse(SEED[SEED.index(LINES[PROVIDER]) :])

    assert fields(errors) == {SUMMARY}
    assert "required" in message(errors, SUMMARY)


def test_summary_of_several_paragraphs_is_kept_whole():
    listing = parse_listing(
        "First paragraph here.\n\nSecond paragraph.\n" + SEED[SEED.index(LINES[PROVIDER]) :]
    )

    assert listing.summary == "First paragraph here.\n\nSecond paragraph."
    assert listing.title == "First paragraph here"


# --- unknown, missing, empty and repeated fields ----------------------------------------------------------


@pytest.mark.parametrize("anchor", [LINES[START_DATE], LINES[REGISTRATION]])
def test_unknown_field_is_a_warning_not_an_error(seed_listing, anchor):
    listing = parse_listing(variant((anchor, f"- Target Audience: Physicians, nurses\n{anchor}")))

    assert len(listing.warnings) == 1
    assert "Target Audience" in listing.warnings[0]
    assert "unknown" in listing.warnings[0]
    assert dataclasses.replace(listing, warnings=()) == seed_listing


def test_unknown_field_after_the_last_field_does_not_leak_into_it(seed_listing):
    listing = parse_listing(SEED + "\n- Audience: Physicians")

    assert listing.specialties == seed_listing.specialties
    assert any("Audience" in warning for warning in listing.warnings)


REMOVALS = {
    PROVIDER: (LINES[PROVIDER] + "\n", ""),
    ACTIVITY_LINK: (LINES[ACTIVITY_LINK] + "\n", ""),
    START_DATE: (LINES[START_DATE] + "\n", ""),
    END_DATE: (LINES[END_DATE] + "\n", ""),
    CREDIT_DETAILS: ("- Credit Details: " + CREDITS + " - MOC", "- MOC"),
    COMMERCIAL_SUPPORT: (" - Commercial Support: No", ""),
    ACTIVITY_TYPE: (LINES[ACTIVITY_TYPE] + "\n", ""),
    FORMAT: (LINES[FORMAT] + "\n", ""),
    FEE: (LINES[FEE] + "\n", ""),
    PROVIDERSHIP: (LINES[PROVIDERSHIP] + "\n", ""),
    REGISTRATION: (LINES[REGISTRATION] + "\n", ""),
    SPECIALTY: ("\n" + LINES[SPECIALTY], ""),
}


@pytest.mark.parametrize("name", list(REMOVALS))
def test_missing_required_field_is_refused_by_name(name):
    errors = refuse(variant(REMOVALS[name]))

    assert fields(errors) == {name}
    assert "required" in message(errors, name)


@pytest.mark.parametrize(
    "old, new, name",
    [
        (LINES[PROVIDER], "- Provider:", PROVIDER),
        (LINES[FEE], "- Fee to Participate:   ", FEE),
        (LINES[SPECIALTY], "- Specialty:", SPECIALTY),
        (" - Commercial Support: No", " - Commercial Support:", COMMERCIAL_SUPPORT),
        ("- Credit Details: " + CREDITS + " - MOC", "- Credit Details: - MOC", CREDIT_DETAILS),
    ],
)
def test_required_field_present_but_empty_is_refused(old, new, name):
    errors = refuse(variant((old, new)))

    assert fields(errors) == {name}
    assert "empty" in message(errors, name)


def test_measured_outcome_is_optional():
    assert parse_listing(variant((LINES[MEASURED_OUTCOME] + "\n", ""))).measured_outcomes == ()


@pytest.mark.parametrize(
    "name, extra",
    [
        (PROVIDER, "- Provider: Another Provider"),
        (FEE, "- Fee to Participate: Free"),
        (SPECIALTY, "- Specialty: Cardiology"),
        (END_DATE, "- End Date: 2024-09-01 05:00:00"),
    ],
)
def test_field_appearing_twice_is_refused(name, extra):
    errors = refuse(variant((LINES[REGISTRATION], f"{LINES[REGISTRATION]}\n{extra}")))

    assert fields(errors) == {name}
    assert "more than once" in message(errors, name)


def test_errors_are_collected_across_fields():
    errors = refuse(
        variant(
            (LINES[FEE], "- Fee to Participate: cheap"),
            (LINES[REGISTRATION], "- Registration: Closed"),
            (LINES[END_DATE], "- End Date: 2023-13-45"),
        )
    )

    assert fields(errors) == {FEE, REGISTRATION, END_DATE}


def test_problems_within_one_field_are_collected():
    errors = refuse(with_credits("Nursing: 0 hours", "Chiropractic: 1 hours", "IPCE Credits: 1.5 hours"))

    assert fields(errors) == {CREDIT_DETAILS}
    assert "Nursing" in message(errors, CREDIT_DETAILS)
    assert "Chiropractic" in message(errors, CREDIT_DETAILS)


# --- activity link ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link", ["https://example.org/activity/1", "http://example.org/a?b=c", "HTTPS://EXAMPLE.ORG"]
)
def test_absolute_http_link_is_accepted(link):
    assert parse_listing(with_field(ACTIVITY_LINK, link)).activity_link == link


@pytest.mark.parametrize(
    "link",
    ["ftp://x", "/relative", "not a url", "www.example.org/a", "http://", "https:///path", "mailto:a@b.c"],
)
def test_link_that_is_not_absolute_http_is_refused(link):
    errors = refuse(with_field(ACTIVITY_LINK, link))

    assert fields(errors) == {ACTIVITY_LINK}
    assert "URL" in message(errors, ACTIVITY_LINK)


# --- dates ------------------------------------------------------------------------------------------------


def test_dates_are_utc():
    listing = parse_listing(with_dates("2024-01-02 03:04:05", "2024-01-03 03:04:05", "Course"))

    assert listing.start == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert listing.end == datetime(2024, 1, 3, 3, 4, 5, tzinfo=UTC)
    assert listing.end_defaulted is False


def test_impossible_date_names_the_field_and_value():
    assert refuse(with_field(END_DATE, "2023-13-45")) == [FieldError(END_DATE, "2023-13-45 is not a date")]


@pytest.mark.parametrize(
    "value",
    [
        "09/01/2023 05:00:00",
        "2023-09-01T05:00:00",
        "2023-9-1 05:00:00",
        "23-09-01 05:00:00",
        "2023-09-01 05:00",
        "yesterday",
        "2023-02-29 05:00:00",
    ],
)
def test_wrongly_shaped_or_impossible_date_is_refused(value):
    errors = refuse(with_field(START_DATE, value))

    assert fields(errors) == {START_DATE}
    assert "not a date" in message(errors, START_DATE)


def test_date_without_time_is_refused_with_the_expected_form():
    errors = refuse(with_field(START_DATE, "2023-09-01"))

    assert errors == [FieldError(START_DATE, "2023-09-01 has no time (expected YYYY-MM-DD HH:MM:SS, in UTC)")]


def test_end_before_start_is_refused():
    errors = refuse(with_dates("2023-09-01 05:00:00", "2023-09-01 04:59:59", "Course"))

    assert fields(errors) == {END_DATE}
    assert "before" in message(errors, END_DATE)


def test_enduring_material_ending_before_its_release_is_refused_not_defaulted():
    errors = refuse(with_dates("2023-09-01 05:00:00", "2023-08-01 05:00:00"))

    assert fields(errors) == {END_DATE}
    assert "before" in message(errors, END_DATE)


def test_regularly_scheduled_series_of_exactly_twelve_months_is_accepted():
    listing = parse_listing(
        with_dates("2023-09-01 05:00:00", "2024-09-01 05:00:00", "Regularly Scheduled Series")
    )

    assert listing.activity_type == "rss"
    assert listing.end == datetime(2024, 9, 1, 5, 0, tzinfo=UTC)


def test_regularly_scheduled_series_longer_than_twelve_months_is_refused():
    errors = refuse(with_dates("2023-09-01 05:00:00", "2024-09-01 05:00:01", "Regularly Scheduled Series"))

    assert fields(errors) == {END_DATE}
    assert "12 months" in message(errors, END_DATE)


@pytest.mark.parametrize("activity_type", ["Enduring Material", "Internet Enduring Material"])
def test_enduring_material_of_exactly_three_years_is_accepted(activity_type):
    listing = parse_listing(with_dates("2023-09-01 05:00:00", "2026-09-01 05:00:00", activity_type))

    assert listing.end == datetime(2026, 9, 1, 5, 0, tzinfo=UTC)
    assert listing.end_defaulted is False


@pytest.mark.parametrize("activity_type", ["Enduring Material", "Internet Enduring Material"])
def test_enduring_material_longer_than_three_years_is_refused(activity_type):
    errors = refuse(with_dates("2023-09-01 05:00:00", "2026-09-01 05:00:01", activity_type))

    assert fields(errors) == {END_DATE}
    assert "3 years" in message(errors, END_DATE)


@pytest.mark.parametrize("activity_type", ["Enduring Material", "Internet Enduring Material"])
def test_enduring_material_without_expiry_defaults_to_three_years(activity_type):
    listing = parse_listing(with_dates("2024-02-29 00:00:00", "2024-02-29 00:00:00", activity_type))

    assert listing.end == datetime(2027, 2, 28, 0, 0, tzinfo=UTC)
    assert listing.end_defaulted is True


@pytest.mark.parametrize("activity_type", ["Course", "Regularly Scheduled Series", "Journal-based CME"])
def test_other_activity_with_end_equal_to_start_keeps_it(activity_type):
    listing = parse_listing(with_dates("2023-09-01 05:00:00", "2023-09-01 05:00:00", activity_type))

    assert listing.start == listing.end == SEED_START
    assert listing.end_defaulted is False


def test_enduring_default_expiry_past_year_9999_is_refused():
    errors = refuse(with_dates("9999-09-01 05:00:00", "9999-09-01 05:00:00", "Enduring Material"))

    assert fields(errors) == {START_DATE}
    assert "9999" in message(errors, START_DATE)


def test_series_whose_twelve_month_limit_falls_past_year_9999_is_judged_by_its_end():
    listing = parse_listing(
        with_dates("9999-09-01 05:00:00", "9999-12-31 05:00:00", "Regularly Scheduled Series")
    )

    assert listing.end == datetime(9999, 12, 31, 5, tzinfo=UTC)


def test_latest_date_is_accepted_where_no_limit_applies():
    listing = parse_listing(with_dates("9999-12-31 23:59:59", "9999-12-31 23:59:59", "Course"))

    assert listing.end == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


# --- credit details ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, code",
    [
        ("AMA PRA Category 1 Credit\u2122", "ama_pra_1"),
        ("IPCE Credits", "ipce"),
        ("Nursing", "nursing"),
        ("Pharmacy", "pharmacy"),
        ("AAPA Category 1 CME Credits", "aapa"),
        ("Social Work", "social_work"),
        ("Psychology", "psychology"),
        ("Dietetics", "dietetics"),
        ("Physical Therapy", "physical_therapy"),
        ("Optometry", "optometry"),
        ("Dental", "dental"),
    ],
)
def test_every_credit_type_in_the_format_is_accepted(name, code):
    assert parse_listing(with_credits(f"{name}: 2 hours")).credits == (CreditLine(code, Decimal("2.00")),)


@pytest.mark.parametrize("name", ["Chiropractic", "CME", "Category 1"])
def test_unknown_credit_type_is_refused(name):
    errors = refuse(with_credits("Nursing: 1.5 hours", f"{name}: 1.5 hours"))

    assert fields(errors) == {CREDIT_DETAILS}
    assert "not a known credit type" in message(errors, CREDIT_DETAILS)


@pytest.mark.parametrize(
    "amount, expected",
    [
        ("1.5", Decimal("1.50")),
        ("0.25", Decimal("0.25")),
        ("52", Decimal("52.00")),
        ("1.50", Decimal("1.50")),
    ],
)
@pytest.mark.parametrize(
    "name, code", [("Nursing", "nursing"), ("AMA PRA Category 1 Credit\u2122", "ama_pra_1")]
)
def test_positive_decimal_credit_amount_is_accepted(amount, expected, name, code):
    assert parse_listing(with_credits(f"{name}: {amount} hours")).credits == (CreditLine(code, expected),)


@pytest.mark.parametrize(
    "amount, words",
    [
        ("0", "greater than zero"),
        ("0.00", "greater than zero"),
        ("-1.5", "greater than zero"),
        ("one", "not a number"),
        ("1.5.0", "not a number"),
        ("1.505", "two decimal places"),
        ("0.001", "two decimal places"),
        ("1_5", "not a number"),
        ("1e1", "not a number"),
        ("NaN", "not a number"),
        ("Infinity", "not a number"),
    ],
)
def test_bad_credit_amount_is_refused(amount, words):
    errors = refuse(with_credits(f"Nursing: {amount} hours"))

    assert fields(errors) == {CREDIT_DETAILS}
    assert words in message(errors, CREDIT_DETAILS)


def test_ama_credit_must_be_a_multiple_of_a_quarter_hour():
    errors = refuse(with_credits("AMA PRA Category 1 Credit\u2122: 1.3 hours"))

    assert fields(errors) == {CREDIT_DETAILS}
    assert "multiple of 0.25" in message(errors, CREDIT_DETAILS)


def test_nursing_credit_may_be_any_hundredth():
    assert parse_listing(with_credits("Nursing: 1.3 hours")).credits == (
        CreditLine("nursing", Decimal("1.30")),
    )


@pytest.mark.parametrize(
    "repeat", ["Nursing: 2 hours", "nursing: 1.5 hours", "AMA PRA Category 1 Credit\u00ae: 1 hours"]
)
def test_credit_type_given_twice_is_refused(repeat):
    errors = refuse(variant((CREDITS, f"{CREDITS}\n{repeat}")))

    assert fields(errors) == {CREDIT_DETAILS}
    assert "more than once" in message(errors, CREDIT_DETAILS)


@pytest.mark.parametrize("line", ["IPCE Credits 1.5 hours", "1.5 hours", "Nursing: 1.5 hours extra"])
def test_malformed_credit_line_is_refused(line):
    errors = refuse(with_credits(line))

    assert fields(errors) == {CREDIT_DETAILS}


# --- MOC credit details -----------------------------------------------------------------------------------


def test_moc_credit_details_may_be_absent(seed_listing):
    listing = parse_listing(variant((" - MOC Credit Details: " + MOC, "")))

    assert listing.moc == ()
    assert listing.commercial_support is False
    assert dataclasses.replace(listing, moc=seed_listing.moc) == seed_listing


@pytest.mark.parametrize(
    "old, new",
    [
        (" - MOC Credit Details: " + MOC + " - Commercial", " - MOC Credit Details: - Commercial"),
        (" - MOC Credit Details: " + MOC + " - Commercial", " - MOC Credit Details:\n- Commercial"),
    ],
)
def test_moc_credit_details_may_be_present_and_empty(seed_listing, old, new):
    listing = parse_listing(variant((old, new)))

    assert listing.moc == ()
    assert dataclasses.replace(listing, moc=seed_listing.moc) == seed_listing


def test_same_board_on_several_lines_with_different_types():
    listing = parse_listing(
        with_moc(
            "ABIM - 1 Point; Credit Type(s): Medical Knowledge (ABIM)",
            "ABIM - 2 Points; Credit Type(s): Practice Assessment (ABIM)",
        )
    )

    assert listing.moc == (
        MocLine("ABIM", "medical_knowledge", Decimal("1.00")),
        MocLine("ABIM", "practice_assessment", Decimal("2.00")),
    )


def test_same_board_and_type_on_two_lines_is_refused():
    errors = refuse(
        with_moc(
            "ABIM - 1 Point; Credit Type(s): Medical Knowledge (ABIM)",
            "ABIM - 2 Points; Credit Type(s): Medical Knowledge (ABIM)",
        )
    )

    assert fields(errors) == {MOC_CREDIT_DETAILS}
    assert "more than once" in message(errors, MOC_CREDIT_DETAILS)


def test_one_moc_line_with_several_types():
    listing = parse_listing(
        with_moc("ABIM - 1.5 Points; Credit Type(s): Medical Knowledge (ABIM), Patient Safety (ABIM)")
    )

    assert listing.moc == (
        MocLine("ABIM", "medical_knowledge", Decimal("1.50")),
        MocLine("ABIM", "patient_safety", Decimal("1.50")),
    )


def test_moc_type_naming_another_board_is_refused():
    errors = refuse(
        with_moc("ABIM - 1.5 Points; Credit Type(s): Medical Knowledge (ABIM), Patient Safety (ABP)")
    )

    assert fields(errors) == {MOC_CREDIT_DETAILS}
    assert "different board" in message(errors, MOC_CREDIT_DETAILS)


def test_abpath_spelling_is_the_pathology_board():
    listing = parse_listing(with_moc("ABPath - 1.5 Point; Credit Type(s): Lifelong Learning (ABPath)"))

    assert listing.moc == (MocLine("ABPATH", "lifelong_learning", Decimal("1.50")),)


@pytest.mark.parametrize(
    "board",
    [
        *("ABA", "ABAI", "ABCRS", "ABD", "ABEM", "ABFM", "ABIM", "ABMGG", "ABNM", "ABO", "ABOHNS"),
        *("ABOS", "ABP", "ABPATH", "ABPMR", "ABPN", "ABPS", "ABR", "ABS", "ABTS", "ABU"),
    ],
)
def test_every_moc_board_in_the_format_is_accepted(board):
    kind = (moc.rule_for(board).credit_types or ("accredited_cme",))[0]
    label = moc_credit_type_label(kind)
    listing = parse_listing(with_moc(f"{board} - 1 Point; Credit Type(s): {label} ({board})"))

    assert listing.moc == (MocLine(board, kind, Decimal("1.00")),)


@pytest.mark.parametrize(
    "board, label, code",
    [
        ("ABIM", "Medical Knowledge", "medical_knowledge"),
        ("ABIM", "Practice Assessment", "practice_assessment"),
        ("ABIM", "Patient Safety", "patient_safety"),
        ("ABA", "Lifelong Learning", "lifelong_learning"),
        ("ABS", "Self-Assessment", "self_assessment"),
        ("ABS", "Accredited CME", "accredited_cme"),
        ("ABR", "Improvement in Medical Practice", "improvement_in_medical_practice"),
    ],
)
def test_every_moc_credit_type_in_the_format_is_accepted(board, label, code):
    listing = parse_listing(with_moc(f"{board} - 1 Point; Credit Type(s): {label} ({board})"))

    assert listing.moc == (MocLine(board, code, Decimal("1.00")),)


@pytest.mark.parametrize(
    "line, words",
    [
        ("ABXYZ - 1 Point; Credit Type(s): Accredited CME (ABXYZ)", "not a known MOC board"),
        ("ABIM - 1 Point; Credit Type(s): Wellness (ABIM)", "not a known MOC credit type"),
        ("ABIM - 0 Points; Credit Type(s): Medical Knowledge (ABIM)", "greater than zero"),
        ("ABIM - 1 Point; Credit Type(s): Medical Knowledge", "is not"),
        ("ABIM 1 Point Medical Knowledge", "is not"),
    ],
)
def test_bad_moc_line_is_refused(line, words):
    errors = refuse(with_moc(line))

    assert fields(errors) == {MOC_CREDIT_DETAILS}
    assert words in message(errors, MOC_CREDIT_DETAILS)


# --- commercial support -----------------------------------------------------------------------------------


@pytest.mark.parametrize("answer, expected", [("Yes", True), ("No", False), ("yes", True), ("NO", False)])
def test_commercial_support_yes_or_no(answer, expected):
    listing = parse_listing(variant(("Commercial Support: No", f"Commercial Support: {answer}")))

    assert listing.commercial_support is expected


@pytest.mark.parametrize("answer", ["Maybe", "N/A", "True", "Yes, by Acme"])
def test_commercial_support_other_than_yes_or_no_is_refused(answer):
    errors = refuse(variant(("Commercial Support: No", f"Commercial Support: {answer}")))

    assert fields(errors) == {COMMERCIAL_SUPPORT}
    assert "Yes or No" in message(errors, COMMERCIAL_SUPPORT)


# --- activity type and format -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label, code",
    [
        ("Course", "course"),
        ("Regularly Scheduled Series", "rss"),
        ("Internet Live Course", "internet_live"),
        ("Enduring Material", "enduring"),
        ("Internet Enduring Material", "internet_enduring"),
        ("Journal-based CME", "journal"),
        ("Manuscript Review", "manuscript_review"),
        ("Test-item Writing", "test_item_writing"),
        ("Committee Learning", "committee_learning"),
        ("Performance Improvement", "performance_improvement"),
        ("Internet Searching and Learning", "internet_searching"),
        ("Learning from Teaching", "learning_from_teaching"),
        ("Other/Blended Learning", "other_blended"),
    ],
)
def test_every_activity_type_in_the_format_is_accepted(label, code):
    assert parse_listing(with_field(ACTIVITY_TYPE, label)).activity_type == code


@pytest.mark.parametrize("label", ["Webinar", "Enduring Materials", "Live"])
def test_unknown_activity_type_is_refused(label):
    errors = refuse(with_field(ACTIVITY_TYPE, label))

    assert fields(errors) == {ACTIVITY_TYPE}
    assert "not an activity type" in message(errors, ACTIVITY_TYPE)


@pytest.mark.parametrize(
    "label, code",
    [
        ("Online Learning", "online"),
        ("In Person", "in_person"),
        ("Live Online", "live_online"),
        ("Blended", "blended"),
    ],
)
def test_every_format_in_the_format_is_accepted(label, code):
    assert parse_listing(with_field(FORMAT, label)).format == code


@pytest.mark.parametrize("label", ["Podcast", "Online Course"])
def test_unknown_format_is_refused(label):
    errors = refuse(with_field(FORMAT, label))

    assert fields(errors) == {FORMAT}
    assert "not a format" in message(errors, FORMAT)


# --- fee --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fee, kind, amount",
    [
        ("Free", "free", None),
        ("free", "free", None),
        ("Variable", "variable", None),
        ("$25.00", "fixed", Decimal("25.00")),
        ("25 USD", "fixed", Decimal("25.00")),
        ("$1,250", "fixed", Decimal("1250.00")),
    ],
)
def test_fee_free_variable_or_an_amount(fee, kind, amount):
    listing = parse_listing(with_field(FEE, fee))

    assert (listing.fee_kind, listing.fee_amount) == (kind, amount)


@pytest.mark.parametrize("fee", ["cheap", "25", "25 EUR", "$25.001", "$", "-$25", "Free or $10"])
def test_bad_fee_is_refused(fee):
    errors = refuse(with_field(FEE, fee))

    assert fields(errors) == {FEE}
    assert "not Free, Variable or an amount" in message(errors, FEE)


# --- measured outcome -------------------------------------------------------------------------------------


def test_all_measured_outcomes_are_accepted():
    listing = parse_listing(
        with_field(
            MEASURED_OUTCOME,
            "Learner Knowledge, Learner/Team Competence, Learner/Team Performance, Patient Health, "
            "Community/Population Health",
        )
    )

    assert listing.measured_outcomes == (
        "learner_knowledge",
        "learner_competence",
        "learner_performance",
        "patient_health",
        "community_health",
    )


@pytest.mark.parametrize("outcome", ["Learner Happiness", "Patient Satisfaction"])
def test_unknown_measured_outcome_is_refused(outcome):
    errors = refuse(with_field(MEASURED_OUTCOME, f"Learner Knowledge, {outcome}"))

    assert fields(errors) == {MEASURED_OUTCOME}
    assert outcome in message(errors, MEASURED_OUTCOME)
    assert "not a measured outcome" in message(errors, MEASURED_OUTCOME)


# --- provider ship ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, providership, partner",
    [
        ("Directly Provided", "direct", ""),
        ("Jointly Provided", "joint", ""),
        ("Jointly Provided by Acme Medical Society", "joint", "Acme Medical Society"),
        ("jointly provided BY Acme", "joint", "Acme"),
    ],
)
def test_provider_ship_direct_or_joint(value, providership, partner):
    listing = parse_listing(with_field(PROVIDERSHIP, value))

    assert (listing.providership, listing.joint_provider) == (providership, partner)


@pytest.mark.parametrize("value", ["Self Provided", "Directly", "Provided", "Co-provided"])
def test_bad_provider_ship_is_refused(value):
    errors = refuse(with_field(PROVIDERSHIP, value))

    assert fields(errors) == {PROVIDERSHIP}
    assert "Directly Provided or Jointly Provided" in message(errors, PROVIDERSHIP)


# --- registration -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, kind",
    [
        ("Open to all", "open"),
        ("Limited", "limited"),
        ("Limited to members", "limited"),
        ("open TO ALL", "open"),
    ],
)
def test_registration_open_or_limited_with_its_text(value, kind):
    listing = parse_listing(with_field(REGISTRATION, value))

    assert (listing.registration, listing.registration_text) == (kind, value)


@pytest.mark.parametrize("value", ["Closed", "Open", "Members only"])
def test_bad_registration_is_refused(value):
    errors = refuse(with_field(REGISTRATION, value))

    assert fields(errors) == {REGISTRATION}
    assert "Open to all or Limited" in message(errors, REGISTRATION)


# --- specialty --------------------------------------------------------------------------------------------


def test_comma_inside_parentheses_does_not_split_a_specialty():
    listing = parse_listing(with_field(SPECIALTY, "All Practice Areas (e.g. ethics, law), Pain Medicine"))

    assert listing.specialties == ("All Practice Areas (e.g. ethics, law)", "Pain Medicine")


def test_single_specialty_is_accepted():
    assert parse_listing(with_field(SPECIALTY, "Cardiology")).specialties == ("Cardiology",)


@pytest.mark.parametrize("value", [",", " , ,"])
def test_specialty_with_no_names_is_refused(value):
    errors = refuse(with_field(SPECIALTY, value))

    assert fields(errors) == {SPECIALTY}
    assert "at least one" in message(errors, SPECIALTY)


# --- files that are not listings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        "",
        b"   \n\t\r\n  ",
        "  \n\n\t ",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        SEED.encode("utf-8").replace(b"Nursing", b"Nurs\x00ing"),
        SEED.replace("Nursing", "Nurs\x00ing"),
        b"\xff\xfe\xfd not utf-8",
        SEED.encode("latin-1", errors="replace").replace(b"Provider", b"Provid\xe9r"),
    ],
    ids=[
        "empty-bytes",
        "empty-text",
        "whitespace-bytes",
        "whitespace-text",
        "binary",
        "seed-with-nul-bytes",
        "seed-with-nul-text",
        "invalid-utf8",
        "latin1",
    ],
)
def test_file_that_is_not_a_text_listing_is_refused_as_a_file(data):
    errors = refuse(data)

    assert fields(errors) == {FILE}
