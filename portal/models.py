from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.validators import validate_not_formula


class TimestampedModel(models.Model):
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    modified = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractUser):
    """A person who signs in with their email address: a learner, provider staff or accreditation staff."""

    # Django drops an inherited field set to None; the stubs only know AbstractUser's username as a str.
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    # Legal names print on certificates and go into registry files exactly as typed.
    first_name = models.CharField(
        _("first name"), max_length=150, blank=True, validators=[validate_not_formula]
    )
    last_name = models.CharField(
        _("last name"), max_length=150, blank=True, validators=[validate_not_formula]
    )

    # The stubs expect auth's UserManager (usernames); this one signs people up by email alone.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ci")]

    def __str__(self):
        return self.email


class AuditAction(models.TextChoices):
    """Every action the audit trail records, ``<model>.<verb>``; ``portal.audit.record`` refuses any other.

    A new change that accreditors should see gets a member here (and a migration for the choices)."""

    # Activities: imported from a listing, updated by a later import, published and unpublished by staff.
    ACTIVITY_IMPORTED = "activity.imported", _("Activity imported")
    ACTIVITY_UPDATED = "activity.updated", _("Activity updated by an import")
    ACTIVITY_PUBLISHED = "activity.published", _("Activity published")
    ACTIVITY_UNPUBLISHED = "activity.unpublished", _("Activity unpublished")
    # Learners: their profile, enrollments and claims.
    PROFILE_CREATED = "profile.created", _("Learner profile created")
    PROFILE_CHANGED = "profile.changed", _("Learner profile changed")
    ENROLLMENT_CREATED = "enrollment.created", _("Learner enrolled")
    CLAIM_CREATED = "claim.created", _("Credit claimed")
    # Assessments: learners' attempts at pre-tests, post-tests and evaluations; staff copying templates.
    ATTEMPT_SUBMITTED = "attempt.submitted", _("Assessment attempt submitted")
    ASSESSMENT_COPIED = "assessment.copied", _("Assessment copied from a template")
    # Sessions of live activities: added, changed and deleted by staff in the admin, or added by a schedule.
    SESSION_ADDED = "session.added", _("Session added in the admin")
    SESSION_CHANGED = "session.changed", _("Session changed in the admin")
    SESSION_DELETED = "session.deleted", _("Session deleted in the admin")
    SESSION_SCHEDULED = "session.scheduled", _("Sessions added by a repeating schedule")
    # Attendance at sessions: learners checking in, staff recording attendance, opening check-in by a fixed
    # code, inviting by email; claims recorded, corrected or given more time by staff.
    ATTENDANCE_CHECKED_IN = "attendance.checked_in", _("Learner checked in to a session")
    ATTENDANCE_RECORDED = "attendance.recorded", _("Attendance recorded by staff")
    ATTENDANCE_REMOVED = "attendance.removed", _("Attendance removed by staff")
    CHECKIN_CHANGED = "sessioncheckin.changed", _("Session check-in opened or changed")
    INVITATION_SENT = "invitation.sent", _("Attendance recorded for an email without an account")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invited attendance found on signing up")
    CLAIM_SESSIONS_ADDED = "claim.sessions_added", _("Sessions added to a claim")
    CLAIM_RECORDED = "claim.recorded", _("Credit claimed by staff on a learner's behalf")
    CLAIM_CORRECTED = "claim.corrected", _("Claim corrected by staff")
    CLAIM_WINDOW_EXTENDED = "claimwindowextension.added", _("Claim window extended for a learner")
    # Certificates.
    CERTIFICATE_ISSUED = "certificate.issued", _("Certificate issued")
    CERTIFICATE_REISSUED = "certificate.reissued", _("Certificate reissued")
    CERTIFICATE_REVOKED = "certificate.revoked", _("Certificate revoked")
    CERTIFICATE_RESENT = "certificate.resent", _("Certificate emailed again")
    # The reporting ledger: rows exported in a file, settled by the registry, queued again, withdrawn.
    REPORTING_EXPORTED = "reporting.exported", _("Ledger rows exported")
    REPORTING_ACCEPTED = "reporting.accepted", _("Ledger row accepted")
    REPORTING_REJECTED = "reporting.rejected", _("Ledger row rejected")
    REPORTING_REQUEUED = "reporting.requeued", _("Ledger row queued again")
    REPORTING_WITHDRAWN = "reporting.withdrawn", _("Ledger row withdrawn")
    # The admin's own changes (``ProviderScopedAdmin``), for each model whose admin may add, change or delete.
    PROVIDER_ADDED = "provider.added", _("Provider added in the admin")
    PROVIDER_CHANGED = "provider.changed", _("Provider changed in the admin")
    PROVIDER_DELETED = "provider.deleted", _("Provider deleted in the admin")
    MEMBERSHIP_ADDED = "membership.added", _("Membership added in the admin")
    MEMBERSHIP_CHANGED = "membership.changed", _("Membership changed in the admin")
    MEMBERSHIP_DELETED = "membership.deleted", _("Membership deleted in the admin")
    ACTIVITY_ADDED = "activity.added", _("Activity added in the admin")
    ACTIVITY_CHANGED = "activity.changed", _("Activity changed in the admin")
    ACTIVITY_DELETED = "activity.deleted", _("Activity deleted in the admin")
    CERTIFICATE_CHANGED = "certificate.changed", _("Certificate saved in the admin")
    ASSESSMENT_ADDED = "assessment.added", _("Assessment added in the admin")
    ASSESSMENT_CHANGED = "assessment.changed", _("Assessment changed in the admin")
    ASSESSMENT_DELETED = "assessment.deleted", _("Assessment deleted in the admin")

    @classmethod
    def of_admin(cls, obj: models.Model | type[models.Model], verb: str) -> "AuditAction":
        """What the admin records on ``verb`` (``"added"``, ``"changed"``, ``"deleted"``) for ``obj`` (a row or
        its model); a ValueError for a model whose admin change is not listed above."""
        return cls(f"{obj._meta.model_name}.{verb}")


class AuditEntry(models.Model):
    """Who changed what, and when; written in the same transaction as the change."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_repr = models.CharField(_("actor"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=64, choices=AuditAction.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=300)
    provider = models.ForeignKey(
        "activities.Provider",
        verbose_name=_("provider"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(_("details"), default=dict, blank=True)

    provider_field = "provider"

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["provider", "-at"]),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_repr or 'system'} {self.action} {self.object_repr}"
