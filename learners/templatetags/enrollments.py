from django import template
from django.utils import timezone

from learners.models import Enrollment

register = template.Library()


@register.inclusion_tag("learners/_enrollment_action.html", takes_context=True)
def enrollment_action(context, activity):
    """The activity page's call to action: enroll, or where the learner's enrollment stands."""
    user = context["request"].user
    enrollment = None
    if user.is_authenticated:
        enrollment = (
            Enrollment.objects.filter(learner=user, activity=activity).select_related("claim").first()
        )
    now = timezone.now()
    return {
        "activity": activity,
        "user": user,
        "enrollment": enrollment,
        "open_for_enrollment": activity.is_open_for_enrollment(at=now),
        "request": context["request"],
    }
