"""The email outbox: each email the portal owes someone (a certificate, a deadline digest), sent once,
retried and leased."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from learners.models.certificates import CertificateVersion
from learners.models.reporting import DeadlineDigest
from portal.models import TimestampedModel


class OutboxMessage(TimestampedModel):
    """One email to send, once: a certificate version to its learner, or a deadline digest to the staff member
    it is for, as ``kind`` says (the database holds each kind to its own subject). Sending claims the row
    first, taking a lease (a fresh token and an expiry), so a repeated or redelivered task never sends it
    twice; the sender checks its token before the email goes out and when it records the outcome, so an email
    whose lease ran out and was handed to another sender is never sent or finished by the one that lost it.
    Temporary failures wait and retry for days (staff are alerted once, ``alerted_at``, when one is still
    undelivered hours later); permanent ones stay failed for staff to see.

    A certificate's email belongs to the certificate's provider. A digest may cover several providers (one
    email per staff member a day): it belongs to none, so only accreditation staff see it in the admin."""

    class Kind(models.TextChoices):
        CERTIFICATE = "certificate", _("Certificate")
        DEADLINE_DIGEST = "deadline_digest", _("Deadline digest")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CERTIFICATE)
    version = models.ForeignKey(
        CertificateVersion,
        verbose_name=_("certificate version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
    )
    digest = models.ForeignKey(
        DeadlineDigest,
        verbose_name=_("deadline digest"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
    )
    recipient = models.EmailField(_("recipient"))
    subject = models.CharField(_("subject"), max_length=200)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    lease_token = models.UUIDField(_("lease token"), null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    alerted_at = models.DateTimeField(_("staff alerted at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    provider_field = "version__certificate__enrollment__activity__provider"

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        ordering = ["-created"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="sent", sent_at__isnull=False)
                | (~Q(state="sent") & Q(sent_at__isnull=True)),
                name="outbox_sent_iff_sent_at",
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(lease_token__isnull=False, lease_expires_at__isnull=False),
                name="outbox_sending_holds_lease",
            ),
            models.CheckConstraint(
                condition=Q(kind="certificate", version__isnull=False, digest__isnull=True)
                | Q(kind="deadline_digest", version__isnull=True, digest__isnull=False),
                name="outbox_kind_has_its_subject",
            ),
            models.UniqueConstraint(fields=["digest"], name="outbox_one_email_per_digest"),
        ]

    def __str__(self):
        return f"{self.subject} to {self.recipient} ({self.get_state_display()})"
