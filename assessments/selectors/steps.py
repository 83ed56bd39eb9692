"""The path to credit as a learner sees it: enroll → pre-test → post-test → evaluation → claim → certificate,
each step done, next, still to do or closed, with what the learner needs to know and a link to act.

Built from ``requirements.Progress`` (two queries for any number of enrollments) and what the page already
holds (the claim, the certificate); it queries nothing itself. ``{% completion_steps steps %}`` renders
the list; the learner's dashboard, the activity page, the claim page and a result page show it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assessments.models import Assessment
from assessments.services.requirements import Progress, Standing
from learners.models import Certificate, Enrollment

DONE, CURRENT, TODO, CLOSED = "done", "current", "todo", "closed"
STATE_LABELS = {
    DONE: gettext_lazy("Done"),
    CURRENT: gettext_lazy("Next"),
    TODO: gettext_lazy("To do"),
    CLOSED: gettext_lazy("Closed"),
}


@dataclass
class Step:
    key: str
    label: str
    state: str = TODO
    detail: str = ""
    url: str = ""  # where to act, when the learner can
    action: str = ""
    review_url: str = ""  # the learner's last attempt, when there is one
    available: bool = False

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def is_current(self) -> bool:
        return self.state == CURRENT


def score_text(score: Decimal | None) -> str:
    """A percentage as a learner reads it: 80, 66.67, 87.5."""
    if score is None:
        return ""
    return f"{score:.0f}" if score == score.to_integral() else f"{score:.2f}".rstrip("0")


def _day(moment: datetime) -> str:
    """A date as the learner's pages print one: Dec 2, 2026."""
    return formats.date_format(timezone.localtime(moment), "M j, Y")


def take_url(enrollment: Enrollment, kind: str) -> str:
    return reverse("assessments:take", kwargs={"public_id": enrollment.public_id, "kind": kind})


def result_url(enrollment: Enrollment, kind: str, number: int) -> str:
    return reverse(
        "assessments:result", kwargs={"public_id": enrollment.public_id, "kind": kind, "number": number}
    )


def attempts_left_text(standing: Standing) -> str:
    if standing.left is None:
        return _("unlimited attempts")
    if standing.left == 0:
        return _("no attempts left")
    return ngettext("%d attempt left", "%d attempts left", standing.left) % standing.left


def gate_text(standing: Standing) -> str:
    """What the assessment is needed for, when it is not every credit."""
    assessment = standing.assessment
    if assessment.kind == Assessment.Kind.PRE_TEST or standing.gates_credit():
        return ""
    if assessment.required_for == Assessment.RequiredFor.MOC:
        boards = ", ".join(assessment.moc_boards or [])
        if boards:
            return _("Needed for %(boards)s MOC points only.") % {"boards": boards}
        return _("Needed for MOC points only.")
    return _("Optional.")


def _pre_test(step: Step, standing: Standing, *, closed: bool) -> None:
    if standing.used:
        step.state = DONE
        step.detail = _("Your score: %(score)s %%. It does not count towards credit.") % {
            "score": score_text(standing.best_score)
        }
    elif closed:
        step.state = CLOSED
        step.detail = _("Not taken: the pre-test comes before the post-test.")
    else:
        step.available = True
        step.detail = _("Optional and not counted towards credit: what you know before the activity.")
        step.action = _("Take the pre-test")


def _post_test(step: Step, standing: Standing, *, claimed: bool) -> None:
    needed = standing.assessment.passing_score or 0
    passed = standing.passed_attempt
    best = score_text(standing.best_score)
    if passed is not None:
        step.state = DONE
        step.detail = _("Passed with %(score)s %% (%(needed)d %% needed).") % {
            "score": score_text(passed.score),
            "needed": needed,
        }
        return
    parts = [_("%(needed)d %% needed") % {"needed": needed}]
    if standing.used:
        parts.append(_("your best is %(score)s %%, not passed") % {"score": best})
    parts.append(attempts_left_text(standing))
    step.detail = "; ".join(parts) + "."
    if claimed or standing.left == 0:
        step.state = CLOSED
        if standing.left == 0 and not claimed:
            step.detail += " " + _("Ask the provider if you need another attempt.")
        return
    step.available = True
    step.action = _("Try the post-test again") if standing.used else _("Take the post-test")


def _evaluation(step: Step, standing: Standing, *, claimed: bool) -> None:
    if standing.used:
        step.state = DONE
        step.detail = _("Submitted on %(date)s. Thank you.") % {
            "date": _day(standing.attempts[0].submitted_at)
        }
    elif claimed:
        step.state = CLOSED
        step.detail = _("Not submitted.")
    else:
        step.available = True
        step.detail = _("A few questions about the activity; not scored.")
        step.action = _("Complete the evaluation")


def assessment_step(enrollment: Enrollment | None, standing: Standing, *, progress: Progress | None) -> Step:
    assessment = standing.assessment
    step = Step(assessment.kind, assessment.get_kind_display())
    claimed = enrollment is not None and enrollment.status == Enrollment.Status.COMPLETED
    if assessment.kind == Assessment.Kind.PRE_TEST:
        post = progress.of(Assessment.Kind.POST_TEST) if progress else None
        _pre_test(step, standing, closed=claimed or bool(post and post.used))
    elif assessment.kind == Assessment.Kind.POST_TEST:
        _post_test(step, standing, claimed=claimed)
    else:
        _evaluation(step, standing, claimed=claimed)
    if enrollment is None:  # not enrolled yet: what the activity asks, no links
        step.state, step.available, step.action = TODO, False, ""
        step.detail = _describe(standing)
    elif step.available:
        step.url = take_url(enrollment, assessment.kind)
    if gate := gate_text(standing):
        step.detail = f"{step.detail} {gate}".strip()
    if enrollment is not None and standing.attempts:
        step.review_url = result_url(enrollment, assessment.kind, standing.attempts[-1].number)
    return step


def _describe(standing: Standing) -> str:
    assessment = standing.assessment
    if assessment.kind == Assessment.Kind.PRE_TEST:
        return _("Optional and not counted towards credit.")
    if assessment.kind == Assessment.Kind.POST_TEST:
        allowed = assessment.attempts_allowed
        attempts = (
            _("unlimited attempts")
            if allowed is None
            else ngettext("%d attempt allowed", "%d attempts allowed", allowed) % allowed
        )
        return _("%(needed)d %% needed to pass; %(attempts)s.") % {
            "needed": assessment.passing_score or 0,
            "attempts": attempts,
        }
    return _("A few questions about the activity; not scored.")


def steps_for(
    *,
    enrollment: Enrollment | None,
    progress: Progress | None,
    assessments: Sequence[Assessment] = (),
    certificate: Certificate | None = None,
) -> list[Step]:
    """The learner's steps in ``enrollment`` (None: not enrolled; ``assessments`` are then the activity's
    offered ones), with the first one they can act on marked current."""
    steps = [Step("enroll", _("Enroll"), DONE if enrollment else CURRENT)]
    if enrollment is None:
        steps[0].detail = _("Free to start; your progress is saved.")
    standings = progress.standings if progress else [Standing(a) for a in assessments]
    steps += [assessment_step(enrollment, s, progress=progress) for s in standings]
    steps.append(_claim_step(enrollment, progress))
    steps.append(_certificate_step(enrollment, certificate))
    if enrollment is not None:
        current = next((s for s in steps if s.available), None)
        for step in steps:
            if step.state == TODO and step is current:
                step.state = CURRENT
    return steps


def _claim_step(enrollment: Enrollment | None, progress: Progress | None) -> Step:
    step = Step("claim", _("Claim credit"))
    if enrollment is None:
        step.detail = _("Claim the credit your participation earned.")
        return step
    claim = getattr(enrollment, "claim", None) if enrollment.status == Enrollment.Status.COMPLETED else None
    if claim is not None:
        step.state = DONE
        step.detail = _("Claimed on %(date)s.") % {"date": _day(claim.claimed_at)}
        return step
    unmet = progress.unmet_for_credit() if progress else []
    if unmet:
        step.detail = " ".join(s.unmet_message() for s in unmet)
        return step
    step.available = True
    step.detail = _("Every requirement is met.") if progress and progress.requirements else ""
    step.url = reverse("learners:claim", kwargs={"public_id": enrollment.public_id})
    step.action = _("Claim credit")
    return step


def _certificate_step(enrollment: Enrollment | None, certificate: Certificate | None) -> Step:
    step = Step("certificate", _("Certificate"))
    if certificate is not None:
        step.state = DONE
        step.detail = _("Issued: code %(code)s.") % {"code": certificate.code}
        if certificate.revoked_at is None:
            step.url = reverse(
                "learners:certificate_pdf", kwargs={"verification_id": certificate.verification_id}
            )
            step.action = _("Download certificate %(code)s") % {"code": certificate.code}
    elif enrollment is not None and enrollment.status == Enrollment.Status.COMPLETED:
        step.state = CURRENT
        step.detail = _("On its way by email.")
    else:
        step.detail = _("Emailed to you when you claim.")
    return step
