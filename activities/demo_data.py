"""Realistic synthetic catalog data, reproducible for a seed: for demos, load tests and benchmarks.

Activities get providers, specialties, credit mixes, MOC approvals and dates around today, and summaries
drawn from a clinical vocabulary so that keywords range from common to rare, as in a real catalog. Synthetic
learners' journeys through an activity's pre-test, post-test and evaluation (``learner_journey``) feed
``generate_demo_data --outcomes``. The demo's hand-written courses are in ``demo_courses``.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from activities import moc as moc_rules
from activities.demo_courses import DemoQuestion
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
                # Only the credit types the board awards, and whole points where it wants them (moc.py).
                rule = moc_rules.rule_for(board)
                kinds = list(rule.credit_types) or [code for code, _ in MOC_CREDIT_TYPE_CHOICES]
                points = (
                    max(Decimal(1), amount.to_integral_value(ROUND_HALF_UP)) if rule.whole_points else amount
                )
                for moc_type in rng.sample(kinds, min(rng.randint(1, 2), len(kinds))):
                    moc.append((board, moc_type, points))
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


# --- Synthetic outcomes: learners taking an activity's pre-test, post-test and evaluation, at scale ---------

CHANGES = [
    "Screen every eligible patient at the first visit instead of waiting for symptoms.",
    "Use the guideline's risk calculator before choosing therapy.",
    "Review doses against kidney function at each refill.",
    "Start shared decision making with a written summary for the patient.",
    "Refer earlier to the multidisciplinary clinic.",
    "Stop prescribing the older agent for new patients.",
    "Check adherence and adverse events at a two-week phone call.",
]
BARRIERS = [
    "Not enough time in a 15-minute visit.",
    "Insurance prior authorisation for the newer drugs.",
    "Patients' cost concerns.",
    "Our electronic record has no order set for this yet.",
    "Colleagues in the practice follow older protocols.",
]
BIAS = ["The case studies named one manufacturer's product only.", "Slides used brand names throughout."]
LIKERT_WEIGHTS = (2, 4, 14, 42, 38)


@dataclass
class SyntheticAnswer:
    question: dict  # as the version's content holds it
    choice_ids: list[int] = field(default_factory=list)
    value: int | None = None
    text: str = ""
    correct: bool | None = None


@dataclass
class SyntheticAttempt:
    kind: str
    number: int
    at: datetime
    answers: list[SyntheticAnswer]

    @property
    def correct(self) -> int:
        return sum(1 for a in self.answers if a.correct)

    @property
    def scored(self) -> int:
        return sum(1 for a in self.answers if a.correct is not None)


def reproducible(*parts: object) -> random.Random:
    """A random generator that gives the same numbers for the same ``parts`` (a seed and what it is for)."""
    return random.Random(":".join(map(str, parts)))


def _choose(rng: random.Random, question: dict, chance: float) -> SyntheticAnswer:
    """A choice question answered right with probability ``chance``; wrong answers favour the first
    distractor, as real ones cluster on a plausible mistake."""
    right = [c["id"] for c in question["choices"] if c["correct"]]
    wrong = [c["id"] for c in question["choices"] if not c["correct"]]
    if not wrong or rng.random() < chance:
        return SyntheticAnswer(question, choice_ids=sorted(right), correct=True)
    weights = [3] + [1] * (len(wrong) - 1)
    return SyntheticAnswer(question, choice_ids=[rng.choices(wrong, weights)[0]], correct=False)


def _survey(rng: random.Random, question: dict, ability: float) -> SyntheticAnswer:
    if question["kind"] == "likert":
        shift = 1 if ability > 0.8 and rng.random() < 0.3 else 0
        value = min(5, rng.choices(range(1, 6), LIKERT_WEIGHTS)[0] + shift)
        return SyntheticAnswer(question, value=value)
    text = question["text"].lower()
    pool, share = (
        (BIAS, 0.03) if "bias" in text else (BARRIERS, 0.25) if "barrier" in text else (CHANGES, 0.4)
    )
    return SyntheticAnswer(question, text=rng.choice(pool) if rng.random() < share else "")


def learner_journey(
    rng: random.Random,
    *,
    contents: dict[str, dict],
    enrolled: datetime,
    passing_score: int,
    attempts_allowed: int | None,
) -> list[SyntheticAttempt]:
    """One synthetic learner's attempts at an activity's assessments (``contents``: version content by kind),
    from ``enrolled`` on: most take the pre-test, most of those the post-test, retrying after a failure
    until they pass, give up or run out of attempts (at most 3 when unlimited), and those who pass mostly
    evaluate. Knowledge rises from pre- to post-test, by question, as a real activity's would."""
    ability = rng.betavariate(5, 2)
    at = enrolled + timedelta(minutes=rng.randint(1, 90))
    attempts: list[SyntheticAttempt] = []
    pre, post, evaluation = (contents.get(kind) for kind in ("pre_test", "post_test", "evaluation"))
    if pre and rng.random() < 0.92:
        answers = [_choose(rng, q, ability - 0.3 + _difficulty(q)) for q in pre["questions"]]
        attempts.append(SyntheticAttempt("pre_test", 1, at, answers))
    passed = post is None
    if post and rng.random() < 0.88:
        for number in range(1, (attempts_allowed or 3) + 1):
            at += timedelta(minutes=rng.randint(20, 600))
            answers = [_choose(rng, q, ability + 0.05 * number + _difficulty(q)) for q in post["questions"]]
            attempts.append(SyntheticAttempt("post_test", number, at, answers))
            correct = sum(1 for a in answers if a.correct)
            passed = 100 * correct >= passing_score * max(1, len(answers))
            if passed or rng.random() < 0.25:
                break
    if evaluation and passed and rng.random() < 0.9:
        at += timedelta(minutes=rng.randint(1, 30))
        answers = [_survey(rng, q, ability) for q in evaluation["questions"]]
        attempts.append(SyntheticAttempt("evaluation", 1, at, [a for a in answers if a.value or a.text]))
    return attempts


def _difficulty(question: dict) -> float:
    """A fixed offset per question, from -0.2 (hard) to +0.15 (easy)."""
    return (int(str(question["key"]).replace("-", "")[-4:], 16) % 36) / 100 - 0.2


def outcome_questions(topic: str, count: int) -> list[DemoQuestion]:
    """``count`` single-choice questions about ``topic``, four answers each, the right one in turn first,
    second, third and fourth."""
    stems = [
        "Which finding most changes the management of {topic}?",
        "Which first-line option does current guidance recommend for {topic}?",
        "Which monitoring interval is recommended after starting treatment for {topic}?",
        "Which patient group has the highest risk of complications from {topic}?",
        "Which adverse event most often leads to stopping therapy for {topic}?",
        "Which test best confirms the diagnosis of {topic}?",
        "When should a patient with {topic} be referred to a specialist?",
        "Which counselling point most improves adherence in {topic}?",
        "Which comorbidity most changes the choice of therapy in {topic}?",
        "Which outcome measure is used in trials of {topic}?",
    ]
    questions = []
    for n in range(count):
        text = stems[n % len(stems)].format(topic=topic)
        if n >= len(stems):
            text += f" (case {n // len(stems) + 1})"
        labels = ["The older approach", "An off-label approach", "An untested approach"]
        labels.insert(n % 4, "The guideline's approach")
        choices = tuple((label, label == "The guideline's approach") for label in labels)
        explanation = f"The current guideline on {topic} recommends this approach."
        questions.append(DemoQuestion(text, explanation, choices))
    return questions
