"""The CME vocabulary the listing format and the models share: plain data, no Django.

Codes are stable identifiers stored in the database; labels are the names listings and people use.
``lookup_key`` folds the spellings that listings vary in (case, spacing, punctuation, trademark signs).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

_TRADEMARKS = re.compile("[\u2122\u00ae\u00a9\ufe0f]|\\(tm\\)|\\(r\\)", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192)  # listings repeat the same few names: field names, credit types, boards
def lookup_key(text: str) -> str:
    """``'AMA PRA Category 1 Credit™️'`` and ``'ama pra category 1 credit'`` fold to the same key."""
    return _NOT_ALNUM.sub("", _TRADEMARKS.sub("", text).lower())


LIVE = "live"
ENDURING = "enduring"
OTHER = "other"


@dataclass(frozen=True)
class ActivityType:
    code: str
    label: str
    kind: str  # LIVE: learners take part in real time; ENDURING: whenever they choose; OTHER: neither
    noun: str = "activity"  # as the AMA designation statement names the learning format


ACTIVITY_TYPES = (
    ActivityType("course", "Course", LIVE, "live activity"),
    ActivityType("rss", "Regularly Scheduled Series", LIVE, "live activity"),
    ActivityType("internet_live", "Internet Live Course", LIVE, "live activity"),
    ActivityType("enduring", "Enduring Material", ENDURING, "enduring material"),
    ActivityType("internet_enduring", "Internet Enduring Material", ENDURING, "enduring material"),
    ActivityType("journal", "Journal-based CME", OTHER, "journal-based CME activity"),
    # The AMA's names of its learning formats, as the designation statement must name them (AMA, "The
    # Physician's Recognition Award and credit system", 2010 update and later editions; AOE Consulting, "AMA
    # updates to the PRA credit system, part III", aoeconsulting.com: live activities, enduring materials,
    # journal-based CME, test-item writing, manuscript review, performance improvement and Internet
    # point-of-care activities). The AMA calls "Internet searching and learning" Internet point-of-care;
    # committee learning, learning from teaching and other/blended learning are the ACCME's formats, and
    # ACCME FAQ 8471 (accme.org/faq/8471) asks that learner documentation name "other/blended" learning.
    ActivityType("manuscript_review", "Manuscript Review", OTHER, "manuscript review activity"),
    ActivityType("test_item_writing", "Test-item Writing", OTHER, "test-item writing activity"),
    ActivityType("committee_learning", "Committee Learning", OTHER, "committee learning activity"),
    ActivityType(
        "performance_improvement", "Performance Improvement", OTHER, "performance improvement activity"
    ),
    ActivityType(
        "internet_searching", "Internet Searching and Learning", OTHER, "internet point-of-care activity"
    ),
    ActivityType(
        "learning_from_teaching", "Learning from Teaching", OTHER, "learning from teaching activity"
    ),
    ActivityType("other_blended", "Other/Blended Learning", OTHER, "other/blended learning activity"),
)
ACTIVITY_TYPE_BY_CODE = {t.code: t for t in ACTIVITY_TYPES}
ACTIVITY_TYPE_CHOICES = [(t.code, t.label) for t in ACTIVITY_TYPES]
RSS = "rss"

FORMAT_CHOICES = [
    ("online", "Online Learning"),
    ("in_person", "In Person"),
    ("live_online", "Live Online"),
    ("blended", "Blended"),
]


class Profession:
    PHYSICIAN = "physician"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    PHARMACY_TECHNICIAN = "pharmacy_technician"  # ACPE credit on UANs ending in T (or P and T)
    PHYSICIAN_ASSISTANT = "physician_assistant"
    PSYCHOLOGIST = "psychologist"
    SOCIAL_WORKER = "social_worker"
    DIETITIAN = "dietitian"
    PHYSICAL_THERAPIST = "physical_therapist"
    OPTOMETRIST = "optometrist"
    DENTIST = "dentist"
    OTHER = "other"


PROFESSION_CHOICES = [
    (Profession.PHYSICIAN, "Physician (MD/DO)"),
    (Profession.NURSE, "Nurse"),
    (Profession.PHARMACIST, "Pharmacist"),
    (Profession.PHARMACY_TECHNICIAN, "Pharmacy technician"),
    (Profession.PHYSICIAN_ASSISTANT, "Physician assistant (PA)"),
    (Profession.PSYCHOLOGIST, "Psychologist"),
    (Profession.SOCIAL_WORKER, "Social worker"),
    (Profession.DIETITIAN, "Dietitian"),
    (Profession.PHYSICAL_THERAPIST, "Physical therapist"),
    (Profession.OPTOMETRIST, "Optometrist"),
    (Profession.DENTIST, "Dentist"),
    (Profession.OTHER, "Other health professional"),
]
ALL_PROFESSIONS = tuple(code for code, _ in PROFESSION_CHOICES)


@dataclass(frozen=True)
class CreditTypeSpec:
    code: str
    listing_name: str  # as listings spell it
    name: str  # display name
    unit: str
    increment: Decimal
    professions: tuple[str, ...]
    designation_statement: str  # placeholders: {provider}, {amount}, {format} (the activity noun)
    aliases: tuple[str, ...] = ()


AMA_PRA_1 = "ama_pra_1"

# Claim increments (the step a designation and a claim move in):
# - AMA PRA Category 1 Credit™: 0.25 (AMA, "The AMA Physician's Recognition Award and credit system": credit is
#   designated and claimed in quarter credits).
# - AAPA Category 1 CME: 0.25 ("clock hours, rounded to the nearest quarter hour", AAPA, "CME Accreditation",
#   aapa.org/cme/cme-accreditation/).
# - IPCE: 0.25, as PARS and JA-PARS take credit amounts "in increments of 0.25" (ACCME draft PARS activity
#   schema, accme-pars-activity.schema_v0_1_2.json).
# - ANCC nursing and ACPE pharmacy contact hours: 0.25 unless the provider sets a finer step
#   (``Provider.contact_hour_increment``, one of ``CONTACT_HOUR_INCREMENTS``). ANCC asks that contact hours be
#   "determined in a logical and defensible manner, with one contact hour = 60 minutes" (an ANCC-accredited
#   approver's FAQ, coloradonurses.org/faqs-2/) and fixes no step; ACPE's contact hours convert to CEUs at
#   0.1 CEU an hour, and a published ACPE or CPE Monitor rule on the smallest step could not be found, so the
#   provider's own practice (quarter hours, half hours, tenths or hundredths) decides.
# - The others (ASWB, APA, CDR, physical therapy, COPE, ADA CERP) keep 0.01: their rules were not checked.

CREDIT_TYPES = (
    CreditTypeSpec(
        AMA_PRA_1,
        "AMA PRA Category 1 Credit™",
        "AMA PRA Category 1 Credit™",
        "credits",
        Decimal("0.25"),
        (Profession.PHYSICIAN,),
        # AMA's designation statement, with "Credits" (not "Credit(s)") and the name in italics where it is
        # printed (statements.italic_credit_name): AMA PRA booklet; MeetingsNet 2006.
        "{provider} designates this {format} for a maximum of {amount} AMA PRA Category 1 Credits™. "
        "Physicians should claim only the credit commensurate with the extent of their participation "
        "in the activity.",
        aliases=("AMA PRA Category 1 Credits", "AMA PRA Category 1"),
    ),
    CreditTypeSpec(
        "ipce",
        "IPCE Credits",
        "IPCE Credit",
        "credits",
        Decimal("0.25"),
        ALL_PROFESSIONS,
        # Joint Accreditation's words exactly: no "a maximum of", no "credit(s)"
        # (jointaccreditation.org/designation-credits).
        "This activity was planned by and for the healthcare team, and learners will receive {amount} "
        "Interprofessional Continuing Education (IPCE) credit for learning and change.",
        aliases=("IPCE Credit", "IPCE"),
    ),
    CreditTypeSpec(
        "nursing",
        "Nursing",
        "ANCC Nursing Contact Hours",
        "contact hours",
        Decimal("0.25"),
        (Profession.NURSE,),
        # ANCC awards contact hours and has no "claim only" sentence; the wording of the award itself could
        # not be confirmed from a published ANCC page, so it states the amount plainly.
        "This activity is awarded a maximum of {amount} nursing contact hours.",
        aliases=("ANCC", "Nursing Contact Hours"),
    ),
    CreditTypeSpec(
        "pharmacy",
        "Pharmacy",
        "ACPE Pharmacy Contact Hours",
        "contact hours",
        Decimal("0.25"),
        (Profession.PHARMACIST, Profession.PHARMACY_TECHNICIAN),
        "This activity is approved for {amount} contact hours of continuing pharmacy education.",
        aliases=("ACPE", "Pharmacy Contact Hours"),
    ),
    CreditTypeSpec(
        "aapa",
        "AAPA Category 1 CME Credits",
        "AAPA Category 1 CME Credit",
        "credits",
        Decimal("0.25"),
        (Profession.PHYSICIAN_ASSISTANT,),
        # The authorization sentence is the provider's (Provider.aapa_statement, statements.AAPA_AUTHORIZED);
        # an AAPA-reviewed activity prints the Review Panel wording instead (statements.AAPA_REVIEWED).
        "This activity is designated for {amount} AAPA Category 1 CME credits. PAs should only claim credit "
        "commensurate with the extent of their participation.",
        aliases=("AAPA Category 1 CME Credit", "AAPA"),
    ),
    CreditTypeSpec(
        "social_work",
        "Social Work",
        "ASWB ACE Social Work Credit",
        "continuing education credits",
        Decimal("0.01"),
        (Profession.SOCIAL_WORKER,),
        "{provider} is approved to offer social work continuing education through the Association of "
        "Social Work Boards (ASWB) Approved Continuing Education (ACE) program. Social workers completing "
        "this activity receive a maximum of {amount} continuing education credits.",
        aliases=("ASWB", "ASWB ACE"),
    ),
    CreditTypeSpec(
        "psychology",
        "Psychology",
        "APA Psychology CE Credit",
        "CE credits",
        Decimal("0.01"),
        (Profession.PSYCHOLOGIST,),
        "{provider} is approved by the American Psychological Association to sponsor continuing education "
        "for psychologists and maintains responsibility for this program and its content. This activity "
        "offers a maximum of {amount} CE credits.",
        aliases=("APA",),
    ),
    CreditTypeSpec(
        "dietetics",
        "Dietetics",
        "CDR Dietetics CPEU",
        "CPEUs",
        Decimal("0.01"),
        (Profession.DIETITIAN,),
        "Registered dietitians and dietetic technicians completing this activity will receive a maximum of "
        "{amount} continuing professional education units (CPEUs) from the Commission on Dietetic "
        "Registration (CDR).",
        aliases=("CDR",),
    ),
    CreditTypeSpec(
        "physical_therapy",
        "Physical Therapy",
        "Physical Therapy Contact Hours",
        "contact hours",
        Decimal("0.01"),
        (Profession.PHYSICAL_THERAPIST,),
        "This activity is approved for a maximum of {amount} contact hours of continuing education "
        "for physical therapists.",
    ),
    CreditTypeSpec(
        "optometry",
        "Optometry",
        "COPE Optometry Credit",
        "hours",
        Decimal("0.01"),
        (Profession.OPTOMETRIST,),
        "This activity is COPE-approved for a maximum of {amount} hours of continuing education "
        "for optometrists.",
        aliases=("COPE",),
    ),
    CreditTypeSpec(
        "dental",
        "Dental",
        "ADA CERP Dental CE Credit",
        "continuing education credits",
        Decimal("0.01"),
        (Profession.DENTIST,),
        "{provider} designates this activity for a maximum of {amount} continuing education credits "
        "(ADA CERP).",
        aliases=("ADA CERP",),
    ),
)
CREDIT_TYPE_BY_CODE = {c.code: c for c in CREDIT_TYPES}

# Credit in contact hours whose step the provider chooses (``Provider.contact_hour_increment``).
CONTACT_HOUR_CREDIT_TYPES = frozenset({"nursing", "pharmacy"})
CONTACT_HOUR_INCREMENTS = [
    (Decimal("0.25"), "0.25 (quarter hours)"),
    (Decimal("0.50"), "0.5 (half hours)"),
    (Decimal("0.10"), "0.1 (tenths)"),
    (Decimal("0.01"), "0.01 (hundredths)"),
]
FINEST_CONTACT_HOUR_INCREMENT = min(step for step, _ in CONTACT_HOUR_INCREMENTS)
CREDIT_TYPE_BY_KEY = {
    lookup_key(name): c for c in CREDIT_TYPES for name in (c.listing_name, c.name, *c.aliases)
}

# Each board's name and abbreviation as the board writes them (ABMS, "Member Boards", abms.org/member-boards;
# ACCME, "CME for Maintenance of Certification Program Guide", accme.org): "ABPath", not "ABPATH", and
# "Otolaryngology–Head and Neck Surgery" with the en dash. Codes are the upper-case abbreviations listings use.
MOC_BOARDS = (
    ("ABA", "ABA", "American Board of Anesthesiology"),
    ("ABAI", "ABAI", "American Board of Allergy and Immunology"),
    ("ABCRS", "ABCRS", "American Board of Colon and Rectal Surgery"),
    ("ABD", "ABD", "American Board of Dermatology"),
    ("ABEM", "ABEM", "American Board of Emergency Medicine"),
    ("ABFM", "ABFM", "American Board of Family Medicine"),
    ("ABIM", "ABIM", "American Board of Internal Medicine"),
    ("ABMGG", "ABMGG", "American Board of Medical Genetics and Genomics"),
    ("ABNM", "ABNM", "American Board of Nuclear Medicine"),
    ("ABO", "ABO", "American Board of Ophthalmology"),
    ("ABOHNS", "ABOHNS", "American Board of Otolaryngology–Head and Neck Surgery"),
    ("ABOS", "ABOS", "American Board of Orthopaedic Surgery"),
    ("ABP", "ABP", "American Board of Pediatrics"),
    ("ABPATH", "ABPath", "American Board of Pathology"),
    ("ABPMR", "ABPMR", "American Board of Physical Medicine and Rehabilitation"),
    ("ABPN", "ABPN", "American Board of Psychiatry and Neurology"),
    ("ABPS", "ABPS", "American Board of Plastic Surgery"),
    ("ABR", "ABR", "American Board of Radiology"),
    ("ABS", "ABS", "American Board of Surgery"),
    ("ABTS", "ABTS", "American Board of Thoracic Surgery"),
    ("ABU", "ABU", "American Board of Urology"),
)
MOC_BOARD_CHOICES = [(code, abbreviation) for code, abbreviation, _ in MOC_BOARDS]
MOC_BOARD_NAMES = {code: name for code, _, name in MOC_BOARDS}
MOC_BOARD_ABBREVIATIONS = {code: abbreviation for code, abbreviation, _ in MOC_BOARDS}
MOC_BOARD_CODES = frozenset(code for code, _, _ in MOC_BOARDS)

# MOC credit types in the boards' own words, capitalised as they capitalise them: ABIM awards "Medical
# Knowledge", "Practice Assessment" and "Patient Safety" MOC points (ABIM, "MOC Assessment Recognition
# Program"); the ACCME's CME Finder lists "Lifelong Learning (ABA)", "Lifelong Learning (ABPATH)", "Accredited
# CME (ABS)", "Accredited CME (ABOS)" and "Self-Assessment (ABS)" (seeds/; ACCME, "CME for Maintenance of
# Certification Program Guide", Table 1: MOC Credit Type Language).
MOC_CREDIT_TYPE_CHOICES = [
    ("medical_knowledge", "Medical Knowledge"),
    ("practice_assessment", "Practice Assessment"),
    ("patient_safety", "Patient Safety"),
    ("lifelong_learning", "Lifelong Learning"),
    ("self_assessment", "Self-Assessment"),
    ("accredited_cme", "Accredited CME"),
    ("improvement_in_medical_practice", "Improvement in Medical Practice"),
]

OUTCOME_CHOICES = [
    ("learner_knowledge", "Learner Knowledge"),
    ("learner_competence", "Learner/Team Competence"),
    ("learner_performance", "Learner/Team Performance"),
    ("patient_health", "Patient Health"),
    ("community_health", "Community/Population Health"),
]


_MOC_CREDIT_TYPE_LABELS = dict(MOC_CREDIT_TYPE_CHOICES)


# Every page, file, certificate and email names a board, a credit type or an MOC credit type through these, so
# each reads the same everywhere. An unknown code (an old row, a credit type added in the admin) is shown as
# it is, or as ``default``.


def board_name(code: str) -> str:
    """The board's full name: ``board_name("ABPATH") == "American Board of Pathology"``."""
    return MOC_BOARD_NAMES.get(code, code)


def board_abbreviation(code: str) -> str:
    """The board as it abbreviates itself: ``board_abbreviation("ABPATH") == "ABPath"``."""
    return MOC_BOARD_ABBREVIATIONS.get(code, code)


def moc_credit_type_label(code: str) -> str:
    """``moc_credit_type_label("medical_knowledge") == "Medical Knowledge"``."""
    return _MOC_CREDIT_TYPE_LABELS.get(code, code)


def credit_type_label(code: str, default: str | None = None) -> str:
    """A credit type's display name: ``credit_type_label("ipce") == "IPCE Credit"``."""
    spec = CREDIT_TYPE_BY_CODE.get(code)
    if spec is not None:
        return spec.name
    return code if default is None else default


def _by_key(choices) -> dict[str, str]:
    return {lookup_key(label): code for code, label in choices} | {
        lookup_key(code): code for code, _ in choices
    }


ACTIVITY_TYPE_BY_KEY = _by_key(ACTIVITY_TYPE_CHOICES)
FORMAT_BY_KEY = _by_key(FORMAT_CHOICES)
MOC_BOARD_BY_KEY = _by_key(MOC_BOARD_CHOICES)
MOC_CREDIT_TYPE_BY_KEY = _by_key(MOC_CREDIT_TYPE_CHOICES)
OUTCOME_BY_KEY = _by_key(OUTCOME_CHOICES)


# --- what a certificate is called ---------------------------------------------------------------------------

CERTIFICATE_OF_CREDIT = "credit"
CERTIFICATE_OF_COMPLETION = "completion"
CERTIFICATE_OF_PARTICIPATION = "participation"

CERTIFICATE_TITLES = {
    CERTIFICATE_OF_CREDIT: "Certificate of Credit",
    CERTIFICATE_OF_COMPLETION: "Certificate of Completion",
    CERTIFICATE_OF_PARTICIPATION: "Certificate of Participation",
}


def certificate_kind(claimed: Iterable[str]) -> str:
    """What a certificate is, by the credit the learner earned (the credit type codes claimed).

    A physician who claimed AMA PRA Category 1 Credit™ gets a Certificate of Credit (AMA, "The Physician's
    Recognition Award and credit system", documentation of credit). A learner who earned credit of their own
    profession (ANCC contact hours, ACPE contact hours, AAPA Category 1 CME, IPCE credit and the others) gets a
    Certificate of Completion stating it: ANCC asks for a certificate "indicating completion" with the contact
    hours awarded (an ANCC-accredited approver's required elements, coloradonurses.org/faqs-2). Only a learner
    who earned no credit gets a Certificate of Participation, which states what the activity was designated
    for (AMA: non-physicians may be given a certificate of participation).
    """
    codes = set(claimed)
    if AMA_PRA_1 in codes:
        return CERTIFICATE_OF_CREDIT
    if codes:
        return CERTIFICATE_OF_COMPLETION
    return CERTIFICATE_OF_PARTICIPATION
