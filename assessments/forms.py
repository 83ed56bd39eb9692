"""The take page's form: the questions of one attempt as inputs, the answers the learner gave, and each
question's error.

The questions come from ``attempts.learner_questions`` (no correct answers, no explanations) and the
answers are checked by ``attempts.submit_attempt``, which names each question it refuses; this form only
carries what the learner sent back to the page, so a refused submission shows their answers again."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from assessments.models import Question
from assessments.services.attempts import MAX_TEXT, NON_FIELD, LearnerQuestion

VERSION_FIELD = "version"

LIKERT_LABELS = list(Question.LIKERT_LABELS.items())


@dataclass
class Option:
    value: str
    label: str
    checked: bool
    id: str


@dataclass
class BoundQuestion:
    """One question as the page shows it: its inputs, what the learner gave, and why it was refused."""

    question: LearnerQuestion
    values: list[str]
    error: str

    @property
    def field(self) -> str:
        return self.question.field

    @property
    def input_type(self) -> str:
        kind = self.question.kind
        if kind == Question.Kind.MULTIPLE:
            return "checkbox"
        if kind == Question.Kind.FREE_TEXT:
            return "textarea"
        return "radio"

    @property
    def optional(self) -> bool:
        """Scored questions are always answered; others when the provider says so."""
        return not self.question.required and self.question.kind not in Question.SCORED_KINDS

    @property
    def is_likert(self) -> bool:
        return self.question.kind == Question.Kind.LIKERT

    @property
    def hint(self) -> str:
        kind = self.question.kind
        if kind == Question.Kind.MULTIPLE:
            return str(_("Choose every correct answer."))
        if kind == Question.Kind.LIKERT:
            return str(_("From 1, strongly disagree, to 5, strongly agree."))
        if kind == Question.Kind.FREE_TEXT:
            return str(_("Up to %(n)d characters.") % {"n": MAX_TEXT})
        return ""

    @property
    def options(self) -> list[Option]:
        picked = set(self.values)
        if self.is_likert:
            pairs = [(str(n), f"{n} · {label}") for n, label in LIKERT_LABELS]
        else:
            pairs = [(str(choice_id), text) for choice_id, text in self.question.choices]
        return [
            Option(value, label, value in picked, f"id_{self.field}_{n}")
            for n, (value, label) in enumerate(pairs, start=1)
        ]

    @property
    def text(self) -> str:
        return "\n".join(self.values)

    @property
    def max_text(self) -> int:
        return MAX_TEXT


class AttemptForm:
    """The questions of one attempt, bound to what the learner sent (``data``, a ``QueryDict`` or a mapping
    of field to values) and the errors the service gave (``errors``, by field or ``__all__``)."""

    def __init__(
        self,
        questions: Sequence[LearnerQuestion],
        *,
        version_id: int,
        data: Mapping | None = None,
        errors: Mapping[str, str] | None = None,
    ):
        self.questions = list(questions)
        self.version_id = version_id
        self.data = data
        self.errors = dict(errors or {})

    def responses(self) -> dict[str, list[str]]:
        """What the learner answered, by question field, as ``submit_attempt`` takes it."""
        return {q.field: self._values(q.field) for q in self.questions}

    def _values(self, field: str) -> list[str]:
        if self.data is None:
            return []
        values = self.data.getlist(field) if hasattr(self.data, "getlist") else self.data.get(field, [])
        return [str(v) for v in values]

    @property
    def non_field_errors(self) -> str:
        return self.errors.get(NON_FIELD, "")

    @property
    def field_errors(self) -> list[tuple[BoundQuestion, str]]:
        return [(b, b.error) for b in self.bound if b.error]

    @property
    def bound(self) -> list[BoundQuestion]:
        return [BoundQuestion(q, self._values(q.field), self.errors.get(q.field, "")) for q in self.questions]

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)


def version_id_of(data: Mapping) -> int | None:
    """The version the page was built from, as the learner's browser sent it back; None when unusable."""
    raw = str(data.get(VERSION_FIELD, "")).strip()
    # ASCII digits only: str.isdigit() also takes "²" and other scripts' digits, which int() refuses.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
