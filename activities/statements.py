"""The accreditation statements certificates and activity pages print, in each accreditor's words.

Plain data and functions over an activity and its provider; no queries of their own beyond what the
caller has loaded. ``{provider}`` and ``{joint}`` are filled in by ``fill`` (which leaves any other text,
braces included, as written, so a statement edited by staff can never fail to print).

Sources, as read:

- ACCME direct providership: "[provider] is accredited by the Accreditation Council for Continuing Medical
  Education (ACCME) to provide continuing medical education for physicians." (ACCME Accreditation Statement
  policy, as quoted by accredited providers, e.g. American College of Clinical Pharmacology, "ACPE/ACCME
  Accreditation", accp1.org/Members/Continuing_Education/CE_Accreditation).
- ACCME joint providership: "This activity has been planned and implemented in accordance with the
  accreditation requirements and policies of the Accreditation Council for Continuing Medical Education
  (ACCME) through the joint providership of (accredited provider) and (nonaccredited provider). The
  (accredited provider) is accredited by the ACCME to provide continuing medical education for
  physicians." (ACCME, "Joint Providership", accme.org/accreditation-rules/policies/joint-providership).
- Joint Accreditation, its own statement and the joint-providership variant, which "must stand alone from
  any other statement ... and must be separated by a line from any other statements" ("ACCME/ACPE/ANCC
  Policies for Jointly Accredited Providers", scribd.com/doc/265462390/joint-accreditation-policies). That
  copy of the policy names the accreditors in the order ANCC, ACPE, ACCME; the statement jointly accredited
  providers print today names them ACCME, ACPE, ANCC ("jointly accredited by", with all three). The order
  and the verb of the current wording could not be confirmed from a published JA page here: the default
  below follows current use, and staff can edit it per provider.
- IPCE: "This activity was planned by and for the healthcare team, and learners will receive (INSERT #)
  Interprofessional Continuing Education (IPCE) credit for learning and change." (Joint Accreditation,
  "Designation of Credits", jointaccreditation.org/designation-credits; "Credit Requirements & IPCE Credit
  Mark", jointaccreditation.org/credit-requirements-ipce-credit-mark). The statement lives in the IPCE
  credit type (``vocabulary.CREDIT_TYPES``).
- ACPE: "(Name of provider) is accredited by the Accreditation Council for Pharmacy Education as a
  provider of continuing pharmacy education." (ACPE FAQ, Policy on Reference to Accreditation, mirrored at
  credit-help.pro/credit/37093). ACPE does not distribute statements of credit; credit is recorded in the
  pharmacist's NABP e-Profile through CPE Monitor (same FAQ; NABP, "CPE Monitor", nabp.net/programs/
  cpe-monitor; Clinical Care Options, clinicaloptions.com/content/newcerequirements, policy since 2014).
  One CEU is ten contact hours (0.1 CEU per contact hour).
- ANCC: "[provider] is accredited as a provider of nursing continuing professional development by the
  American Nurses Credentialing Center's Commission on Accreditation." ANCC renamed continuing nursing
  education "nursing continuing professional development" (NCPD, ANCC's accreditation FAQ); the exact
  sentence could not be confirmed from a published ANCC page here, so it is editable per provider.
- AAPA, authorized providers (jointly accredited providers): "[provider] has been authorized by the
  American Academy of PAs (AAPA) to award AAPA Category 1 CME credit for activities planned in accordance
  with AAPA CME Criteria." AAPA-reviewed activities: the Review Panel wording with the approval dates and
  AAPA reference number. Neither wording could be confirmed from a published AAPA page here (aapa.org's
  accreditation pages describe the one-year approval from the activity start and the approval language but
  do not print it); both follow the wording providers print, and the authorized one is editable.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from activities import moc, vocabulary

PROVIDER = "{provider}"
JOINT = "{joint}"
PLACEHOLDERS = (PROVIDER, JOINT)

ACCME_DIRECT = (
    "{provider} is accredited by the Accreditation Council for Continuing Medical Education (ACCME) to "
    "provide continuing medical education for physicians."
)
ACCME_JOINT = (
    "This activity has been planned and implemented in accordance with the accreditation requirements and "
    "policies of the Accreditation Council for Continuing Medical Education (ACCME) through the joint "
    "providership of {provider} and {joint}. {provider} is accredited by the ACCME to provide continuing "
    "medical education for physicians."
)
JA_DIRECT = (
    "In support of improving patient care, {provider} is jointly accredited by the Accreditation Council for "
    "Continuing Medical Education (ACCME), the Accreditation Council for Pharmacy Education (ACPE), and the "
    "American Nurses Credentialing Center (ANCC), to provide continuing education for the healthcare team."
)
JA_JOINT = (
    "This activity has been planned and implemented by {provider} and {joint} for the advancement of "
    "patient care. {provider} is jointly accredited by the Accreditation Council for Continuing Medical "
    "Education (ACCME), the Accreditation Council for Pharmacy Education (ACPE), and the American Nurses "
    "Credentialing Center (ANCC), to provide continuing education for the healthcare team."
)
ANCC = (
    "{provider} is accredited as a provider of nursing continuing professional development by the American "
    "Nurses Credentialing Center's Commission on Accreditation."
)
ACPE = (
    "{provider} is accredited by the Accreditation Council for Pharmacy Education as a provider of "
    "continuing pharmacy education."
)
AAPA_AUTHORIZED = (
    "{provider} has been authorized by the American Academy of PAs (AAPA) to award AAPA Category 1 CME "
    "credit for activities planned in accordance with AAPA CME Criteria."
)
# Not editable: the reviewed wording is AAPA's, filled with the approval on the activity's designation.
AAPA_REVIEWED = (
    "This activity has been reviewed by the AAPA Review Panel and is compliant with AAPA CME Criteria. This "
    "activity is designated for {amount} AAPA Category 1 CME credits. Approval is valid from {start} to "
    "{end}. PAs should only claim credit commensurate with the extent of their participation. AAPA "
    "reference number: {reference}."
)
CPE_MONITOR_NOTE = (
    "ACPE credit is recorded in the pharmacist's NABP e-Profile through CPE Monitor, which holds the "
    "official record of the credit; this certificate is not a statement of credit."
)

AMA_CREDIT_NAMES = ("AMA PRA Category 1 Credits", "AMA PRA Category 1 Credit")


def fill(text: str, **values: Any) -> str:
    """``text`` with each ``{name}`` of ``values`` replaced; any other brace is left as written."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def unknown_placeholders(text: str, allowed: Iterable[str] = PLACEHOLDERS) -> list[str]:
    """The ``{...}`` in ``text`` that ``fill`` would not replace, for a form to name."""
    found, start = [], text.find("{")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            break
        token = text[start : end + 1]
        if token not in allowed and token not in found:
            found.append(token)
        start = text.find("{", end)
    return found


def italic_credit_name(escaped: str) -> str:
    """Escaped text with the AMA credit name in ``<i>``: the AMA asks for the full name in italics with the
    trademark sign (AMA PRA booklet; MeetingsNet, "Alliance meeting follow-up: AMA credit system update",
    2006). Works on ReportLab Paragraph markup and on HTML alike."""
    for name in AMA_CREDIT_NAMES:
        if name in escaped:
            return escaped.replace(name, f"<i>{name}</i>")
    return escaped


def ceus(hours: Decimal) -> Decimal:
    """ACPE continuing education units: 0.1 CEU per contact hour, to the hundredth of a unit."""
    return (hours / 10).quantize(Decimal("0.001")).normalize()


@dataclass
class Statements:
    """What an activity's accreditation says: ``ja`` stands alone (separated by a line); ``others`` follow."""

    ja: str = ""
    others: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [s for s in (self.ja, *self.others) if s]


def _joint_names(activity) -> str:
    names = activity.joint_provider_names()
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def accreditation_statements(activity, *, codes: Iterable[str] | None = None) -> Statements:
    """The accreditation statements ``activity`` prints, for the credit types ``codes`` (all it designates
    when None): a jointly accredited provider's JA statement (direct or joint), otherwise ACCME's (direct or
    joint) for AMA credit, ANCC's for nursing, ACPE's for pharmacy, and the AAPA authorization for AAPA
    credit when the provider holds it; and any other statement the provider keeps."""
    provider = activity.provider
    wanted = set(codes if codes is not None else (c.credit_type_id for c in activity.credits.all()))
    joint = activity.providership == "joint"
    values = {"provider": provider.name, "joint": _joint_names(activity)}
    found = Statements()
    if provider.joint_accreditation:
        text = JA_JOINT if joint else provider.ja_statement
        found.ja = fill(text, **values)
    else:
        if vocabulary.AMA_PRA_1 in wanted and provider.accme_accredited:
            found.others.append(fill(ACCME_JOINT if joint else provider.accme_statement, **values))
        if "nursing" in wanted and provider.ancc_accredited:
            found.others.append(fill(provider.ancc_statement, **values))
        if "pharmacy" in wanted and provider.acpe_accredited:
            found.others.append(fill(provider.acpe_statement, **values))
    if "aapa" in wanted and provider.aapa_authorized:
        found.others.append(fill(provider.aapa_statement, **values))
    if provider.accreditation_statement:
        found.others.append(fill(provider.accreditation_statement, **values))
    return found


def moc_statements(rows: Iterable[tuple[str, str, Decimal]]) -> list[str]:
    """Each board's required MOC statement (``moc.BOARD_RULES``: ABIM's), filled with the points and their
    credit types, for ``rows`` of ``(board, MOC credit type, points)``: an activity's approvals, or the MOC a
    learner claimed."""
    by_board: dict[str, list[tuple[str, Decimal]]] = {}
    for board, kind, points in rows:
        by_board.setdefault(board, []).append((kind, points))
    found = []
    for board in sorted(by_board):
        text = moc.rule_for(board).statement
        if not text:
            continue
        kinds = " and ".join(dict.fromkeys(vocabulary.moc_credit_type_label(k) for k, _ in by_board[board]))
        points = max(p for _, p in by_board[board])
        found.append(fill(text, points=f"{points:.2f}", credit_types=kinds))
    return found


def aapa_reviewed_statement(designation) -> str:
    """The AAPA Review Panel statement of a designation AAPA reviewed (``""`` when it has no approval)."""
    if not designation.aapa_reference:
        return ""
    return fill(
        AAPA_REVIEWED,
        amount=f"{designation.max_amount:.2f}",
        start=_day(designation.aapa_valid_from),
        end=_day(designation.aapa_valid_until),
        reference=designation.aapa_reference,
    )


def _day(moment: date | None) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}" if moment else "—"


# The accreditation each credit type needs, where Joint Accreditation does not cover it:
# credit type -> (the provider's flag, its statement field, what it is called).
_ACCREDITATION_FOR = {
    vocabulary.AMA_PRA_1: ("accme_accredited", "accme_statement", "ACCME accreditation"),
    "nursing": ("ancc_accredited", "ancc_statement", "ANCC accreditation"),
    "pharmacy": ("acpe_accredited", "acpe_statement", "ACPE accreditation"),
}


def publishing_problems(activity) -> list[str]:
    """What ``activity`` lacks before it may be published: the statements its provider's accreditations and
    its credit types need. Empty when it may be published."""
    provider = activity.provider
    codes = {d.credit_type_id: d for d in activity.credits.all()}
    problems = []
    ja = provider.joint_accreditation
    if ja and not provider.ja_statement.strip():
        problems.append("the provider's Joint Accreditation statement is empty")
    if activity.providership == "joint" and not activity.joint_provider_names():
        problems.append("a jointly provided activity must name its joint provider")
    if "ipce" in codes and not ja:
        problems.append("IPCE credit is awarded only by jointly accredited providers")
    for code, (flag, statement, called) in _ACCREDITATION_FOR.items():
        if code not in codes or ja:
            continue
        name = vocabulary.credit_type_label(code)
        if not getattr(provider, flag):
            problems.append(f"{name} needs the provider's {called} (or Joint Accreditation)")
        elif not getattr(provider, statement).strip():
            problems.append(f"the provider's {called} statement is empty")
    if "pharmacy" in codes and not codes["pharmacy"].activity_number.strip():
        problems.append("ACPE credit needs its Universal Activity Number (UAN)")
    if "aapa" in codes:
        problems.extend(_aapa_problems(provider, codes["aapa"]))
    return problems


def _aapa_problems(provider, designation) -> list[str]:
    if designation.aapa_reference:
        if not (designation.aapa_valid_from and designation.aapa_valid_until):
            return ["an AAPA-reviewed designation needs its approval dates"]
        return []
    if not provider.aapa_authorized:
        return [
            "AAPA Category 1 CME credit needs the provider's AAPA authorization or the AAPA reference "
            "number of the activity's review"
        ]
    if not provider.aapa_statement.strip():
        return ["the provider's AAPA statement is empty"]
    return []
