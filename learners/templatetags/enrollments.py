from django import template
from django.utils import timezone

from assessments.selectors.steps import steps_for
from assessments.services import requirements
from learners.models import Certificate, Enrollment

register = template.Library()


@register.inclusion_tag("learners/_enrollment_action.html", takes_context=True)
def enrollment_action(context, activity):
    """The activity page's call to action: enroll, or where the learner's enrollment stands, with the steps
    to credit (enroll, the pre-test, post-test and evaluation the activity has, claim, certificate)."""
    user = context["request"].user
    enrollment = None
    if user.is_authenticated:
        enrollment = (
            Enrollment.objects.filter(learner=user, activity=activity).select_related("claim").first()
        )
    if enrollment is not None:
        certificate = (
            Certificate.objects.filter(enrollment=enrollment).first()
            if enrollment.status == Enrollment.Status.COMPLETED
            else None
        )
        steps = steps_for(
            enrollment=enrollment, progress=requirements.progress(enrollment), certificate=certificate
        )
    else:
        steps = steps_for(enrollment=None, progress=None, assessments=requirements.offered(activity.pk))
    now = timezone.now()
    return {
        "activity": activity,
        "user": user,
        "enrollment": enrollment,
        "steps": steps,
        "next_step": next((s for s in steps if s.is_current and s.url), None),
        "open_for_enrollment": activity.is_open_for_enrollment(at=now),
        "request": context["request"],
    }
