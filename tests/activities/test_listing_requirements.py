"""The optional ``Completion Requirements`` field (``docs/listing-format.md``): a post-test with its passing score
and attempts, an evaluation, or None; every bad value is refused naming the field. Pure tests: no database."""

import pytest

from activities.listing import (
    COMPLETION_REQUIREMENTS,
    SPECIALTY,
    ListingError,
    PostTestLine,
    parse_listing,
)
from tests.activities.test_listing import SEED, fields, message, refuse


def with_requirements(value: str, *, after: str = "") -> str:
    """The seed with a Completion Requirements line after its last field (or after the line ``after``)."""
    line = f"- {COMPLETION_REQUIREMENTS}: {value}"
    if after:
        assert SEED.count(after) == 1
        return SEED.replace(after, f"{after}\n{line}")
    return f"{SEED}\n{line}"


def test_the_seed_names_none_so_it_asks_for_nothing():
    listing = parse_listing(SEED)

    assert listing.post_test is None
    assert listing.evaluation is False


@pytest.mark.parametrize(
    ("value", "post_test", "evaluation"),
    [
        ("Post-test 70 %, Evaluation", PostTestLine(70, None), True),
        ("Post-test 70 % (3 attempts), Evaluation", PostTestLine(70, 3), True),
        ("Evaluation, Post-test 80% (1 attempt)", PostTestLine(80, 1), True),
        ("post test 100 % (unlimited attempts)", PostTestLine(100, None), False),
        ("POST-TEST 1 %", PostTestLine(1, None), False),
        ("Posttest 75 %", PostTestLine(75, None), False),
        ("evaluation", None, True),
        ("None", None, False),
        ("  Post-test   70   %  ,   Evaluation  ", PostTestLine(70, None), True),
    ],
)
def test_values_it_accepts(value, post_test, evaluation):
    listing = parse_listing(with_requirements(value))

    assert listing.post_test == post_test
    assert listing.evaluation is evaluation
    assert listing.warnings == ()


def test_the_field_may_appear_anywhere_among_the_fields_and_its_name_in_any_case():
    text = with_requirements("Evaluation", after="- Provider Ship: Directly Provided").replace(
        COMPLETION_REQUIREMENTS, "completion REQUIREMENTS"
    )

    listing = parse_listing(text)

    assert listing.evaluation is True
    assert listing.providership == "direct"
    assert listing.specialties[-1] == "Surgery of the Spine"  # the field ended the one before it, no more


def test_an_empty_field_asks_for_nothing():
    listing = parse_listing(with_requirements(""))

    assert listing.post_test is None and listing.evaluation is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Post-test", "'Post-test' is not 'Post-test <passing score> %'"),
        ("Post-test 70", "'Post-test 70' is not 'Post-test <passing score> %'"),
        ("Post-test seventy %", "'Post-test seventy %' is not 'Post-test <passing score> %'"),
        ("Post-test 70.5 %", "'Post-test 70.5 %' is not 'Post-test <passing score> %'"),
        ("Post-test 0 %", "the post-test's passing score, 0 %, is not between 1 and 100 %"),
        ("Post-test 101 %", "the post-test's passing score, 101 %, is not between 1 and 100 %"),
        ("Post-test 9999999 %", "'Post-test 9999999 %' is not 'Post-test <passing score> %'"),
        ("Post-test 70 % (0 attempts)", "the post-test's attempts, 0, are not between 1 and 100"),
        ("Post-test 70 % (101 attempts)", "the post-test's attempts, 101, are not between 1 and 100"),
        ("Post-test 70 % (some attempts)", "is not 'Post-test <passing score> %', optionally followed by"),
        ("Post-test 70 %, Post-test 80 %", "Post-test appears more than once"),
        ("Evaluation, Evaluation", "Evaluation appears more than once"),
        ("Pre-test", "'Pre-test' is not 'Post-test <passing score> %', 'Evaluation' or 'None'"),
        ("Evaluations", "'Evaluations' is not 'Post-test <passing score> %', 'Evaluation' or 'None'"),
        ("None, Evaluation", "None cannot be listed with other requirements"),
        ("Post-test 70 % and Evaluation", "is not 'Post-test <passing score> %'"),
    ],
)
def test_bad_values_are_refused_naming_the_field(value, expected):
    errors = refuse(with_requirements(value))

    assert fields(errors) == {COMPLETION_REQUIREMENTS}
    assert expected in message(errors, COMPLETION_REQUIREMENTS)
    assert str(errors[0]).startswith(f"{COMPLETION_REQUIREMENTS}: ")


def test_every_problem_of_the_field_is_named_at_once_beside_other_fields_problems():
    text = with_requirements("Pre-test, Post-test 0 %, Evaluation, Evaluation").replace(
        "- Specialty: All Practice Areas (e.g. ethics), General Surgery, Pain Medicine, Surgery of the Spine",
        "- Specialty: ",
    )

    errors = refuse(text)

    assert fields(errors) == {COMPLETION_REQUIREMENTS, SPECIALTY}
    problems = message(errors, COMPLETION_REQUIREMENTS)
    assert "'Pre-test' is not" in problems
    assert "passing score, 0 %" in problems
    assert "Evaluation appears more than once" in problems


def test_the_field_twice_is_refused():
    text = with_requirements("Evaluation") + f"\n- {COMPLETION_REQUIREMENTS}: Post-test 70 %"

    with pytest.raises(ListingError) as info:
        parse_listing(text)

    assert [str(e) for e in info.value.errors] == [f"{COMPLETION_REQUIREMENTS}: appears more than once"]
