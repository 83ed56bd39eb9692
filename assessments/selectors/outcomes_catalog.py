"""An assessment's questions across its versions, and the percentages the outcomes report states.

Questions are matched across versions by their key and labelled with the newest version's text and choices;
a choice of an older version is matched to the newest by id, then by text (ignoring case and spacing), and
listed as removed otherwise.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from assessments.models import AssessmentVersion

TENTH = Decimal("0.1")
HUNDREDTH = Decimal("0.01")


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent, to one decimal; None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def as_decimal(value: object, places: Decimal = TENTH) -> Decimal | None:
    # SQLite hands back averages as floats, PostgreSQL as decimals of any scale: state them alike.
    if value is None:
        return None
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ChoiceStat:
    text: str
    correct: bool
    picked: int
    share: Decimal | None  # of the question's answers
    removed: bool = False  # in an older version only


@dataclass
class Catalog:
    """An assessment's questions across its versions, labelled as the newest version has them."""

    questions: list[dict]  # {"key", "text", "kind", "choices": [{"id", "text", "correct", "removed"}]}
    slots: dict[tuple[str, int], int]  # (question key, choice id of any version) -> index in its choices
    keys: dict[int, str] = field(default_factory=dict)  # question id of any version -> its key

    def by_key(self) -> dict[str, dict]:
        return {q["key"]: q for q in self.questions}


def catalog_of(versions: Iterable[AssessmentVersion]) -> Catalog:
    """The questions of ``versions`` (any order), matched by key, newest text first."""
    questions: dict[str, dict] = {}
    slots: dict[tuple[str, int], int] = {}
    keys: dict[int, str] = {}
    for version in sorted(versions, key=lambda v: -v.number):
        for question in version.content.get("questions", []):
            key = str(question["key"])
            keys[question["id"]] = key
            entry = questions.setdefault(
                key,
                {
                    "key": key,
                    "text": question["text"],
                    "kind": question["kind"],
                    "choices": [
                        {"id": c["id"], "text": c["text"], "correct": bool(c["correct"]), "removed": False}
                        for c in question.get("choices", [])
                    ],
                },
            )
            for choice in question.get("choices", []):
                if (key, choice["id"]) not in slots:
                    slots[(key, choice["id"])] = _slot(entry["choices"], choice)
    return Catalog(list(questions.values()), slots, keys)


def _slot(choices: list[dict], choice: dict) -> int:
    for index, known in enumerate(choices):
        if known["id"] == choice["id"]:
            return index
    wanted = " ".join(str(choice["text"]).split()).casefold()
    for index, known in enumerate(choices):
        if " ".join(str(known["text"]).split()).casefold() == wanted:
            return index
    choices.append(
        {"id": choice["id"], "text": choice["text"], "correct": bool(choice["correct"]), "removed": True}
    )
    return len(choices) - 1


def choice_counts(
    catalog: Catalog, rows: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """From ``(question_key, choice_ids, n)`` groups: answers per question, and picks per choice slot."""
    answered: dict[str, int] = {}
    picks: dict[str, list[int]] = {}
    by_key = catalog.by_key()
    for row in rows:
        key = str(row["question_key"])
        answered[key] = answered.get(key, 0) + row["n"]
        entry = by_key.get(key)
        if entry is None:
            continue
        counts = picks.setdefault(key, [0] * len(entry["choices"]))
        slots = {catalog.slots[(key, cid)] for cid in row["choice_ids"] or [] if (key, cid) in catalog.slots}
        for slot in slots:
            counts[slot] += row["n"]
    return answered, picks


def choice_stats(entry: dict, picks: list[int] | None, answered: int) -> list[ChoiceStat]:
    picks = picks or [0] * len(entry["choices"])
    return [
        ChoiceStat(c["text"], c["correct"], picks[i], percent(picks[i], answered), c["removed"])
        for i, c in enumerate(entry["choices"])
    ]
