"""The reporting ledger: one row per claim and registry (PARS, CPE Monitor, boards), the files they went out in, and the deadline digests."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from activities import vocabulary
from activities.models import Activity
from learners.models.enrollments import CreditClaim
from portal.models import TimestampedModel


class Destination(models.TextChoices):
    ACCREDITOR = "accreditor", _("Accreditor (ACCME PARS)")
    CPE_MONITOR = "cpe_monitor", _("CPE Monitor (NABP)")


class ExportBatch(TimestampedModel):
    """A file of ledger rows made for a destination; the rows point back to the batch that carried them."""

    destination = models.CharField(_("destination"), max_length=16, choices=Destination.choices)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.ForeignKey(
        "activities.Provider", verbose_name=_("provider"), null=True, blank=True, on_delete=models.PROTECT
    )
    description = models.CharField(_("what it holds"), max_length=300)
    filename = models.CharField(_("file name"), max_length=120)
    content = models.TextField(_("file content"))
    row_count = models.PositiveIntegerField(_("rows"))

    provider_field = "provider"

    class Meta:
        verbose_name = _("export file")
        verbose_name_plural = _("export files")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.filename} ({self.row_count} rows)"


class ReportingEntry(TimestampedModel):
    """One credit or MOC line of a claim that must reach a registry, and how far it has got.

    The accreditor (ACCME's PARS) takes physicians' MOC points for the boards that take MOC through PARS
    and, when the provider takes part in the State Medical Board collaboration, licensed physicians' AMA
    credit, within 30 days of completion; CPE Monitor takes pharmacists' and pharmacy technicians' credit
    within 60 days of participation, and nothing later (a row past them expires). A row waits, with the
    reason, until the learner has given what the registry needs. Revoking the certificate withdraws the
    rows not yet sent: revoked credit is not reported.
    """

    Destination = Destination

    class Action(models.TextChoices):
        ADD = "add", _("Add")
        DELETE = "delete", _("Delete")

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for consent or details")
        READY = "ready", _("Ready to report")
        EXPORTED = "exported", _("Exported")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Past CPE Monitor's 60 days")

    claim = models.ForeignKey(CreditClaim, on_delete=models.PROTECT, related_name="reporting")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reporting")
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="reporting")
    destination = models.CharField(_("destination"), max_length=16, choices=Destination.choices)
    board = models.CharField(
        _("board"), max_length=16, blank=True, help_text=_("MOC board, or STATE for state licensing boards.")
    )
    credit_type = models.CharField(_("credit or MOC type"), max_length=40)
    amount = models.DecimalField(_("amount or points"), max_digits=6, decimal_places=2)
    completed_on = models.DateField(_("completed on"))
    due_on = models.DateField(_("report by"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.WAITING)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices, default=Action.ADD)
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("deletes"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For a correction's delete row: the exported row it takes back."),
    )
    superseded_at = models.DateTimeField(
        _("corrected at"),
        null=True,
        blank=True,
        help_text=_("Set when a correction of the claim replaced this row."),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    batch = models.ForeignKey(
        ExportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("accepted or rejected at"), null=True, blank=True)

    provider_field = "activity__provider"

    class Meta:
        verbose_name = _("reporting entry")
        verbose_name_plural = _("reporting ledger")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "destination", "board", "credit_type"],
                condition=Q(action="add", superseded_at__isnull=True),
                name="reporting_one_row_per_line",
            ),
            models.CheckConstraint(
                condition=Q(action="add", reverses__isnull=True) | Q(action="delete", reverses__isnull=False),
                name="reporting_delete_reverses_a_row",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["waiting", "rejected", "withdrawn", "expired"]) | ~Q(reason=""),
                name="reporting_reason_when_held",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"]), models.Index(fields=["activity", "state"])]

    def __str__(self):
        return (
            f"{self.get_destination_display()}: {self.learner} {self.board_label} {self.credit_type_label} "
            f"{self.amount}"
        )

    @property
    def board_label(self) -> str:
        """The board as it writes itself (``ABPath``), or "State boards"; blank for a row with no board."""
        if self.board == "STATE":
            return str(_("State boards"))
        return vocabulary.board_abbreviation(self.board)

    @property
    def credit_type_label(self) -> str:
        """The row's credit type (for the accreditor and CPE Monitor) or MOC credit type (for a board)."""
        if self.credit_type in vocabulary.CREDIT_TYPE_BY_CODE:
            return vocabulary.credit_type_label(self.credit_type)
        return vocabulary.moc_credit_type_label(self.credit_type)


class DeadlineDigest(models.Model):
    """A staff member's daily digest of reporting deadlines: one a day (``sent_on`` is the day it is for),
    recorded with its email in the outbox, which sends it once. ``snapshot`` holds what it lists as of that
    day, so the email says the same whenever it goes out (``learners.services.reporting.digest``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField(_("day"))
    rows = models.PositiveIntegerField(_("rows listed"), default=0)
    snapshot = models.JSONField(_("what it lists"), default=dict, blank=True)

    class Meta:
        verbose_name = _("deadline digest")
        verbose_name_plural = _("deadline digests")
        constraints = [models.UniqueConstraint(fields=["user", "sent_on"], name="digest_once_a_day")]

    def __str__(self):
        return f"{self.user} {self.sent_on}"
