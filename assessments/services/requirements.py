"""Where a learner stands in an activity's pre-test, post-test and evaluation, and what that allows.

A post-test or evaluation gates what its ``required_for`` says: all credit and MOC points (the default),
one or every board's MOC points only, or nothing. A pre-test never gates. An assessment with no questions
yet is not offered and gates nothing. The claim service asks ``progress`` before it records a claim, and
the completion date is when the last requirement the claim depends on was met (ACCME: the 30 days to report
MOC start "after the physician has completed the evaluation requirements", accme.org/faq/7921).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments.models import Assessment, Attempt
from learners.models import Enrollment

STEP_ORDER = [Assessment.Kind.PRE_TEST, Assessment.Kind.POST_TEST, Assessment.Kind.EVALUATION]


@dataclass
class Standing:
    """One learner at one assessment: their attempts, in order, and what follows from them."""

    assessment: Assessment
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.assessment.kind

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def left(self) -> int | None:
        """Attempts left; None for unlimited."""
        allowed = self.assessment.attempts_allowed
        if self.passed_attempt is not None:
            return 0
        return None if allowed is None else max(allowed - self.used, 0)

    @property
    def best_score(self) -> Decimal | None:
        scores = [a.score for a in self.attempts if a.score is not None]
        return max(scores) if scores else None

    @property
    def passed_attempt(self) -> Attempt | None:
        return next((a for a in self.attempts if a.passed), None)

    @property
    def met_at(self) -> datetime | None:
        """When the learner met this requirement: passed the post-test, submitted the evaluation or (for a
        pre-test, which requires nothing) took it."""
        if self.kind == Assessment.Kind.POST_TEST:
            passed = self.passed_attempt
            return passed.submitted_at if passed else None
        return self.attempts[0].submitted_at if self.attempts else None

    @property
    def is_met(self) -> bool:
        return self.met_at is not None

    @property
    def is_done(self) -> bool:
        """Nothing more to do here: met, or no attempts left."""
        return self.is_met or self.left == 0

    def gates_credit(self) -> bool:
        return self.assessment.required_for == Assessment.RequiredFor.CREDIT

    def gates_moc(self, board: str) -> bool:
        required_for = self.assessment.required_for
        if required_for == Assessment.RequiredFor.CREDIT:
            return True
        boards = self.assessment.moc_boards or []
        return required_for == Assessment.RequiredFor.MOC and (not boards or board in boards)

    def unmet_message(self) -> str:
        """What the learner still has to do, in their words: "Pass the post-test (70 % needed; your best is
        60 %, 1 attempt left)"."""
        if self.kind == Assessment.Kind.EVALUATION:
            return _("Complete the evaluation.")
        details = _("%(score)d %% needed") % {"score": self.assessment.passing_score or 0}
        tail = []
        if self.best_score is not None:
            tail.append(_("your best is %(score)s %%") % {"score": _score_text(self.best_score)})
        if self.left is None:
            tail.append(_("unlimited attempts"))
        elif self.left == 0:
            tail.append(_("no attempts left: ask the provider"))
        else:
            tail.append(ngettext("%d attempt left", "%d attempts left", self.left) % self.left)
        return _("Pass the post-test (%(details)s).") % {"details": details + "; " + ", ".join(tail)}


def _score_text(score: Decimal) -> str:
    return f"{score.normalize():f}" if score == score.to_integral() else f"{score:.2f}".rstrip("0")


@dataclass
class Progress:
    """A learner's standing in every assessment of one activity, in step order."""

    enrollment: Enrollment
    standings: list[Standing]

    def of(self, kind: str) -> Standing | None:
        return next((s for s in self.standings if s.kind == kind), None)

    @property
    def requirements(self) -> list[Standing]:
        return [s for s in self.standings if s.kind != Assessment.Kind.PRE_TEST]

    def unmet_for_credit(self) -> list[Standing]:
        return [s for s in self.requirements if s.gates_credit() and not s.is_met]

    def unmet_for_moc(self, board: str) -> list[Standing]:
        return [s for s in self.requirements if s.gates_moc(board) and not s.is_met]

    def may_claim(self) -> bool:
        return not self.unmet_for_credit()

    def completed_at(self, *, moc_boards: Iterable[str] = ()) -> datetime | None:
        """When the last requirement a claim (with MOC for ``moc_boards``) depends on was met; None when it
        depends on none (the claim itself completes the activity)."""
        boards = list(moc_boards)
        times = [
            s.met_at
            for s in self.requirements
            if s.met_at is not None and (s.gates_credit() or any(s.gates_moc(b) for b in boards))
        ]
        return max(times) if times else None


def _offered(activity_ids: Iterable[int]) -> list[Assessment]:
    return list(
        Assessment.objects.filter(activity_id__in=set(activity_ids))
        .annotate(question_count=Count("questions"))
        .filter(question_count__gt=0)
    )


def offered(activity_id: int) -> list[Assessment]:
    """The activity's assessments a learner can take (those with questions), in step order."""
    return sorted(_offered([activity_id]), key=_step)


def _step(assessment: Assessment) -> int:
    return STEP_ORDER.index(Assessment.Kind(assessment.kind))


def progress(enrollment: Enrollment) -> Progress:
    """The learner's progress in the enrollment's activity, in two queries."""
    return progress_for_many([enrollment])[enrollment.pk]


def progress_for_many(enrollments: Iterable[Enrollment]) -> dict[int, Progress]:
    """Progress for several enrollments (a learner's dashboard), in two queries whatever their number."""
    enrollments = list(enrollments)
    by_activity: dict[int, list[Assessment]] = {}
    for assessment in _offered(e.activity_id for e in enrollments):
        assert assessment.activity_id is not None
        by_activity.setdefault(assessment.activity_id, []).append(assessment)
    attempts: dict[tuple[int, int], list[Attempt]] = {}
    if by_activity:
        rows = Attempt.objects.filter(enrollment__in=[e.pk for e in enrollments]).order_by("number")
        for attempt in rows:
            attempts.setdefault((attempt.enrollment_id, attempt.assessment_id), []).append(attempt)
    result = {}
    for enrollment in enrollments:
        assessments = sorted(by_activity.get(enrollment.activity_id, []), key=_step)
        result[enrollment.pk] = Progress(
            enrollment,
            [Standing(a, attempts.get((enrollment.pk, a.pk), [])) for a in assessments],
        )
    return result
