"""Each certifying board's rules for MOC points: plain data, no Django.

One row per board the portal knows (``vocabulary.MOC_BOARDS``). What a row says, and where it comes from:

- ``pars``: the board takes MOC through ACCME's PARS. Only these boards' points are reported in the
  accreditor file; the others' approvals are shown to learners but reported by the learner or the board
  (ACCME, "Submit Data via Batch Upload or Web Services", accme.org/resource/submit-data-via-batch-upload-or-
  web-services: ABA, ABIM, ABOHNS, ABOS, ABP, ABPath, ABS, ABTS).
- ``credit_types``: the MOC credit types the board registers activities for (ACCME, "CME for Maintenance of
  Certification Program Guide", Table 1: MOC Credit Type Language).
- ``whole_points``: points are whole numbers, no partial or variable credit (ABP; accme.org/faq/8080 and
  ACCME, "Tips and data submission reminders for CME that counts for MOC").
- ``sums_to_cme``: the board's records for one completion add up to the CME credit claimed; a partial
  patient-safety portion is two records, the rest and the patient-safety part (ABA; ACCME FAQ "How do I
  report the number of Patient Safety Credits that an ABA diplomate has earned?").
- ``one_amount``: one point amount carries all the credit types the activity is registered for, rather
  than a record per type (ABS: "ABS Point: 1; Credit Type(s): CME, SA" in PARS).
- ``statement``: wording the board requires wherever its points are offered (ABIM: "use of the MOC
  statement is mandatory", accme.org/cme-counts-abim-moc).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

MEDICAL_KNOWLEDGE = "medical_knowledge"
PRACTICE_ASSESSMENT = "practice_assessment"
PATIENT_SAFETY = "patient_safety"
LIFELONG_LEARNING = "lifelong_learning"
SELF_ASSESSMENT = "self_assessment"
ACCREDITED_CME = "accredited_cme"
IMPROVEMENT_IN_MEDICAL_PRACTICE = "improvement_in_medical_practice"


@dataclass(frozen=True)
class BoardRule:
    code: str
    pars: bool = False
    credit_types: tuple[str, ...] = ()  # empty: any MOC credit type (a board not reported through PARS)
    whole_points: bool = False
    sums_to_cme: bool = False
    one_amount: bool = False
    statement: str = ""
    sources: tuple[str, ...] = field(default=())


ABIM_STATEMENT = (
    "Successful completion of this CME activity, which includes participation in the evaluation component, "
    "enables the participant to earn up to {points} {credit_types} MOC points in the American Board of "
    "Internal Medicine's (ABIM) Maintenance of Certification (MOC) program. It is the CME activity "
    "provider's responsibility to submit participant completion information to ACCME for the purpose of "
    "granting ABIM MOC credit."
)

BOARD_RULES: dict[str, BoardRule] = {
    rule.code: rule
    for rule in (
        BoardRule("ABA", pars=True, credit_types=(LIFELONG_LEARNING, PATIENT_SAFETY), sums_to_cme=True),
        BoardRule(
            "ABIM",
            pars=True,
            credit_types=(MEDICAL_KNOWLEDGE, PRACTICE_ASSESSMENT, PATIENT_SAFETY),
            statement=ABIM_STATEMENT,
        ),
        BoardRule("ABOHNS", pars=True, credit_types=(SELF_ASSESSMENT, ACCREDITED_CME)),
        BoardRule("ABOS", pars=True, credit_types=(ACCREDITED_CME, SELF_ASSESSMENT), one_amount=True),
        BoardRule("ABP", pars=True, credit_types=(LIFELONG_LEARNING,), whole_points=True),
        BoardRule("ABPATH", pars=True, credit_types=(LIFELONG_LEARNING, SELF_ASSESSMENT), one_amount=True),
        BoardRule("ABS", pars=True, credit_types=(ACCREDITED_CME, SELF_ASSESSMENT), one_amount=True),
        BoardRule("ABTS", pars=True, credit_types=(ACCREDITED_CME, SELF_ASSESSMENT), one_amount=True),
    )
}
PARS_BOARDS = frozenset(code for code, rule in BOARD_RULES.items() if rule.pars)


def rule_for(board: str) -> BoardRule:
    """The board's rule; a board without one here takes any credit type and is not reported through PARS."""
    return BOARD_RULES.get(board) or BoardRule(board)


def credit_type_problem(board: str, credit_type: str) -> str | None:
    """Why ``board`` does not register activities for ``credit_type`` (None when it does)."""
    rule = rule_for(board)
    if rule.credit_types and credit_type not in rule.credit_types:
        from activities import vocabulary

        allowed = ", ".join(vocabulary.moc_credit_type_label(c) for c in rule.credit_types)
        return (
            f"{vocabulary.board_abbreviation(board)} does not award "
            f"{vocabulary.moc_credit_type_label(credit_type)} MOC points; it awards {allowed}."
        )
    return None


def records(
    board: str, approvals: Iterable[tuple[str, Decimal]], claimed: Decimal
) -> list[tuple[Decimal, tuple[str, ...]]]:
    """The board's MOC records for a learner who claimed ``claimed`` CME credit at an activity approved for
    ``approvals`` (``(MOC credit type, points)``): ``[(points, credit types)]``, in the board's shape.

    Points never exceed the credit claimed (nor the approval). ABA: records sum to the CME claimed, the
    patient-safety portion (at most the approval's) first taken out of it. ABP: whole points, rounded down.
    ABS and boards like it: one amount carrying all the credit types.
    """
    rule = rule_for(board)
    approved = [(kind, min(points, claimed)) for kind, points in approvals if points > 0]
    if not approved or claimed <= 0:
        return []
    if rule.sums_to_cme:
        safety = min((p for k, p in approved if k == PATIENT_SAFETY), default=Decimal(0))
        rest = claimed - safety
        found: list[tuple[Decimal, tuple[str, ...]]] = []
        other = next((k for k, _ in approved if k != PATIENT_SAFETY), LIFELONG_LEARNING)
        if rest > 0:
            found.append((rest, (other,)))
        if safety > 0:
            found.append((safety, (PATIENT_SAFETY,)))
        return found
    if rule.one_amount:
        points = max(p for _, p in approved)
        points = _whole(points) if rule.whole_points else points
        return [(points, tuple(k for k, _ in approved))] if points > 0 else []
    found = []
    for kind, points in approved:
        points = _whole(points) if rule.whole_points else points
        if points > 0:
            found.append((points, (kind,)))
    return found


def _whole(points: Decimal) -> Decimal:
    return points.to_integral_value(rounding=ROUND_FLOOR)
