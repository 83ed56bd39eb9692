"""The demo's courses: activities of the demo provider with a pre-test, a post-test and an evaluation.

``manage.py demo`` imports these as listings (through the import service, like any provider's), writes their
questions into the post-test the listing's Completion Requirements add, and gives the demo learner a
history in the first two. The questions follow current guidance (ACC/AHA/ACCP/HRS 2023 atrial fibrillation,
Surviving Sepsis Campaign 2021, ADA Standards of Care 2024).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class DemoQuestion:
    text: str
    explanation: str
    choices: tuple[tuple[str, bool], ...]  # (answer, correct), in the order shown
    kind: str = "single"  # "single" or "true_false"


@dataclass(frozen=True)
class DemoCourse:
    key: str  # the listing's link ends with it
    title: str
    summary: str
    specialties: tuple[str, ...]
    questions: tuple[DemoQuestion, ...]


def _true_false(text: str, explanation: str, *, true: bool) -> DemoQuestion:
    return DemoQuestion(text, explanation, (("True", true), ("False", not true)), kind="true_false")


DEMO_COURSES = (
    DemoCourse(
        key="atrial-fibrillation-anticoagulation",
        title="Stroke prevention in atrial fibrillation: choosing and dosing oral anticoagulants",
        summary=(
            "Atrial fibrillation raises the risk of ischaemic stroke about fivefold, and most of that risk can be "
            "prevented with oral anticoagulation. This activity reviews stroke and bleeding risk scores, when a "
            "direct oral anticoagulant is preferred to warfarin and when it is not, dose adjustment for age, "
            "weight and kidney function, and how to respond to a high bleeding risk without leaving patients "
            "unprotected."
        ),
        specialties=("Cardiology", "Internal Medicine", "Family Medicine"),
        questions=(
            DemoQuestion(
                "A 72-year-old woman with atrial fibrillation has hypertension and type 2 diabetes, and no other "
                "history. What is her CHA2DS2-VASc score?",
                "Female sex 1, age 65 to 74 years 1, hypertension 1, diabetes 1: a score of 4, well above the "
                "threshold (2 or more in women) at which oral anticoagulation is recommended.",
                (("2", False), ("3", False), ("4", True), ("5", False)),
            ),
            DemoQuestion(
                "For which patient with atrial fibrillation is warfarin preferred to a direct oral "
                "anticoagulant?",
                "Direct oral anticoagulants are contraindicated with a mechanical heart valve: in RE-ALIGN, "
                "dabigatran caused more valve thrombosis and more bleeding than warfarin. Older age, moderate "
                "kidney disease and a past bleed are not reasons to prefer warfarin.",
                (
                    ("An 84-year-old man with no other conditions", False),
                    ("A woman with a mechanical mitral valve prosthesis", True),
                    ("A man with chronic kidney disease and a creatinine clearance of 50 mL/min", False),
                    ("A woman who had a gastrointestinal bleed two years ago", False),
                ),
            ),
            DemoQuestion(
                "An 82-year-old man weighing 58 kg, with a serum creatinine of 1.1 mg/dL, starts apixaban for "
                "atrial fibrillation. Which dose is right?",
                "Apixaban is reduced to 2.5 mg twice daily when two of three criteria are met: age 80 or older, "
                "weight 60 kg or less, serum creatinine 1.5 mg/dL or more. He meets the first two.",
                (
                    ("5 mg twice daily", False),
                    ("2.5 mg twice daily", True),
                    ("2.5 mg once daily", False),
                    ("10 mg twice daily for 7 days, then 5 mg twice daily", False),
                ),
            ),
            DemoQuestion(
                "A patient's HAS-BLED score is 3. What should follow?",
                "A high bleeding-risk score flags modifiable risk factors to correct (uncontrolled blood "
                "pressure, labile INR, concomitant NSAIDs or antiplatelets, alcohol) and closer follow-up. On "
                "its own it is not a reason to withhold anticoagulation, whose benefit usually outweighs the "
                "bleeding risk.",
                (
                    ("Stop anticoagulation and start aspirin", False),
                    ("Address the modifiable bleeding risk factors and review the patient more often", True),
                    ("Withhold anticoagulation until the score falls below 3", False),
                    ("Add a proton pump inhibitor and double the follow-up interval", False),
                ),
            ),
            _true_false(
                "Aspirin alone is an adequate alternative to oral anticoagulation for stroke prevention in a "
                "patient with atrial fibrillation and a CHA2DS2-VASc score of 3.",
                "False. Aspirin prevents few strokes in atrial fibrillation; in AVERROES apixaban halved the "
                "stroke rate compared with aspirin, with a similar rate of major bleeding. Current guidelines "
                "recommend against aspirin as an alternative to anticoagulation.",
                true=False,
            ),
        ),
    ),
    DemoCourse(
        key="sepsis-first-hour",
        title="Sepsis and septic shock: recognition and the first hour of treatment",
        summary=(
            "Each hour of delay in antimicrobial therapy for septic shock increases mortality. This activity "
            "reviews how to recognise sepsis at the bedside and what the Surviving Sepsis Campaign "
            "recommends for the first hours: cultures, early antimicrobials, fluid resuscitation, the "
            "vasopressor of first choice and the blood pressure to aim for."
        ),
        specialties=("Emergency Medicine", "Critical Care Medicine", "Hospital Medicine"),
        questions=(
            DemoQuestion(
                "Which of these is not one of the three quick SOFA (qSOFA) criteria?",
                "qSOFA is respiratory rate 22/min or more, altered mentation and systolic blood pressure "
                "100 mmHg or less. A heart rate above 90/min is a SIRS criterion. The 2021 guidelines advise "
                "against qSOFA alone as a screening tool.",
                (
                    ("Respiratory rate of 22 breaths per minute or more", False),
                    ("Altered mentation", False),
                    ("Systolic blood pressure of 100 mmHg or less", False),
                    ("Heart rate above 90 beats per minute", True),
                ),
            ),
            DemoQuestion(
                "A patient has sepsis-induced hypotension. What initial fluid resuscitation is suggested?",
                "At least 30 mL/kg of intravenous crystalloid within the first 3 hours, with balanced "
                "crystalloids preferred to normal saline; starches and gelatins are not recommended.",
                (
                    ("10 mL/kg of hydroxyethyl starch", False),
                    ("At least 30 mL/kg of crystalloid within the first 3 hours", True),
                    ("500 mL of 20 % albumin over 1 hour", False),
                    ("No fluid until the lactate result is available", False),
                ),
            ),
            DemoQuestion(
                "Which vasopressor is recommended first in septic shock?",
                "Norepinephrine is the first-line vasopressor. Vasopressin is added rather than escalating "
                "norepinephrine further (usually at 0.25 to 0.5 µg/kg/min); dopamine causes more arrhythmias.",
                (
                    ("Dopamine", False),
                    ("Norepinephrine", True),
                    ("Phenylephrine", False),
                    ("Epinephrine", False),
                ),
            ),
            DemoQuestion(
                "What initial mean arterial pressure target is recommended for adults with septic shock on "
                "vasopressors?",
                "65 mmHg. Higher targets (80 to 85 mmHg) did not lower mortality and caused more "
                "arrhythmias.",
                (("55 mmHg", False), ("65 mmHg", True), ("75 mmHg", False), ("85 mmHg", False)),
            ),
            _true_false(
                "When septic shock is possible, antimicrobials should be given within one hour of recognition, "
                "after blood cultures are drawn if that causes no substantial delay.",
                "True. For possible septic shock, or sepsis that is probable, antimicrobials are given "
                "immediately, ideally within an hour; cultures come first only when they do not delay them.",
                true=True,
            ),
        ),
    ),
    DemoCourse(
        key="type-2-diabetes-beyond-metformin",
        title="Type 2 diabetes beyond metformin: matching therapy to heart and kidney risk",
        summary=(
            "For people with type 2 diabetes, the choice of glucose-lowering therapy now follows their "
            "cardiovascular and kidney risk as much as their HbA1c. This activity reviews where GLP-1 "
            "receptor agonists and SGLT2 inhibitors fit, their safety counselling, and when metformin must "
            "be stopped."
        ),
        specialties=("Endocrinology", "Primary Care", "Family Medicine"),
        questions=(
            DemoQuestion(
                "A 61-year-old man with type 2 diabetes and a myocardial infarction two years ago takes "
                "metformin; his HbA1c is 8.1 %. Which addition is recommended?",
                "With established atherosclerotic cardiovascular disease, a GLP-1 receptor agonist or an "
                "SGLT2 inhibitor with proven cardiovascular benefit is recommended whatever the HbA1c.",
                (
                    ("A sulfonylurea such as glipizide", False),
                    (
                        "A GLP-1 receptor agonist with proven cardiovascular benefit, such as semaglutide",
                        True,
                    ),
                    ("Saxagliptin", False),
                    ("Basal insulin", False),
                ),
            ),
            DemoQuestion(
                "Which drug class reduces hospitalisation for heart failure in people with type 2 diabetes "
                "and heart failure with reduced ejection fraction?",
                "SGLT2 inhibitors (dapagliflozin, empagliflozin) reduce heart-failure hospitalisation and "
                "cardiovascular death in HFrEF, with or without diabetes. Pioglitazone and saxagliptin "
                "increase heart-failure hospitalisation.",
                (
                    ("Thiazolidinediones", False),
                    ("SGLT2 inhibitors", True),
                    ("DPP-4 inhibitors", False),
                    ("Sulfonylureas", False),
                ),
            ),
            DemoQuestion(
                "What should a patient starting an SGLT2 inhibitor be told?",
                "Ketoacidosis can occur with normal or only mildly raised glucose; patients pause the drug "
                "during acute illness, when not eating, and before surgery (3 days before for most). Genital "
                "mycotic infections are the commonest adverse effect.",
                (
                    ("To stop it if their glucose falls below 100 mg/dL", False),
                    (
                        "To pause it during acute illness or fasting, because of euglycaemic ketoacidosis",
                        True,
                    ),
                    ("To take it with a high-carbohydrate meal to prevent hypoglycaemia", False),
                    ("That lactic acidosis is its most common adverse effect", False),
                ),
            ),
            DemoQuestion(
                "Below which estimated GFR is metformin contraindicated?",
                "Metformin is contraindicated below an eGFR of 30 mL/min/1.73 m²; starting it between 30 and "
                "45 is not recommended, and the dose is reviewed there.",
                (
                    ("60 mL/min/1.73 m²", False),
                    ("45 mL/min/1.73 m²", False),
                    ("30 mL/min/1.73 m²", True),
                    ("15 mL/min/1.73 m²", False),
                ),
            ),
            _true_false(
                "A personal or family history of medullary thyroid carcinoma is a contraindication to GLP-1 "
                "receptor agonists.",
                "True. GLP-1 receptor agonists carry a boxed warning for thyroid C-cell tumours and are "
                "contraindicated with a personal or family history of medullary thyroid carcinoma or MEN 2.",
                true=True,
            ),
        ),
    ),
)
DEMO_PASSING_SCORE = 70
DEMO_ATTEMPTS = 3
DEMO_LINK = "https://www.statpearls.example.com/demo/"


def course_listing(course: DemoCourse, *, provider: str, release: datetime) -> str:
    """``course`` as a listing file reads: an internet enduring material of ``provider`` released on
    ``release``, for two years, whose Completion Requirements name the demo's post-test and an evaluation."""
    stamp = "%Y-%m-%d %H:%M:%S"
    return "\n".join(
        [
            course.summary,
            f"- Title: {course.title}",
            f"- Provider:{provider}",
            f"- Activity Link: {DEMO_LINK}{course.key}",
            f"- Start Date: {release.strftime(stamp)}",
            f"- End Date: {(release + timedelta(days=730)).strftime(stamp)}",
            "- Credit Details: AMA PRA Category 1 Credit™: 1 hours",
            "IPCE Credits: 1 hours",
            "Nursing: 1 hours - Commercial Support: No",
            "- Activity Type: Internet Enduring Material",
            "- CME Finder Type: Online Learning",
            "- Fee to Participate: Free",
            "- Measured Outcome: Learner Knowledge, Learner/Team Competence",
            "- Provider Ship: Directly Provided",
            "- Registration: Open to all",
            f"- Specialty: {', '.join(course.specialties)}",
            f"- Completion Requirements: Post-test {DEMO_PASSING_SCORE} % ({DEMO_ATTEMPTS} attempts), Evaluation",
        ]
    )
