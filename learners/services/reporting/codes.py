"""The registries' own codes, in one table each, with where each was read; and the pharmacy checks.

PARS (ACCME) and CPE Monitor (ACPE/NABP) take codes of their own, not our labels. What was read:

- ACCME's draft learner-report schema (``accme-pars-learner-reports.schema_v0_5.json``, an ACCME-authored
  draft published at github.com/elliottACCME/tempSchema; read from a public copy): one record per learner
  completion, each credit a ``UniqueID`` (``domain``: "NPI, certifying board or licensing state code (e.g.
  NPI, ABIM, ABA, CA, NY)", and the learner's number in it) with ``activityCertification`` ("the category of
  points being awarded. (See board-specific values.)"), unit ``Point`` and ``numberOfCredits`` in steps of
  0.25; the provider's ACCME-issued 7-digit ID, the ACCME-issued 9-digit activity ID, the completion date,
  the birth date, and ``LearnerRecordAction`` ``add`` or ``delete``.
- The board-specific ``activityCertification`` values themselves are not in that schema, and the tables
  of ACCME's "PARS Tab-delimited Participant Upload Instructions, Learner Template B" (ACCME doc 736,
  https://vdocuments.mx/overview-contents-accreditation-council-for-continuing-apr-23-2020-.html) and its
  successor "Excel Template Instructions for Submitting Learner Completion Data"
  (http://accme.org/resource/excel-learner-upload-instructions/) could not be read in the published
  copies found. The codes below are therefore the boards' own abbreviations of their credit types, each
  marked ``confirmed=False``; a provider confirms them against the template in their PARS account (README,
  "Reporting to the registries").
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from activities import acpe, moc, vocabulary
from activities.models import CreditDesignation


@dataclass(frozen=True)
class Code:
    code: str
    source: str
    confirmed: bool = False


SCHEMA = "ACCME draft learner-report schema v0.5 (elliottACCME/tempSchema)"
ABS_LISTING = (
    "PARS MOC listing wording 'ABS Point: 1; Credit Type(s): CME, SA' (accreditation audit, claim rules)"
)
BOARD_ABBREVIATION = "the board's own abbreviation of its MOC credit type; not read in a PARS code table"

# Our credit type code -> PARS activityCertification for CME credit.
CREDIT_CODES: dict[str, Code] = {
    vocabulary.AMA_PRA_1: Code("AMA PRA Category 1", "AMA's credit name; not read in a PARS code table"),
}

# (board, our MOC credit type) -> PARS activityCertification. Boards outside ``moc.PARS_BOARDS`` have none.
MOC_CODES: dict[tuple[str, str], Code] = {
    ("ABA", moc.LIFELONG_LEARNING): Code("LL", BOARD_ABBREVIATION),
    ("ABA", moc.PATIENT_SAFETY): Code("PS", BOARD_ABBREVIATION),
    ("ABIM", moc.MEDICAL_KNOWLEDGE): Code("MK", BOARD_ABBREVIATION),
    ("ABIM", moc.PRACTICE_ASSESSMENT): Code("PA", BOARD_ABBREVIATION),
    ("ABIM", moc.PATIENT_SAFETY): Code("PS", BOARD_ABBREVIATION),
    ("ABOHNS", moc.SELF_ASSESSMENT): Code("SA", BOARD_ABBREVIATION),
    ("ABOHNS", moc.ACCREDITED_CME): Code("CME", BOARD_ABBREVIATION),
    ("ABOS", moc.ACCREDITED_CME): Code("CME", BOARD_ABBREVIATION),
    ("ABOS", moc.SELF_ASSESSMENT): Code("SA", BOARD_ABBREVIATION),
    ("ABP", moc.LIFELONG_LEARNING): Code("LL", BOARD_ABBREVIATION),
    ("ABPATH", moc.LIFELONG_LEARNING): Code("LL", BOARD_ABBREVIATION),
    ("ABPATH", moc.SELF_ASSESSMENT): Code("SA", BOARD_ABBREVIATION),
    ("ABS", moc.ACCREDITED_CME): Code("CME", ABS_LISTING),
    ("ABS", moc.SELF_ASSESSMENT): Code("SA", ABS_LISTING),
    ("ABTS", moc.ACCREDITED_CME): Code("CME", BOARD_ABBREVIATION),
    ("ABTS", moc.SELF_ASSESSMENT): Code("SA", BOARD_ABBREVIATION),
}

# The ``domain`` of a learner's identifier (schema: "NPI, certifying board or licensing state code").
NPI_DOMAIN = "NPI"


def board_domain(board: str) -> str:
    """The board as PARS names it in an identifier's domain (``ABPath``, ``ABIM``)."""
    return vocabulary.board_abbreviation(board)


def moc_code(board: str, credit_type: str) -> str:
    """PARS's code for the board's MOC credit type; the type's label when the table has none."""
    found = MOC_CODES.get((board, credit_type))
    return found.code if found else vocabulary.moc_credit_type_label(credit_type)


def credit_code(credit_type: str) -> str:
    found = CREDIT_CODES.get(credit_type)
    return found.code if found else vocabulary.credit_type_label(credit_type)


# --- CPE Monitor ------------------------------------------------------------------------------------------

# The action of a CPE Monitor record. ``I`` (insert) is what a public integration of ACPE's web service
# sends (``SubmitCPEActivityJSON?...&action=I``); ``D`` for a delete is not confirmed in the published
# material read.
CPE_ACTIONS = {"add": Code("I", "public CPE Monitor web-service integration", True), "delete": Code("D", "")}

# Which UAN ending a profession's credit goes on (the UAN's target-audience letter: activities.acpe).
AUDIENCE_OF = {
    vocabulary.Profession.PHARMACIST: acpe.PHARMACIST,
    vocabulary.Profession.PHARMACY_TECHNICIAN: acpe.TECHNICIAN,
}


def uan_problem(designation: CreditDesignation | None, profession: str) -> str | None:
    """Why a learner of ``profession`` cannot have pharmacy credit of ``designation`` reported to CPE Monitor
    (None when they can): the designation needs a valid UAN for their audience (P for a pharmacist, T for a
    pharmacy technician), its provider part the provider's ACPE number when the provider has one."""
    if designation is None:
        return _("The activity designates no pharmacy credit.")
    audience = AUDIENCE_OF.get(profession)
    if audience is None:
        return _("Only pharmacists and pharmacy technicians are reported to CPE Monitor.")
    number = designation.activity.provider.acpe_provider_number
    for text in (designation.activity_number, designation.technician_activity_number):
        if text and acpe.uan_error(text, provider_number=number):
            return str(acpe.uan_error(text, provider_number=number))
    uan = designation.uans().get(audience)
    if uan is None:
        if audience == acpe.TECHNICIAN:
            return _("The activity has no UAN for pharmacy technicians (ending in T).")
        return _("The activity has no UAN for pharmacists (ending in P).")
    return None


def uan_for(designation: CreditDesignation, profession: str) -> str:
    """The UAN a learner of ``profession`` is reported on ("" when ``uan_problem`` says why not)."""
    return designation.uans().get(AUDIENCE_OF.get(profession, ""), "")
