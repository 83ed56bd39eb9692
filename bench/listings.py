"""Generated listing files in the listing format, realistic in mix and size, reproducible for a seed."""

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from activities import moc
from activities.demo_data import SPECIALTIES, TOPICS, providers
from activities.vocabulary import (
    ACTIVITY_TYPES,
    CREDIT_TYPES,
    FORMAT_CHOICES,
    MOC_BOARDS,
    MOC_CREDIT_TYPE_CHOICES,
    OUTCOME_CHOICES,
    moc_credit_type_label,
)

PROVIDERS = providers(25)
OUTCOMES = [label for _, label in OUTCOME_CHOICES]
CREDIT_LISTING_NAMES = {spec.code: spec.listing_name for spec in CREDIT_TYPES}
MOC_TYPE_LABELS = [label for _, label in MOC_CREDIT_TYPE_CHOICES]


def listing(n: int, rng: random.Random, *, now: datetime | None = None, variant: int = 0) -> str:
    """The text of listing number ``n``. A ``variant`` is the same listing as its provider would revise it:
    new summary text, dates moved a week per revision, the fee and the credit hours changed."""
    now = now or datetime(2026, 11, 1, tzinfo=UTC)
    topic = rng.choice(TOPICS)
    activity_type = rng.choice(ACTIVITY_TYPES)
    start = now + timedelta(days=rng.randint(-700, 300), hours=rng.randint(0, 23))
    if activity_type.kind == "enduring":
        end = start if rng.random() < 0.3 else start + timedelta(days=rng.randint(30, 1000))
    elif activity_type.code == "rss":
        end = start + timedelta(days=rng.randint(30, 360))
    else:
        end = start + timedelta(hours=rng.choice([1, 2, 4, 8, 24, 72]))
    amounts = ["0.25", "0.5", "0.75", "1", "1.25", "1.5", "2", "3", "4.5", "6", "12"]
    amount = amounts[(amounts.index(rng.choice(amounts)) + variant) % len(amounts)]
    start += timedelta(days=7 * variant)
    end += timedelta(days=7 * variant)
    codes = [
        "ama_pra_1",
        *rng.sample([c for c in CREDIT_LISTING_NAMES if c != "ama_pra_1"], rng.randint(0, 4)),
    ]
    credits = "\n".join(f"{CREDIT_LISTING_NAMES[c]}: {amount} hours" for c in codes)
    moc_lines = []
    for board, _, _ in rng.sample(MOC_BOARDS, rng.choice([0, 0, 1, 2, 3, 5])):
        # Only the credit types the board awards, and whole points where it wants them (activities/moc.py).
        rule = moc.rule_for(board)
        labels = [moc_credit_type_label(code) for code in rule.credit_types] or MOC_TYPE_LABELS
        types = rng.sample(labels, min(rng.randint(1, 2), len(labels)))
        points = (
            max(Decimal(1), Decimal(amount).to_integral_value(ROUND_HALF_UP)) if rule.whole_points else amount
        )
        moc_lines.append(
            f"{board} - {points} Points; Credit Type(s): " + ", ".join(f"{t} ({board})" for t in types)
        )
    moc_text = "\n".join(moc_lines)
    fee = rng.choice(
        ["Free", "Free", "Variable", f"${rng.randint(1, 40) * 5}.00", f"{rng.randint(1, 9) * 25} USD"]
    )
    if variant:
        fee = "Variable" if fee == "Free" else "Free"
    specialties = ", ".join(rng.sample(SPECIALTIES, rng.randint(1, 4)))
    summary = (
        f"This activity reviews {topic} for the healthcare team, revision {variant}. "
        f"Learners will examine current evidence on {topic}, compare guideline recommendations and apply them "
        "to cases drawn from everyday practice. The activity highlights the interprofessional team's role in "
        "improving outcomes and patient safety."
    )
    return (
        f"{summary}\n"
        f"- Title: {topic.capitalize()}: an update for clinicians ({n})\n"
        f"- Provider:{PROVIDERS[n % len(PROVIDERS)]}\n"
        f"- Activity Link: https://cme.example.org/activities/{n}\n"
        f"- Start Date: {start:%Y-%m-%d %H:%M:%S}\n"
        f"- End Date: {end:%Y-%m-%d %H:%M:%S}\n"
        f"- Credit Details: {credits} - MOC Credit Details: {moc_text} - Commercial Support: {rng.choice(['Yes', 'No'])}\n"
        f"- Activity Type: {activity_type.label}\n"
        f"- CME Finder Type: {rng.choice(FORMAT_CHOICES)[1]}\n"
        f"- Fee to Participate: {fee}\n"
        f"- Measured Outcome: {', '.join(rng.sample(OUTCOMES, rng.randint(1, 3)))}\n"
        f"- Provider Ship: {rng.choice(['Directly Provided', 'Jointly Provided'])}\n"
        f"- Registration: {rng.choice(['Open to all', 'Open to all', 'Limited to members'])}\n"
        f"- Specialty: {specialties}\n"
    )


def listings(count: int, *, seed: int = 1, variant: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [listing(n, rng, variant=variant) for n in range(count)]
