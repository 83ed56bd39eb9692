"""The learner's pre-test, post-test and evaluation: taking one, each attempt's result, and their attempts.

Every page is the signed-in learner's own: the enrollment is looked up among theirs, so anyone else (another
learner, any provider's staff) gets a 404. Correct answers and explanations reach the browser only on a
result page, after the attempt is recorded."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from assessments.forms import LIKERT_LABELS, AttemptForm, version_id_of
from assessments.models import Assessment, AssessmentVersion, Attempt, Question
from assessments.selectors.steps import Step, score_text, steps_for
from assessments.services import attempts as attempt_service
from assessments.services import requirements
from assessments.services.versions import current_version
from learners.models import Certificate, Enrollment
from learners.selectors import learner as learner_selectors
from portal.lib.http import private


def _enrollment(request, public_id) -> Enrollment:
    try:
        return learner_selectors.enrollment_for(user=request.user, public_id=public_id)
    except Enrollment.DoesNotExist:
        raise Http404 from None


def _offered(enrollment: Enrollment, kind: str) -> Assessment:
    assessment = next((a for a in requirements.offered(enrollment.activity_id) if a.kind == kind), None)
    if assessment is None:
        raise Http404(_("This activity has no such test."))
    return assessment


def _steps(enrollment: Enrollment, progress: requirements.Progress) -> list[Step]:
    certificate = Certificate.objects.filter(enrollment=enrollment).first()
    return steps_for(enrollment=enrollment, progress=progress, certificate=certificate)


@require_http_methods(["GET", "POST"])
@login_required
def take(request, public_id, kind: str) -> HttpResponse:
    """The questions of the learner's next attempt (GET), and its submission (POST), then its result."""
    enrollment = _enrollment(request, public_id)
    assessment = _offered(enrollment, kind)
    attempts = list(Attempt.objects.filter(enrollment=enrollment, assessment=assessment))
    why_not = attempt_service.refusal(enrollment=enrollment, assessment=assessment, attempts=attempts)
    if why_not:
        return _closed(
            request, enrollment, assessment, why_not, status=200 if request.method == "GET" else 400
        )
    version: AssessmentVersion | None = current_version(assessment)
    if request.method == "POST":  # the version the learner was shown, which need not be the latest
        version = attempt_service.submittable_version(assessment, version_id_of(request.POST))
    errors = {}
    if version is None:
        errors = {attempt_service.NON_FIELD: _("This page was out of date: answer the questions again.")}
        version = current_version(assessment)
    version.assessment = assessment
    number = len(attempts) + 1
    questions = attempt_service.learner_questions(version, enrollment=enrollment, number=number)
    form = AttemptForm(
        questions,
        version_id=version.pk,
        data=request.POST if request.method == "POST" else None,
        errors=errors,
    )
    if request.method == "POST" and not errors:
        try:
            attempt = attempt_service.submit_attempt(
                enrollment=enrollment, assessment=assessment, version=version, responses=form.responses()
            )
        except attempt_service.AttemptError as exc:
            form.errors = exc.errors
        else:
            messages.success(request, _("Your answers are recorded."))
            return redirect(
                "assessments:result", public_id=enrollment.public_id, kind=kind, number=attempt.number
            )
    context = {
        "enrollment": enrollment,
        "activity": enrollment.activity,
        "assessment": assessment,
        "form": form,
        "number": number,
        "standing": requirements.Standing(assessment, attempts),
    }
    status = 400 if form.has_errors else 200
    return private(render(request, "assessments/take.html", context, status=status))


def _closed(request, enrollment, assessment, why_not: str, *, status: int) -> HttpResponse:
    progress = requirements.progress(enrollment)
    context = {
        "enrollment": enrollment,
        "activity": enrollment.activity,
        "assessment": assessment,
        "reason": why_not,
        "steps": _steps(enrollment, progress),
    }
    return private(render(request, "assessments/closed.html", context, status=status))


@dataclass
class Review:
    """One question of a recorded attempt: what the learner answered and, with feedback, what was right."""

    number: int
    text: str
    kind: str
    given: list[str]
    correct: bool | None
    correct_answers: list[str]
    explanation: str


def _given(question: dict, answer) -> list[str]:
    if answer is None:
        return []
    if question["kind"] in Question.CHOICE_KINDS:
        texts = {c["id"]: c["text"] for c in question["choices"]}
        return [texts.get(c, "?") for c in answer.choice_ids]
    if question["kind"] == Question.Kind.LIKERT and answer.value is not None:
        labels = dict(LIKERT_LABELS)
        return [f"{answer.value} · {labels.get(answer.value, '')}"]
    return [answer.text] if answer.text else []


def _reviews(attempt: Attempt, *, with_answers: bool) -> list[Review]:
    answers = {a.question_pk: a for a in attempt.answers.all()}
    order = attempt_service.question_order(
        attempt.version, enrollment=attempt.enrollment, number=attempt.number
    )
    return [
        Review(
            number=n,
            text=q["text"],
            kind=q["kind"],
            given=_given(q, answers.get(q["id"])),
            correct=answers[q["id"]].correct if q["id"] in answers else None,
            correct_answers=[c["text"] for c in q["choices"] if c["correct"]] if with_answers else [],
            explanation=q["explanation"] if with_answers else "",
        )
        for n, q in enumerate(order, start=1)
    ]


HELD_UNTIL_POST_TEST, HELD_FOR_GOOD = "until the post-test", "for good"


def _feedback_held(attempt: Attempt, progress: requirements.Progress) -> str | None:
    """Whether a pre-test's answers are held back, which would give away the post-test's (they share
    questions): until the post-test is over (``HELD_UNTIL_POST_TEST``; a post-test still without questions
    too), or for good when the post-test does not show its own answers (``HELD_FOR_GOOD``); None if not."""
    if attempt.assessment.kind != Assessment.Kind.PRE_TEST:
        return None
    post_test = Assessment.objects.filter(
        activity=attempt.assessment.activity_id, kind=Assessment.Kind.POST_TEST
    ).first()
    if post_test is None:
        return None
    if not post_test.show_feedback:
        return HELD_FOR_GOOD
    standing = progress.of(Assessment.Kind.POST_TEST)
    claimed = attempt.enrollment.status == Enrollment.Status.COMPLETED
    return None if claimed or (standing is not None and standing.is_done) else HELD_UNTIL_POST_TEST


@login_required
def result(request, public_id, kind: str, number: int) -> HttpResponse:
    """One of the learner's attempts: score, pass or fail, attempts left, and (with feedback) each question."""
    enrollment = _enrollment(request, public_id)
    attempt = get_object_or_404(
        Attempt.objects.select_related("assessment", "version").prefetch_related("answers"),
        enrollment=enrollment,
        assessment__activity_id=enrollment.activity_id,
        assessment__kind=kind,
        number=number,
    )
    attempt.enrollment = enrollment
    attempt.version.assessment = attempt.assessment
    progress = requirements.progress(enrollment)
    standing = progress.of(kind) or requirements.Standing(
        attempt.assessment, list(Attempt.objects.filter(enrollment=enrollment, assessment=attempt.assessment))
    )
    held = _feedback_held(attempt, progress)
    scored = attempt.assessment.is_scored
    show_reviews = not scored or (attempt.assessment.show_feedback and held is None)
    steps = _steps(enrollment, progress)
    context = {
        "enrollment": enrollment,
        "activity": enrollment.activity,
        "assessment": attempt.assessment,
        "attempt": attempt,
        "score": score_text(attempt.score),
        # The passing score the attempt was judged on, which a later edit of the test does not change.
        "passing_score": attempt.version.content.get("passing_score"),
        "standing": standing,
        "is_latest": standing.attempts and standing.attempts[-1].pk == attempt.pk,
        "held": held == HELD_UNTIL_POST_TEST and attempt.assessment.show_feedback,
        "reviews": _reviews(attempt, with_answers=scored) if show_reviews else [],
        "steps": steps,
        "next_step": next((s for s in steps if s.is_current and s.url), None),
    }
    return private(render(request, "assessments/result.html", context))


@login_required
def attempts(request, public_id) -> HttpResponse:
    """Every attempt the learner made in this activity's tests and evaluation, in step order."""
    enrollment = _enrollment(request, public_id)
    progress = requirements.progress(enrollment)
    rows = (
        Attempt.objects.filter(enrollment=enrollment)
        .select_related("assessment")
        .order_by("assessment__kind", "number")
    )
    groups: dict[int, tuple[Assessment, list[Attempt]]] = {}
    for attempt in rows:
        groups.setdefault(attempt.assessment_id, (attempt.assessment, []))[1].append(attempt)
    ordered = sorted(groups.values(), key=lambda g: requirements.STEP_ORDER.index(Assessment.Kind(g[0].kind)))
    context = {
        "enrollment": enrollment,
        "activity": enrollment.activity,
        "groups": [(a, [(t, score_text(t.score)) for t in ts]) for a, ts in ordered],
        "steps": _steps(enrollment, progress),
    }
    return private(render(request, "assessments/attempts.html", context))
