"""Each certifying board's rules for MOC points: plain data, no Django.

One row per board the portal knows (``vocabulary.MOC_BOARDS``). What a row says, and where it comes from:

- ``pars``: the board takes MOC through ACCME's PARS. Only these boards' points are reported in the
  accreditor file; the others' approvals are shown to learners but reported by the learner or the board
  (ACCME, "Submit Data via Batch Upload or Web Services", accme.org/resource/submit-data-via-batch-upload-or-
  web-services: ABA, ABIM, ABOHNS, ABOS, ABP, ABPath, ABS, ABTS).
- ``credit_types``: the MOC credit types the board registers activities for (ACCME, "CME for Maintenance of
  Certification Program Guide", Table 1: MOC Credit Type Language).
- ``whole_points``: points are whole numbers and there is no partial or variable credit: every learner who
  completes the activity earns the points it is registered for, and completion is reported once (ABP:
  "ABP MOC points are equivalent to the number of CME credits awarded. All MOC points awarded must be rounded
  to the nearest whole number", accme.org/faq/8080; "the ABP is unable to accept variable, partial or
  repeating credit", ACCME, "Tips and Data Submission Reminders for CME that Counts for MOC",
  accme.org/highlights/tips-and-data-submission-reminders-for-cme-counts-for-moc; "Partial credit will not
  be awarded to participants", ACCME, "Can I report partial credit for participants that have not earned the
  maximum amount of credit available for the ABP MOC activity?", accme.org/ask-accme/can-i-report-partial-
  credit-participants-have-not-earned-maximum-amount-credit-available).
- ``sums_to_cme``: the board's records for one completion add up to the CME credit claimed; a partial
  patient-safety portion is two records, the rest and the patient-safety part (ABA; ACCME FAQ "How do I
  report the number of Patient Safety Credits that an ABA diplomate has earned?").
- ``one_amount``: one point amount carries all the credit types the activity is registered for, rather
  than a record per type (ABS: "Activities with self-assessment will be denoted with 'SA' (e.g., ABS Point: 1;
  ABS Credit Type(s) CME, SA)", American Board of Surgery, "CME", absurgery.org/stay-certified/ongoing-
  certification-requirements/cme/). ABS takes "Accredited CME and Self-Assessment (Accredited CME with
  Evaluation and Feedback)" (ACCME, "Available Now: Register Your CME Activities for American Board of Surgery
  Continuous Certification", accme.org/highlights). ABOS, ABPath and ABTS are given the same shape as ABS
  because CME Finder lists them the same way ("ABOS - 1.5 Point; Credit Type(s): Accredited CME (ABOS)", the
  seed listing); that their PARS learner record is one amount is not confirmed by a published text.
- ``statement``: wording the board requires wherever its points are offered (ABIM: "use of the MOC
  statement is mandatory", accme.org/cme-counts-abim-moc).

The credit types of ABIM (Medical Knowledge and Practice Assessment: "some providers have registered
activities for Practice Assessment (Part IV) points, when they should be registered for Medical Knowledge
(Part II) points", ACCME tips above; its Patient Safety credit is kept from the foundation table but was not
confirmed from a page read), ABA (Lifelong Learning, i.e. MOCA, and Patient Safety: ACCME
FAQ above), ABP (Lifelong Learning and Self-Assessment, MOC Part 2: accme.org/faq/8080) and ABS (above) are
confirmed from those pages. ABOHNS (Self-Assessment, Accredited CME), ABOS (Accredited CME, Self-Assessment),
ABPath (Lifelong Learning, Self-Assessment) and ABTS (Accredited CME, Self-Assessment) follow the Program
Guide's Table 1 as its mirrors index it (readkong.com/page/cme-for-maintenance-of-certification-program-guide-
accme-7752851); the table's text itself could not be read, so these four pairs are unconfirmed.

How many points a learner earns: the CME credit the points follow is the AMA PRA Category 1 Credit™ the
learner claimed (MOC is for physicians). ABIM: "Typically, the number of ABIM MOC points will be equivalent to
the number of CME credits designated ... it is acceptable for the MOC points to be less" (ACCME FAQ "How do I
determine the number of MOC points available for my ABIM Practice Assessment activity?",
accme.org/faq/how-do-i-determine-number-moc-points-available-for-my-abim-practice-assessment-activity); for
ABIM, ABA, ABO, ABOHNS and ABPath a provider "may offer learners the opportunity to earn different numbers of
credits for the same activity, depending on their engagement" (accme.org/faq/7921).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

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
    """The board's MOC records for a learner who claimed ``claimed`` AMA PRA Category 1 Credit™ at an activity
    approved for ``approvals`` (``(MOC credit type, points)``): ``[(points, credit types)]``, in the board's
    shape; empty when the learner earns none.

    - Points never exceed the credit claimed nor the approval, except ABP's and ABA's (below).
    - ABA: the records sum to the CME claimed: the patient-safety portion (at most its approval) is one
      record and the rest another; patient safety for the whole of it is one record.
    - ABP: the approval's whole points (rounded to the nearest, as the ABP rounds CME credit), and only for a
      learner whose claim, rounded the same way, reaches them: no partial credit.
    - ABS and boards like it: one amount carrying all the credit types.

    ``ClaimedMoc`` stores the result as one row per (board, credit type), each with its record's points;
    calling ``records`` again with those rows as ``approvals`` and the same ``claimed`` gives the same records
    (ABS's rows regroup into one record), which is how the ledger and the certificate read them.
    """
    rule = rule_for(board)
    approved = [(kind, points) for kind, points in approvals if points > 0]
    if not approved or claimed <= 0:
        return []
    if rule.whole_points:
        points = _nearest(max(p for _, p in approved))
        if points <= 0 or _nearest(claimed) < points:
            return []
        return [(points, tuple(dict.fromkeys(k for k, _ in approved)))]
    approved = [(kind, min(points, claimed)) for kind, points in approved]
    if rule.sums_to_cme:
        # "The total of the two lines will equal the total number of CME granted" (ACCME FAQ above): the CME
        # claimed, whatever the non-patient-safety approval says.
        total = claimed
        safety = min((p for k, p in approved if k == PATIENT_SAFETY), default=Decimal(0))
        found: list[tuple[Decimal, tuple[str, ...]]] = []
        other = next((k for k, _ in approved if k != PATIENT_SAFETY), LIFELONG_LEARNING)
        if total - safety > 0:
            found.append((total - safety, (other,)))
        if safety > 0:
            found.append((safety, (PATIENT_SAFETY,)))
        return found
    if rule.one_amount:
        return [(max(p for _, p in approved), tuple(dict.fromkeys(k for k, _ in approved)))]
    return [(points, (kind,)) for kind, points in approved]


def approval_problem(board: str, credit_type: str, points: Decimal | None) -> tuple[str, str] | None:
    """Why an activity cannot be approved for ``points`` of ``credit_type`` with ``board``, as
    ``("credit_type" | "points", message)``; None when it can. The listing importer and the admin both ask."""
    problem = credit_type_problem(board, credit_type)
    if problem:
        return "credit_type", problem
    if points is not None and rule_for(board).whole_points and points != points.to_integral_value():
        from activities import vocabulary

        return "points", (
            f"{vocabulary.board_abbreviation(board)} MOC points are whole numbers (the CME credit rounded to "
            f"the nearest whole number), not {points.normalize():f}."
        )
    return None


def _nearest(points: Decimal) -> Decimal:
    return points.to_integral_value(rounding=ROUND_HALF_UP)


def allowed_credit_types() -> list[tuple[str, tuple[str, ...]]]:
    """``[(board, MOC credit types it awards)]`` for the boards with rules, as forms and docs list them."""
    return [(code, rule.credit_types) for code, rule in BOARD_RULES.items() if rule.credit_types]
