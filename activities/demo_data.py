"""Realistic synthetic catalog data, reproducible for a seed: for demos, load tests and benchmarks.

Activities get providers, specialties, credit mixes, MOC approvals and dates around today, and summaries
drawn from a clinical vocabulary so that keywords range from common to rare, as in a real catalog.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from activities.vocabulary import (
    ACTIVITY_TYPES,
    CREDIT_TYPES,
    ENDURING,
    FORMAT_CHOICES,
    MOC_BOARDS,
    MOC_CREDIT_TYPE_CHOICES,
    OUTCOME_CHOICES,
)

PROVIDER_STEMS = [
    "StatPearls", "Medscape Education", "Mayo Clinic", "American College of Physicians", "Cleveland Clinic",
    "PeerView Institute", "Johns Hopkins Medicine", "Stanford Medicine", "Harvard Medical School",
    "American Academy of Family Physicians", "Postgraduate Institute for Medicine", "Vindico Medical Education",
    "Boston University", "Answers in CME", "Integrity Continuing Education", "University of Michigan",
    "Duke Health", "American Heart Association", "Society of Hospital Medicine", "Creative Educational Concepts",
    "PRIME Education", "Med Learning Group", "Physicians' Education Resource", "Rush University",
    "UT Southwestern", "Northwestern Medicine", "Emory University", "Vanderbilt University Medical Center",
    "University of Washington", "Mount Sinai", "Penn Medicine", "UCSF", "Kaiser Permanente", "Intermountain Health",
]  # fmt: skip
PROVIDER_SUFFIXES = ["", " CME", " Continuing Education", " Center for Continuing Education", " Learning"]
SPECIALTIES = [
    "All Practice Areas (e.g. ethics)", "Anesthesiology", "Cardiology", "Critical Care Medicine", "Dermatology",
    "Emergency Medicine", "Endocrinology", "Family Medicine", "Gastroenterology", "General Surgery", "Geriatrics",
    "Hematology", "Hospital Medicine", "Infectious Disease", "Internal Medicine", "Nephrology", "Neurology",
    "Obstetrics and Gynecology", "Oncology", "Ophthalmology", "Orthopedic Surgery", "Otolaryngology",
    "Pain Medicine", "Pathology", "Pediatrics", "Physical Medicine and Rehabilitation", "Psychiatry",
    "Public Health", "Pulmonology", "Radiology", "Rheumatology", "Sleep Medicine", "Surgery of the Spine",
    "Urology", "Pharmacology", "Nursing Practice", "Primary Care", "Palliative Care", "Sports Medicine",
    "Allergy and Immunology", "Medical Genetics", "Nuclear Medicine", "Plastic Surgery", "Thoracic Surgery",
]  # fmt: skip
TOPICS = [
    "intrathecal drug delivery", "heart failure with preserved ejection fraction", "type 2 diabetes",
    "sepsis recognition", "opioid stewardship", "atrial fibrillation", "chronic kidney disease", "migraine",
    "asthma biologics", "hepatitis C", "lung cancer screening", "osteoporosis", "pediatric vaccination",
    "delirium in older adults", "antimicrobial resistance", "obesity pharmacotherapy", "psoriasis",
    "rheumatoid arthritis", "acute ischemic stroke", "COPD exacerbations", "major depressive disorder",
    "breast cancer survivorship", "sickle cell disease", "HIV pre-exposure prophylaxis", "obstructive sleep apnea",
    "hypertension control", "anticoagulation reversal", "diabetic kidney disease", "multiple sclerosis",
    "Parkinson disease", "inflammatory bowel disease", "cirrhosis", "pulmonary embolism", "prostate cancer",
    "melanoma immunotherapy", "heart valve disease", "lupus", "gout", "tuberculosis", "long COVID",
    "alcohol use disorder", "smoking cessation", "chronic low back pain", "concussion", "anaphylaxis",
    "thyroid nodules", "iron deficiency anemia", "postpartum hemorrhage", "neonatal jaundice", "glaucoma",
]  # fmt: skip
WORDS = (
    "assessment diagnosis management treatment therapy evidence guideline outcomes safety quality adherence "
    "screening prevention prognosis biomarkers imaging monitoring dosing titration adverse events interactions "
    "comorbidities elderly pediatric pregnancy disparities access telehealth communication shared decision "
    "making counseling follow-up referral multidisciplinary collaboration pharmacist nurse physician resident "
    "primary specialty inpatient outpatient emergency transitions readmission mortality morbidity symptoms "
    "pathophysiology mechanism randomized trial cohort meta-analysis registry real-world efficacy effectiveness "
    "cost value burden risk stratification calculator algorithm protocol checklist bundle stewardship "
    "resistance vaccination immunization infection inflammation fibrosis remission relapse rehabilitation "
    "function frailty falls cognition delirium dementia sleep nutrition exercise lifestyle weight obesity "
    "genetics genomics precision targeted biologic injectable oral inhaled topical surgical procedural "
    "minimally invasive device implant ultrasound endoscopy laboratory point-of-care documentation coding "
    "ethics consent equity culture burnout wellness teamwork handoff simulation case-based interactive"
).split()
OUTCOME_LABELS = [label for _, label in OUTCOME_CHOICES]
AMOUNTS = ["0.25", "0.5", "0.75", "1", "1", "1", "1.25", "1.5", "1.5", "2", "2", "3", "4", "6", "12", "24"]


@dataclass
class DemoActivity:
    title: str
    summary: str
    provider: str
    activity_link: str
    activity_type: str
    format: str
    start: datetime
    end: datetime
    fee_kind: str
    fee_amount: Decimal | None
    registration: str
    registration_text: str
    providership: str
    commercial_support: bool
    outcomes: list[str]
    specialties: list[str]
    credits: dict[str, Decimal]
    moc: list[tuple[str, str, Decimal]]


def providers(count: int) -> list[str]:
    names = [stem + suffix for suffix in PROVIDER_SUFFIXES for stem in PROVIDER_STEMS]
    extra = 0
    while len(names) < count:
        extra += 1
        names.append(f"{random.Random(extra).choice(PROVIDER_STEMS)} Regional Education Network {extra}")
    return names[:count]


def activities(count: int, *, seed: int = 1, now: datetime, revision: int = 0) -> list[DemoActivity]:
    """``count`` activities; the same ``seed`` gives the same catalog, ``revision`` edits every activity."""
    rng = random.Random(f"{seed}:{revision}")
    provider_names = providers(max(25, count // 500))
    found = []
    for n in range(count):
        topic = rng.choice(TOPICS)
        kind = rng.choice(ACTIVITY_TYPES)
        start = (now + timedelta(days=rng.randint(-730, 365), hours=rng.randint(0, 23))).replace(
            minute=0, second=0, microsecond=0
        )
        if kind.kind == ENDURING:
            end = start + timedelta(days=rng.randint(60, 1095))
        elif kind.code == "rss":
            end = start + timedelta(days=rng.randint(28, 364))
        elif kind.kind == "live":
            end = start + timedelta(hours=rng.choice([1, 2, 3, 8, 24, 48, 72]))
        else:
            end = start + timedelta(days=rng.randint(30, 720))
        amount = Decimal(rng.choice(AMOUNTS))
        codes = ["ama_pra_1"] if rng.random() < 0.92 else []
        codes += rng.sample(
            [c.code for c in CREDIT_TYPES if c.code != "ama_pra_1"], rng.choice([0, 0, 1, 2, 3, 4])
        )
        credits = {code: amount for code in (codes or ["ipce"])}
        moc = []
        if rng.random() < 0.35:
            for board, _, _ in rng.sample(MOC_BOARDS, rng.randint(1, 4)):
                for moc_type in rng.sample(MOC_CREDIT_TYPE_CHOICES, rng.randint(1, 2)):
                    moc.append((board, moc_type[0], amount))
        fee_roll = rng.random()
        fee_kind, fee_amount = ("free", None) if fee_roll < 0.55 else ("variable", None)
        if fee_roll > 0.8:
            fee_kind, fee_amount = "fixed", Decimal(rng.randint(1, 60) * 5)
        limited = rng.random() < 0.15
        words = " ".join(rng.sample(WORDS, 14))
        angle = rng.choice(
            ["An update on", "Managing", "Case challenges in", "New evidence in", "Controversies in"]
        )
        found.append(
            DemoActivity(
                title=f"{angle} {topic}" + (f": part {rng.randint(1, 9)}" if rng.random() < 0.3 else ""),
                summary=(
                    f"This activity reviews {topic} for the healthcare team (revision {revision}). "
                    f"It covers {words}. Learners apply current guidance on {topic} to cases from practice."
                ),
                provider=provider_names[n % len(provider_names)],
                activity_link=f"https://cme.example.org/{seed}/activities/{n}",
                activity_type=kind.code,
                format=rng.choice(FORMAT_CHOICES)[0],
                start=start,
                end=end,
                fee_kind=fee_kind,
                fee_amount=fee_amount,
                registration="limited" if limited else "open",
                registration_text="Limited to members" if limited else "Open to all",
                providership=rng.choice(["direct", "direct", "joint"]),
                commercial_support=rng.random() < 0.2,
                outcomes=rng.sample([code for code, _ in OUTCOME_CHOICES], rng.randint(1, 3)),
                specialties=rng.sample(SPECIALTIES, rng.choice([1, 1, 2, 2, 3, 4])),
                credits=credits,
                moc=moc,
            )
        )
    return found
