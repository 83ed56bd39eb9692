"""Taking an assessment: the questions as a learner sees them, and the attempt they submit, scored.

Correct answers stay on the server: ``learner_questions`` gives the questions and choices without them,
and only ``submit_attempt`` compares. Attempts are counted with the enrollment row locked (the lock a claim
takes), so two tabs submitting at once cannot win an extra attempt; a passed post-test is final (the
database holds one pass per learner and test); a pre-test and an evaluation are taken once.
"""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from assessments.models import Answer, Assessment, AssessmentVersion, Attempt, Question
from assessments.services import tallies
from learners.models import CreditClaim, Enrollment
from portal import audit

MAX_TEXT = 5000  # characters of a free-text answer
NON_FIELD = "__all__"
# How long after a test changed a page of its previous version may still be submitted, scored as shown: a
# learner who opened the test before the edit finishes it. An older version is refused, so nobody picks a
# version with an easier passing score or an answer key corrected since.
SUPERSEDED_GRACE = timedelta(hours=3)


class AttemptError(Exception):
    """A refused attempt: ``errors`` maps each question's field (``q<id>``) or ``__all__`` to why."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def field_name(question: dict) -> str:
    return f"q{question['id']}"


@dataclass(frozen=True)
class LearnerQuestion:
    """A question as the learner sees it before submitting: no correct answers, no explanation."""

    id: int
    field: str
    number: int
    kind: str
    text: str
    required: bool
    choices: list[tuple[int, str]]  # (id, text)


def question_order(version: AssessmentVersion, *, enrollment: Enrollment, number: int) -> list[dict]:
    """The version's questions in the order this attempt shows them: as authored, or (when the assessment
    shuffles) in an order of the learner's own for that attempt, the same on every page load."""
    questions = list(version.content["questions"])
    # Frozen in the version: switching shuffling on or off later never reorders an attempt's review.
    if version.content.get("shuffle", version.assessment.shuffle_questions):
        # An order, not a secret: seeded so that the page and its submission agree.
        random.Random(f"{enrollment.public_id}:{version.assessment_id}:{number}").shuffle(questions)  # noqa: S311
    return questions


def learner_questions(
    version: AssessmentVersion, *, enrollment: Enrollment, number: int
) -> list[LearnerQuestion]:
    return [
        LearnerQuestion(
            id=q["id"],
            field=field_name(q),
            number=n,
            kind=q["kind"],
            text=q["text"],
            required=q["required"],
            choices=[(c["id"], c["text"]) for c in q["choices"]],
        )
        for n, q in enumerate(question_order(version, enrollment=enrollment, number=number), start=1)
    ]


def submittable_version(
    assessment: Assessment, version_id: int | None, *, at: datetime | None = None
) -> AssessmentVersion | None:
    """The version a submission may be scored on: the assessment's latest, or the one before it while
    ``SUPERSEDED_GRACE`` has not passed since it was superseded, and of the assessment's kind; else None."""
    if version_id is None:
        return None
    version = assessment.versions.filter(pk=version_id).first()
    if version is None or version.content.get("kind") != assessment.kind:
        return None
    newer = assessment.versions.filter(number__gt=version.number).order_by("number").first()
    if newer is not None and newer.created < (at or timezone.now()) - SUPERSEDED_GRACE:
        return None
    return version


def refusal(
    *, enrollment: Enrollment, assessment: Assessment, attempts: Sequence[Attempt], at: datetime | None = None
) -> str | None:
    """Why the learner cannot start another attempt now, or None. ``attempts``: theirs at this assessment."""
    if assessment.activity_id != enrollment.activity_id:
        return _("This assessment is not part of your activity.")
    start = enrollment.activity.start
    if (at or timezone.now()) < start:
        # What a learner completes counts from the activity's start: a test taken before it would date the
        # completion (on the certificate, and for the registries) before the activity began.
        return _("This activity's tests open when it starts, on %(date)s.") % {
            "date": formats.date_format(timezone.localtime(start))
        }
    if CreditClaim.objects.filter(enrollment=enrollment).exists():
        return _("You have claimed credit for this activity; its assessments are closed.")
    if any(attempt.passed for attempt in attempts):
        return _("You passed this post-test. A pass is final.")
    allowed = assessment.attempts_allowed
    if allowed is not None and len(attempts) >= allowed:
        if assessment.kind == Assessment.Kind.POST_TEST:
            return _("You have used all %(n)d attempts at this post-test.") % {"n": allowed}
        if assessment.kind == Assessment.Kind.EVALUATION:
            return _("You have completed this evaluation.")
        return _("You have taken this pre-test.")
    if assessment.kind == Assessment.Kind.PRE_TEST:
        took_post_test = Attempt.objects.filter(
            enrollment=enrollment,
            assessment__activity_id=assessment.activity_id,
            assessment__kind="post_test",
        ).exists()
        if took_post_test:
            return _("The pre-test is taken before the post-test.")
    return None


def submit_attempt(
    *,
    enrollment: Enrollment,
    assessment: Assessment,
    version: AssessmentVersion,
    responses: Mapping[str, Sequence[str]],
    at: datetime | None = None,
) -> Attempt:
    """Score and record the learner's answers to ``version`` (the one they were shown).

    ``responses`` maps each question's field (``q<id>``) to the values the form sent (choice ids, a
    Likert value 1–5, or text). Raises ``AttemptError`` naming each question left unanswered or answered
    with something it does not offer, or (``__all__``) why no attempt may be made; nothing is written then.
    """
    at = at or timezone.now()
    if version.assessment_id != assessment.pk:
        raise AttemptError({NON_FIELD: _("This version is not of this assessment.")})
    if submittable_version(assessment, version.pk, at=at) is None:
        raise AttemptError({NON_FIELD: _("This page was out of date: answer the questions again.")})
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().select_related("activity").get(pk=enrollment.pk)
        attempts = list(Attempt.objects.filter(enrollment=enrollment, assessment=assessment))
        why_not = refusal(enrollment=enrollment, assessment=assessment, attempts=attempts, at=at)
        if why_not:
            raise AttemptError({NON_FIELD: why_not})
        answers, errors = _read_answers(version.content["questions"], responses)
        if errors:
            raise AttemptError(errors)
        attempt = Attempt(
            enrollment=enrollment,
            assessment=assessment,
            version=version,
            number=len(attempts) + 1,
            submitted_at=at,
        )
        if assessment.is_scored:
            scored = [a for a in answers if a.correct is not None]
            if not scored:  # a score of nothing would read 100 %
                raise AttemptError({NON_FIELD: _("This test has no scored questions yet.")})
            attempt.scored = len(scored)
            attempt.correct = sum(1 for a in scored if a.correct)
            attempt.score = _percent(attempt.correct, attempt.scored)
            if assessment.kind == Assessment.Kind.POST_TEST:
                passing = version.content["passing_score"] or assessment.passing_score or 100
                attempt.passed = attempt.score >= Decimal(passing)
        try:
            with transaction.atomic():
                attempt.save()
        except IntegrityError:  # cannot happen under the enrollment lock; the constraints stand behind it
            raise AttemptError({NON_FIELD: _("This attempt was already recorded.")}) from None
        for answer in answers:
            answer.attempt = attempt
        Answer.objects.bulk_create(answers)
        tallies.record(attempt, answers, attempts)
        audit.record(
            actor=enrollment.learner,
            action=audit.AuditAction.ATTEMPT_SUBMITTED,
            obj=attempt,
            provider_id=assessment.provider_id,
            data={
                "assessment": assessment.pk,
                "kind": assessment.kind,
                "version": version.number,
                "number": attempt.number,
                "score": None if attempt.score is None else f"{attempt.score:.2f}",
                "passed": attempt.passed,
            },
        )
    return attempt


def _percent(correct: int, total: int) -> Decimal:
    return (Decimal(100) * correct / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _read_answers(
    questions: list[dict], responses: Mapping[str, Sequence[str]]
) -> tuple[list[Answer], dict[str, str]]:
    answers, errors = [], {}
    for question in questions:
        field = field_name(question)
        values = [v.strip() for v in responses.get(field, ()) if isinstance(v, str) and v.strip()]
        answer = Answer(question_pk=question["id"], question_key=question["key"])
        problem = _fill(answer, question, values)
        if problem:
            errors[field] = problem
        elif answer.choice_ids or answer.value is not None or answer.text:
            answers.append(answer)
    return answers, errors


def _fill(answer: Answer, question: dict, values: list[str]) -> str | None:
    """Put ``values`` into ``answer`` as ``question`` takes them; why not, or None."""
    kind = question["kind"]
    if not values:
        if question["required"] or kind in Question.SCORED_KINDS:
            return _("Answer this question.")
        return None
    if kind in Question.CHOICE_KINDS:
        offered = {str(c["id"]): c for c in question["choices"]}
        picked = sorted({int(v) for v in values if v in offered})
        if len(picked) != len(set(values)):
            return _("Choose from the answers given.")
        if kind != Question.Kind.MULTIPLE and len(picked) != 1:
            return _("Choose one answer.")
        answer.choice_ids = picked
        correct = sorted(int(c_id) for c_id, c in offered.items() if c["correct"])
        answer.correct = picked == correct
        return None
    if kind == Question.Kind.LIKERT:
        if len(values) != 1 or values[0] not in {"1", "2", "3", "4", "5"}:
            return _("Choose a value from 1 to 5.")
        answer.value = int(values[0])
        return None
    text = "\n".join(values)
    if len(text) > MAX_TEXT:
        return _("Keep the answer under %(n)d characters.") % {"n": MAX_TEXT}
    answer.text = text
    return None
