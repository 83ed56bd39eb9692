from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Activity
from learners.models import Enrollment
from portal import audit
from portal.models import User


class EnrollmentError(Exception):
    """Why a learner cannot enroll, in words fit to show them."""


def enroll(*, learner: User, activity: Activity, at: datetime | None = None) -> tuple[Enrollment, bool]:
    """Enroll ``learner`` in ``activity``; returns ``(enrollment, created)``.

    Enrolling twice returns the existing enrollment. Refuses drafts, activities that are over, and full
    activities: the activity row is locked while its enrollments are counted, so concurrent requests never
    exceed the capacity. Raises ``EnrollmentError``.
    """
    at = at or timezone.now()
    existing = Enrollment.objects.filter(learner=learner, activity=activity).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.status != Activity.Status.PUBLISHED:
            raise EnrollmentError(_("This activity is not open for enrollment."))
        if not locked.is_open_for_enrollment(at=at):
            raise EnrollmentError(_("This activity has ended and no longer takes enrollments."))
        existing = Enrollment.objects.filter(learner=learner, activity=locked).first()
        if existing is not None:
            return existing, False
        if (
            locked.capacity is not None
            and Enrollment.objects.filter(activity=locked).count() >= locked.capacity
        ):
            raise EnrollmentError(_("This activity is full."))
        try:
            with transaction.atomic():
                enrollment = Enrollment.objects.create(learner=learner, activity=locked)
        except IntegrityError:  # the same learner, a moment ago, in another request
            return Enrollment.objects.get(learner=learner, activity=locked), False
        audit.record(
            actor=learner,
            action=audit.AuditAction.ENROLLMENT_CREATED,
            obj=enrollment,
            provider_id=locked.provider_id,
        )
    return enrollment, True
