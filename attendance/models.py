"""Attendance at the sessions of live activities: the check-in point each session's screen shows, who checked
in (or was recorded by staff) and when, the invitations staff send to people who have no account yet, and
the claim windows staff extend for one learner."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from activities.models import Activity, Session
from learners.models import Enrollment
from portal.models import TimestampedModel

_SLUG_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o or 1/l/i to misread off a projector


def _secret() -> str:
    return secrets.token_hex(32)


def _slug() -> str:
    return "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(6))


class SessionCheckin(models.Model):
    """How learners check in to one session: the secret its rotating codes are derived from, the short
    address the screen shows (``/in/<slug>``), and a fixed code when staff open check-in without a screen.
    Made the first time staff open the session's check-in."""

    session = models.OneToOneField(
        Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="checkin"
    )
    secret = models.CharField(max_length=64, default=_secret, editable=False)
    slug = models.CharField(_("short address"), max_length=12, unique=True, default=_slug, editable=False)
    fixed_code = models.CharField(
        _("fixed code"),
        max_length=12,
        blank=True,
        help_text=_("For a room without a screen: one code, read out or written up, valid in the window."),
    )

    provider_field = "session__activity__provider"

    class Meta:
        verbose_name = _("session check-in")
        verbose_name_plural = _("session check-ins")

    def __str__(self):
        return f"Check-in {self.slug}"

    def get_absolute_url(self):
        return reverse("attendance:checkin", kwargs={"slug": self.slug})


class Attendance(TimestampedModel):
    """A learner present at a session: checked in by code, or recorded by staff (with the reason)."""

    class Source(models.TextChoices):
        SCREEN = "screen", _("Code on the screen")
        FIXED = "fixed", _("Fixed code")
        STAFF = "staff", _("Recorded by staff")
        ROSTER = "roster", _("Sign-in sheet")
        INVITATION = "invitation", _("Added by email")

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.PROTECT, related_name="attendances"
    )
    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.PROTECT, related_name="attendances"
    )
    checked_in_at = models.DateTimeField(_("checked in at"))
    source = models.CharField(_("how"), max_length=16, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    provider_field = "session__activity__provider"

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["session", "checked_in_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "enrollment"], name="attendance_once_per_session"),
            models.CheckConstraint(
                condition=Q(source__in=["screen", "fixed"]) | ~Q(reason=""),
                name="attendance_recorded_with_reason",
            ),
        ]

    def __str__(self):
        return f"{self.enrollment.learner} at {self.session}"


class Invitation(TimestampedModel):
    """Attendance staff recorded for someone with no account yet: it becomes theirs when they sign up and
    confirm this email address."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    sessions = models.ManyToManyField(Session, verbose_name=_("sessions"), related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("found on signing up"), null=True, blank=True)
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.PROTECT, related_name="invitations"
    )

    provider_field = "activity__provider"

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                "activity", Lower("email"), condition=Q(accepted_at__isnull=True), name="invitation_open_once"
            ),
        ]

    def __str__(self):
        return f"{self.email} to {self.activity}"


class ClaimWindowExtension(TimestampedModel):
    """Staff letting one learner claim after the activity's deadline, until ``until`` (the day included)."""

    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.PROTECT, related_name="window_extensions"
    )
    until = models.DateField(_("claims allowed until"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("granted by"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)

    provider_field = "enrollment__activity__provider"

    class Meta:
        verbose_name = _("claim window extension")
        verbose_name_plural = _("claim window extensions")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.enrollment} until {self.until}"
