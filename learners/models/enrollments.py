"""Enrollments and claims: a learner in an activity, and the credit and MOC points they claimed."""

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from activities import vocabulary
from activities.models import Activity, CreditType
from portal.models import TimestampedModel

if TYPE_CHECKING:
    from learners.models.certificates import Certificate
    from learners.models.outbox import OutboxMessage
    from learners.models.reporting import ReportingEntry


class Enrollment(TimestampedModel):
    """A learner taking part in an activity: in progress until they claim credit, then completed."""

    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("In progress")
        COMPLETED = "completed", _("Completed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.PROTECT,
        related_name="enrollments",
    )
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="enrollments"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ENROLLED)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    provider_field = "activity__provider"

    # Not stored: set for the learner's pages by learners.selectors.learner.attach_delivery.
    certificate_obj: "Certificate | None"
    delivery: "OutboxMessage | None"
    reporting_rows: "list[ReportingEntry]"

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "activity"], name="enrollment_once_per_activity"),
            models.CheckConstraint(
                condition=Q(status="enrolled", completed_at__isnull=True)
                | Q(status="completed", completed_at__isnull=False),
                name="enrollment_completed_iff_completed_at",
            ),
        ]
        indexes = [models.Index(fields=["activity", "status"])]

    def __str__(self):
        return f"{self.learner} in {self.activity}"

    def get_absolute_url(self):
        return reverse("learners:claim", kwargs={"public_id": self.public_id})


class CreditClaim(TimestampedModel):
    """What a learner attested to having earned in one activity: one per enrollment.

    A claim changes only by adding sessions of a live activity (the learner claims each session of a series
    as it ends) or by a staff correction with a reason; each change reissues the certificate and corrects
    the reporting ledger (``learners.services.corrections``). ``recorded_by`` is set when staff claimed on
    the learner's behalf: the attestation is then the learner's, as given to that staff member."""

    enrollment = models.OneToOneField(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.PROTECT, related_name="claim"
    )
    claimed_at = models.DateTimeField(_("claimed at"))
    attested = models.BooleanField(_("attested"), default=False)
    profession = models.CharField(
        _("profession when claimed"), max_length=32, choices=vocabulary.PROFESSION_CHOICES
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by staff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    sessions = models.ManyToManyField(
        "activities.Session",
        verbose_name=_("sessions claimed"),
        through="ClaimedSession",
        related_name="+",
    )

    provider_field = "enrollment__activity__provider"

    class Meta:
        verbose_name = _("credit claim")
        verbose_name_plural = _("credit claims")
        ordering = ["-claimed_at"]
        constraints = [models.CheckConstraint(condition=Q(attested=True), name="claim_is_attested")]

    def __str__(self):
        return f"Claim by {self.enrollment.learner} for {self.enrollment.activity}"


class ClaimedSession(models.Model):
    """A session of a live activity that a claim covers."""

    claim = models.ForeignKey(CreditClaim, on_delete=models.PROTECT, related_name="claimed_sessions")
    session = models.ForeignKey("activities.Session", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(_("claimed at"))

    provider_field = "claim__enrollment__activity__provider"

    class Meta:
        verbose_name = _("claimed session")
        verbose_name_plural = _("claimed sessions")
        constraints = [
            models.UniqueConstraint(fields=["claim", "session"], name="claimed_session_once"),
        ]

    def __str__(self):
        return f"{self.session}"


class ClaimedCredit(models.Model):
    claim = models.ForeignKey(CreditClaim, on_delete=models.PROTECT, related_name="credits")
    credit_type = models.ForeignKey(CreditType, verbose_name=_("credit type"), on_delete=models.PROTECT)
    amount = models.DecimalField(_("amount"), max_digits=6, decimal_places=2)

    provider_field = "claim__enrollment__activity__provider"

    class Meta:
        verbose_name = _("claimed credit")
        verbose_name_plural = _("claimed credits")
        ordering = ["credit_type__position"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "credit_type"], name="claimed_credit_once_per_type"),
            models.CheckConstraint(condition=Q(amount__gt=Decimal(0)), name="claimed_credit_amount_gt_0"),
        ]

    def __str__(self):
        return f"{self.amount} {self.credit_type}"


class ClaimedMoc(models.Model):
    """MOC points a learner asked to have reported to a board, with the board ID they gave: what the board
    gets, which the ledger and the certificate read.

    The points follow the AMA PRA Category 1 Credit™ claimed by the board's rules (``activities.moc.records``),
    never the approval's maximum. One row per (board, MOC credit type), each holding the points of the record
    it belongs to: an ABA claim with a partial patient-safety portion is two rows that sum to the CME claimed;
    a one-amount board (ABS) has a row per credit type, each carrying the same single amount, and
    ``moc.records(board, [(row.credit_type, row.points)...], claimed)`` groups them back into its one record.
    Rewritten whenever the claim's AMA credit changes (``claims.refresh_moc``)."""

    claim = models.ForeignKey(CreditClaim, on_delete=models.PROTECT, related_name="moc")
    board = models.CharField(_("board"), max_length=16, choices=vocabulary.MOC_BOARD_CHOICES)
    credit_type = models.CharField(
        _("MOC credit type"), max_length=40, choices=vocabulary.MOC_CREDIT_TYPE_CHOICES
    )
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    board_id = models.CharField(_("board ID"), max_length=32)

    provider_field = "claim__enrollment__activity__provider"

    class Meta:
        verbose_name = _("claimed MOC")
        verbose_name_plural = _("claimed MOC")
        ordering = ["board", "credit_type"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "board", "credit_type"], name="claimed_moc_once"),
            models.CheckConstraint(condition=Q(points__gt=Decimal(0)), name="claimed_moc_points_gt_0"),
        ]

    def __str__(self):
        return f"{self.get_board_display()} {self.points} {self.get_credit_type_display()}"
