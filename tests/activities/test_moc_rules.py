"""Each board's MOC records from the credit claimed (``activities.moc.records``): examples from the boards'
rules, and properties over any approvals and any claim."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activities import moc
from activities.vocabulary import MOC_BOARD_CODES

D = Decimal
LL, PS, MK, SA, CME = (
    "lifelong_learning",
    "patient_safety",
    "medical_knowledge",
    "self_assessment",
    "accredited_cme",
)


# Examples


def test_abim_points_follow_the_credit_claimed_not_the_approval():
    assert moc.records("ABIM", [(MK, D("8.00"))], D("0.25")) == [(D("0.25"), (MK,))]


def test_abim_records_one_per_credit_type_each_capped():
    assert moc.records("ABIM", [(MK, D("6.25")), (PS, D("2.00"))], D("5.50")) == [
        (D("5.50"), (MK,)),
        (D("2.00"), (PS,)),
    ]


def test_aba_partial_patient_safety_is_two_records_summing_to_the_cme_claimed():
    assert moc.records("ABA", [(LL, D("6.25")), (PS, D("2.00"))], D("5.50")) == [
        (D("3.50"), (LL,)),
        (D("2.00"), (PS,)),
    ]


def test_aba_patient_safety_for_the_whole_activity_is_one_record():
    assert moc.records("ABA", [(LL, D("2.00")), (PS, D("2.00"))], D("1.50")) == [(D("1.50"), (PS,))]


def test_abs_is_one_amount_with_its_credit_types():
    assert moc.records("ABS", [(CME, D("1.50")), (SA, D("1.50"))], D("1.00")) == [(D("1.00"), (CME, SA))]


def test_abp_takes_the_whole_points_only_for_the_whole_activity():
    # A 1.5-credit activity is registered for 2 ABP points (the CME credit rounded to the nearest whole).
    assert moc.records("ABP", [(LL, D("2"))], D("1.50")) == [(D("2"), (LL,))]
    assert moc.records("ABP", [(LL, D("2"))], D("1.25")) == []  # no partial credit
    assert moc.records("ABP", [(LL, D("3"))], D("3.00")) == [(D("3"), (LL,))]


def test_nothing_claimed_earns_nothing():
    assert moc.records("ABIM", [(MK, D("1"))], D("0")) == []
    assert moc.records("ABIM", [], D("1")) == []


@pytest.mark.parametrize("board", ["ABA", "ABIM", "ABOHNS", "ABOS", "ABP", "ABPATH", "ABS", "ABTS"])
def test_the_pars_boards(board):
    assert board in moc.PARS_BOARDS


def test_only_the_eight_pars_boards():
    assert {"ABA", "ABIM", "ABOHNS", "ABOS", "ABP", "ABPATH", "ABS", "ABTS"} == moc.PARS_BOARDS
    assert not moc.rule_for("ABFM").pars


# Properties

quarters = st.integers(min_value=1, max_value=400).map(lambda n: D(n) / 4)
boards = st.sampled_from(sorted(MOC_BOARD_CODES))


@st.composite
def approvals_and_claim(draw):
    """A board, approvals it could hold (its credit types, whole points for ABP) and an AMA claim at most the
    designation (approvals at most the designation too, as providers register them)."""
    board = draw(boards)
    rule = moc.rule_for(board)
    designated = draw(quarters)
    kinds = draw(
        st.lists(st.sampled_from(rule.credit_types or (MK, CME, SA)), min_size=1, max_size=3, unique=True)
    )
    found = []
    for kind in kinds:
        points = draw(quarters.filter(lambda p: p <= designated))
        if rule.whole_points:
            points = max(D(1), designated.to_integral_value(ROUND_HALF_UP))
        found.append((kind, points))
    claimed = draw(quarters.filter(lambda c: c <= designated))
    return board, found, claimed


@given(approvals_and_claim())
def test_points_never_exceed_the_credit_claimed_nor_the_approval(case):
    """ABP's whole points may pass the credit claimed by the rounding ABP applies; ABA's records follow the
    CME claimed rather than the approval."""
    board, approvals, claimed = case
    most = max(p for _, p in approvals)
    for points, kinds in moc.records(board, approvals, claimed):
        assert points > 0 and kinds
        if not moc.rule_for(board).sums_to_cme:  # ABA's records sum to the CME claimed, whatever approved
            assert points <= most
        if moc.rule_for(board).whole_points:
            # ABP rounds the CME credit to the nearest whole point: never more than that rounding.
            assert points <= claimed.to_integral_value(ROUND_HALF_UP)
        else:
            assert points <= claimed


@given(approvals_and_claim())
def test_abp_points_are_whole_and_all_or_nothing(case):
    _, approvals, claimed = case
    approvals = [(LL, p.to_integral_value(ROUND_HALF_UP) or D(1)) for _, p in approvals[:1]]
    found = moc.records("ABP", approvals, claimed)
    assert found in ([], [(approvals[0][1], (LL,))])
    assert all(points == points.to_integral_value() for points, _ in found)


@given(st.lists(quarters, min_size=1, max_size=2), quarters, st.booleans())
def test_aba_records_sum_to_the_cme_claimed(points, claimed, with_safety):
    designated = max([*points, claimed])
    approvals = [(LL, designated)] + ([(PS, min(points))] if with_safety else [])
    found = moc.records("ABA", approvals, claimed)
    assert sum(p for p, _ in found) == claimed
    assert len({kinds for _, kinds in found}) == len(found)  # one record per kind, as ClaimedMoc stores them


@given(st.lists(st.sampled_from([CME, SA]), min_size=1, max_size=2, unique=True), quarters, quarters)
def test_abs_is_one_amount(kinds, approved, claimed):
    found = moc.records("ABS", [(kind, approved) for kind in kinds], claimed)
    assert len(found) == 1
    assert found[0] == (min(approved, claimed), tuple(kinds))


@given(approvals_and_claim())
def test_stored_rows_regroup_into_the_same_records(case):
    """ClaimedMoc keeps one row per (board, credit type) with its record's points; reading the rows back
    through ``records`` with the same claim gives the same records."""
    board, approvals, claimed = case
    found = moc.records(board, approvals, claimed)
    rows = [(kind, points) for points, kinds in found for kind in kinds]
    assert moc.records(board, rows, claimed) == found
