"""Authoring pre-tests, post-tests and evaluations: copying a template (the provider's own or the portal's
starter evaluation) onto an activity or into the library, a pre-test made from a post-test, and a
question's answers written as text ("one answer per line, the correct ones starting with *").

Copies keep each question's ``key``: the same question on a pre-test and a post-test, or on two activities
copied from one template, is matched by it (the knowledge change pre → post, evaluations side by side).
Every function writes in one transaction: a refusal (``AuthoringError``) leaves nothing behind.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from activities.models import Activity, Provider
from assessments import starter
from assessments.models import Assessment, Choice, Question
from portal import audit, scoping
from portal.models import User

CORRECT_MARK = "*"
MAX_CHOICES = 20
TRUE, FALSE = "True", "False"


class AuthoringError(Exception):
    """A refused change; ``field`` names the form field it is about, when there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass
class _QuestionSpec:
    key: str
    kind: str
    text: str
    explanation: str = ""
    required: bool = True
    choices: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class _Spec:
    """What a copy is made from: an assessment's settings and questions, read from a row or the starter."""

    kind: str
    title: str
    settings: dict[str, Any]
    questions: list[_QuestionSpec]
    source: str  # as the audit entry names it


def _spec_of(source: Assessment) -> _Spec:
    questions = source.questions.prefetch_related("choices").order_by("position", "pk")
    return _Spec(
        kind=source.kind,
        title=source.title,
        settings={
            "instructions": source.instructions,
            "passing_score": source.passing_score,
            "max_attempts": source.max_attempts,
            "shuffle_questions": source.shuffle_questions,
            "show_feedback": source.show_feedback,
            "required_for": source.required_for,
            "moc_boards": list(source.moc_boards),
        },
        questions=[
            _QuestionSpec(
                key=str(q.key),
                kind=q.kind,
                text=q.text,
                explanation=q.explanation,
                required=q.required,
                choices=[(c.text, c.is_correct) for c in q.choices.all()],
            )
            for q in questions
        ],
        source=f"assessment {source.pk}",
    )


def starter_spec() -> _Spec:
    evaluation = starter.STARTER_EVALUATION
    return _Spec(
        kind=evaluation.kind,
        title=str(evaluation.title),
        settings={
            "instructions": str(evaluation.instructions),
            "passing_score": None,
            "max_attempts": None,
            "shuffle_questions": False,
            "show_feedback": True,
            "required_for": evaluation.required_for,
            "moc_boards": [],
        },
        questions=[
            _QuestionSpec(
                key=q.key, kind=q.kind, text=str(q.text), explanation=str(q.explanation), required=q.required
            )
            for q in evaluation.questions
        ],
        source="starter evaluation",
    )


def _target_provider(activity: Activity | None, provider: Provider | None) -> Provider:
    if activity is None and provider is None:
        raise AuthoringError(
            _("Choose an activity, or a provider whose library gets the copy."), field="activity"
        )
    if activity is not None and provider is not None and activity.provider_id != provider.pk:
        raise AuthoringError(
            _("The activity “%(activity)s” is not %(provider)s’s.")
            % {"activity": activity, "provider": provider},
            field="activity",
        )
    return provider if provider is not None else activity.provider  # type: ignore[union-attr]


def _check_editor(by: User | None, provider: Provider) -> None:
    if by is None or scoping.sees_everything(by):
        return
    if provider.pk not in scoping.editable_provider_ids(by):
        raise AuthoringError(
            _("You are not an editor at %(provider)s, so you cannot add assessments there.")
            % {"provider": provider},
            field="activity",
        )


def _kind_label(kind: str) -> str:
    """The kind with its article, as a sentence names it: "a post-test", "an evaluation"."""
    return str(Assessment.kind_with_article(kind))


def _add_questions(assessment: Assessment, spec: _Spec) -> None:
    """``spec``'s questions and choices, with their keys, after the assessment's own."""
    last = assessment.questions.order_by("-position").values_list("position", flat=True).first() or 0
    for position, q in enumerate(spec.questions, start=last + 1):
        question = Question.objects.create(
            assessment=assessment,
            key=q.key,
            position=position,
            kind=q.kind,
            text=q.text,
            explanation=q.explanation,
            required=q.required,
        )
        Choice.objects.bulk_create(
            Choice(question=question, position=n, text=text, is_correct=correct)
            for n, (text, correct) in enumerate(q.choices, start=1)
        )


def _create(
    spec: _Spec, *, activity: Activity | None, provider: Provider, by: User | None, **changes: Any
) -> Assessment:
    """The copy of ``spec``, its questions and choices, audited; in one transaction."""
    kind = changes.pop("kind", spec.kind)
    title = changes.pop("title", spec.title)
    if activity is not None and Assessment.objects.filter(activity=activity, kind=kind).exists():
        raise AuthoringError(
            _("“%(activity)s” already has %(kind)s; edit that one, or delete it first.")
            % {"activity": activity, "kind": _kind_label(kind)},
            field="activity",
        )
    settings = {**spec.settings, **changes}
    try:
        with transaction.atomic():
            assessment = Assessment(provider=provider, activity=activity, kind=kind, title=title, **settings)
            if assessment.kind == Assessment.Kind.PRE_TEST:
                assessment.required_for, assessment.moc_boards = Assessment.RequiredFor.NOTHING, []
            assessment.save()
            _add_questions(assessment, spec)
            audit.record(
                actor=by,
                action=audit.AuditAction.ASSESSMENT_COPIED,
                obj=assessment,
                provider_id=provider.pk,
                data={"source": spec.source, "activity": activity.pk if activity else None},
            )
    except IntegrityError:
        # Another editor added one of this kind at the same moment.
        raise AuthoringError(
            _("“%(activity)s” already has %(kind)s.") % {"activity": activity, "kind": _kind_label(kind)},
            field="activity",
        ) from None
    return assessment


def copy_assessment(
    *, source: Assessment, activity: Activity | None, provider: Provider | None = None, by: User | None
) -> Assessment:
    """A copy of ``source`` (settings, questions with their keys, choices) on ``activity``, or in
    ``provider``'s library when ``activity`` is None. Only a provider's own assessments are copied."""
    target = _target_provider(activity, provider)
    if source.provider_id != target.pk:
        raise AuthoringError(
            _("“%(source)s” belongs to another provider; copy one of %(provider)s’s templates instead.")
            % {"source": source.title, "provider": target},
            field="source",
        )
    _check_editor(by, target)
    return _create(_spec_of(source), activity=activity, provider=target, by=by)


def add_starter_evaluation(
    *, activity: Activity | None, provider: Provider | None = None, by: User | None
) -> Assessment:
    """The portal's starter evaluation (``assessments/starter.py``) copied onto ``activity``, or into
    ``provider``'s library when ``activity`` is None."""
    target = _target_provider(activity, provider)
    _check_editor(by, target)
    return _create(starter_spec(), activity=activity, provider=target, by=by)


def create_pre_test_from_post_test(*, post_test: Assessment, by: User | None) -> Assessment:
    """A pre-test of the post-test's activity asking the same questions, with the same keys, so each
    learner's answers before and after are matched. Never required, not passed or failed."""
    if post_test.kind != Assessment.Kind.POST_TEST or post_test.activity is None:
        raise AuthoringError(
            _("Only an activity's post-test can give its questions to a pre-test."), field="kind"
        )
    _check_editor(by, post_test.provider)
    return _create(
        _spec_of(post_test),
        activity=post_test.activity,
        provider=post_test.provider,
        by=by,
        kind=Assessment.Kind.PRE_TEST,
        title=_("Pre-test: %(title)s") % {"title": post_test.title},
        passing_score=None,
        max_attempts=None,
        show_feedback=False,
        required_for=Assessment.RequiredFor.NOTHING,
        moc_boards=[],
    )


def source_settings(source: Assessment | None) -> dict[str, Any]:
    """The kind, title and settings a new assessment started from ``source`` (the starter evaluation when
    None) takes, for the add form to fill in before it checks them."""
    spec = starter_spec() if source is None else _spec_of(source)
    return {"kind": spec.kind, "title": spec.title, **spec.settings}


def fill_from(*, assessment: Assessment, source: Assessment | None, by: User | None) -> None:
    """Add the questions of ``source`` (the starter evaluation when None), keys kept, to ``assessment``,
    which was just made from it (``source_settings``); audited as a copy."""
    spec = starter_spec() if source is None else _spec_of(source)
    if source is not None and source.provider_id != assessment.provider_id:
        raise AuthoringError(_("That template belongs to another provider."), field="start_from")
    if spec.kind != assessment.kind:
        raise AuthoringError(
            _("The template is %(kind)s; this is not.") % {"kind": _kind_label(spec.kind)},
            field="start_from",
        )
    _check_editor(by, assessment.provider)
    with transaction.atomic():
        _add_questions(assessment, spec)
        audit.record(
            actor=by,
            action=audit.AuditAction.ASSESSMENT_COPIED,
            obj=assessment,
            provider_id=assessment.provider_id,
            data={"source": spec.source, "activity": assessment.activity_id},
        )


# --- A question's answers as text --------------------------------------------------------------------------


def choices_text(choices: Sequence[tuple[str, bool]]) -> str:
    """The answers as the form shows them: one a line, the correct ones starting with *."""
    return "\n".join(f"{CORRECT_MARK if correct else ''}{text}" for text, correct in choices)


def _lines(text: str) -> list[tuple[str, bool]]:
    answers = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        correct = line.startswith(CORRECT_MARK)
        answer = line.lstrip(CORRECT_MARK).strip() if correct else line
        if not answer:
            raise AuthoringError(_("A line holds only “*”: write the answer after it."), field="choices_text")
        if len(answer) > Choice._meta.get_field("text").max_length:  # type: ignore[operator]
            raise AuthoringError(
                _("An answer is longer than 500 characters: “%s…”") % answer[:40], field="choices_text"
            )
        answers.append((answer, correct))
    return answers


def _true_false(answers: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    marked = {text.casefold() for text, correct in answers if correct}
    unknown = [
        text for text, _correct in answers if text.casefold() not in (TRUE.casefold(), FALSE.casefold())
    ]
    if unknown or len(marked) != 1:
        raise AuthoringError(
            _(
                "A true-or-false question takes “*True” or “*False” (the correct one marked); its answers are made for it."
            ),
            field="choices_text",
        )
    return [(TRUE, TRUE.casefold() in marked), (FALSE, FALSE.casefold() in marked)]


def parse_choices(text: str, kind: str) -> list[tuple[str, bool]]:
    """``text`` (one answer a line, correct ones starting with *) as ``(answer, correct)`` pairs for a
    question of ``kind``; an AuthoringError on ``choices_text`` says what is wrong."""
    answers = _lines(text or "")
    if kind not in Question.CHOICE_KINDS:
        if answers:
            raise AuthoringError(
                _("A Likert or free-text question takes no answers to choose from: leave them empty."),
                field="choices_text",
            )
        return []
    if kind == Question.Kind.TRUE_FALSE:
        return _true_false(answers)
    if len(answers) < 2:
        raise AuthoringError(_("Write at least two answers, one a line."), field="choices_text")
    if len(answers) > MAX_CHOICES:
        raise AuthoringError(_("Write at most %d answers.") % MAX_CHOICES, field="choices_text")
    if len({a.casefold() for a, _c in answers}) != len(answers):
        raise AuthoringError(_("Two answers are the same; write each once."), field="choices_text")
    correct = sum(1 for _a, c in answers if c)
    if kind == Question.Kind.SINGLE and correct != 1:
        raise AuthoringError(
            _("A single-choice question needs exactly one correct answer, marked with *; %d are marked.")
            % correct,
            field="choices_text",
        )
    if kind == Question.Kind.MULTIPLE and correct < 1:
        raise AuthoringError(
            _("A multiple-choice question needs at least one correct answer, marked with *."),
            field="choices_text",
        )
    return answers


def set_choices(question: Question, answers: Sequence[tuple[str, bool]]) -> None:
    """Make ``question``'s choices ``answers``, in order: a choice whose text is unchanged keeps its row
    (and id), the rest are added or removed."""
    with transaction.atomic():
        existing = {c.text: c for c in question.choices.all()}
        keep: list[int] = []
        for position, (text, correct) in enumerate(answers, start=1):
            choice = existing.pop(text, None)
            if choice is None:
                choice = Choice.objects.create(
                    question=question, position=position, text=text, is_correct=correct
                )
            elif (choice.position, choice.is_correct) != (position, correct):
                choice.position, choice.is_correct = position, correct
                choice.save(update_fields=["position", "is_correct"])
            keep.append(choice.pk)
        question.choices.exclude(pk__in=keep).delete()
