"""The email outbox: each certificate email, sent once, retried and leased."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from learners.models.certificates import CertificateVersion
from portal.models import TimestampedModel


class OutboxMessage(TimestampedModel):
    """One email to send, once. Sending claims the row first, taking a lease (a fresh token and an expiry),
    so a repeated or redelivered task never sends it twice; the sender checks its token before the email
    goes out and when it records the outcome, so an email whose lease ran out and was handed to another
    sender is never sent or finished by the one that lost it. Temporary failures wait and retry for days
    (staff are alerted once, ``alerted_at``, when one is still undelivered hours later); permanent ones stay
    failed for staff to see."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    version = models.ForeignKey(
        CertificateVersion,
        verbose_name=_("certificate version"),
        on_delete=models.PROTECT,
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
        verbose_name = _("email to learner")
        verbose_name_plural = _("emails to learners")
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
        ]

    def __str__(self):
        return f"{self.subject} to {self.recipient} ({self.get_state_display()})"
