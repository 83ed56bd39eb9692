import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from activities import vocabulary
from activities.models import Activity, CreditType
from learners import validators
from portal.models import TimestampedModel

US_STATES = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"), ("CA", "California"),
    ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"), ("DC", "District of Columbia"),
    ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"), ("ID", "Idaho"), ("IL", "Illinois"),
    ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"),
    ("ME", "Maine"), ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"),
    ("MS", "Mississippi"), ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"),
    ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"),
    ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"), ("OK", "Oklahoma"), ("OR", "Oregon"),
    ("PA", "Pennsylvania"), ("PR", "Puerto Rico"), ("RI", "Rhode Island"), ("SC", "South Carolina"),
    ("SD", "South Dakota"), ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"), ("VT", "Vermont"),
    ("VA", "Virginia"), ("WA", "Washington"), ("WV", "West Virginia"), ("WI", "Wisconsin"), ("WY", "Wyoming"),
    ("GU", "Guam"), ("VI", "U.S. Virgin Islands"),
]  # fmt: skip


class LearnerProfile(TimestampedModel):
    """What certificates and accreditor reports need about a learner, beyond the name on the user."""

    class Degree(models.TextChoices):
        MD = "MD", "MD"
        DO = "DO", "DO"
        RN = "RN", "RN"
        NP = "NP", "NP"
        PHARMD = "PharmD", "PharmD"
        RPH = "RPh", "RPh"
        PA = "PA-C", "PA-C"
        OTHER = "other", _("Other")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="profile"
    )
    profession = models.CharField(_("profession"), max_length=32, choices=vocabulary.PROFESSION_CHOICES)
    degree = models.CharField(_("degree"), max_length=16, choices=Degree.choices, blank=True)
    npi = models.CharField(
        _("NPI"), max_length=10, blank=True, validators=[validators.validate_npi], help_text=_("10 digits.")
    )
    nabp_eprofile_id = models.CharField(
        _("NABP e-Profile ID"),
        max_length=7,
        blank=True,
        validators=[validators.validate_eprofile_id],
        help_text=_("Pharmacists: the 6- or 7-digit ID CPE Monitor knows you by."),
    )
    birth_month = models.PositiveSmallIntegerField(_("birth month"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("birth day"), null=True, blank=True)
    reporting_consent_at = models.DateTimeField(
        _("consent to report credit given at"),
        null=True,
        blank=True,
        help_text=_(
            "When the learner agreed that completed credit may be reported to the accreditor and boards."
        ),
    )

    class Meta:
        verbose_name = _("learner profile")
        verbose_name_plural = _("learner profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_month__isnull=True, birth_day__isnull=True)
                | Q(birth_month__gte=1, birth_month__lte=12, birth_day__gte=1, birth_day__lte=31),
                name="profile_birth_month_day_together",
            ),
        ]

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.email} ({self.get_profession_display()})"

    @property
    def has_reporting_consent(self) -> bool:
        return self.reporting_consent_at is not None

    @property
    def birth_mmdd(self) -> str:
        return f"{self.birth_month:02d}{self.birth_day:02d}" if self.birth_month and self.birth_day else ""


class StateLicense(models.Model):
    profile = models.ForeignKey(LearnerProfile, on_delete=models.CASCADE, related_name="licenses")
    state = models.CharField(_("state"), max_length=2, choices=US_STATES)
    number = models.CharField(_("license number"), max_length=32, validators=[validators.validate_identifier])

    class Meta:
        verbose_name = _("state license")
        verbose_name_plural = _("state licenses")
        ordering = ["state"]
        constraints = [models.UniqueConstraint(fields=["profile", "state"], name="license_one_per_state")]

    def __str__(self):
        return f"{self.state} {self.number}"


class BoardId(models.Model):
    """A learner's ID with a certifying board, which MOC reporting needs."""

    profile = models.ForeignKey(LearnerProfile, on_delete=models.CASCADE, related_name="board_ids")
    board = models.CharField(_("board"), max_length=16, choices=vocabulary.MOC_BOARD_CHOICES)
    board_id = models.CharField(_("board ID"), max_length=32, validators=[validators.validate_identifier])

    class Meta:
        verbose_name = _("board ID")
        verbose_name_plural = _("board IDs")
        ordering = ["board"]
        constraints = [models.UniqueConstraint(fields=["profile", "board"], name="board_id_one_per_board")]

    def __str__(self):
        return f"{self.get_board_display()} {self.board_id}"


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
    """What a learner attested to having earned in one activity: one per enrollment, never changed."""

    enrollment = models.OneToOneField(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.PROTECT, related_name="claim"
    )
    claimed_at = models.DateTimeField(_("claimed at"))
    attested = models.BooleanField(_("attested"), default=False)
    profession = models.CharField(
        _("profession when claimed"), max_length=32, choices=vocabulary.PROFESSION_CHOICES
    )

    provider_field = "enrollment__activity__provider"

    class Meta:
        verbose_name = _("credit claim")
        verbose_name_plural = _("credit claims")
        ordering = ["-claimed_at"]
        constraints = [models.CheckConstraint(condition=Q(attested=True), name="claim_is_attested")]

    def __str__(self):
        return f"Claim by {self.enrollment.learner} for {self.enrollment.activity}"


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
    """MOC points a learner asked to have reported to a board, with the board ID they gave."""

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
        return f"{self.board} {self.points} {self.get_credit_type_display()}"


def _verification_id() -> str:
    return secrets.token_urlsafe(18)  # 144 random bits: unguessable, and stable across reissues


_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def _short_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


class Certificate(TimestampedModel):
    """The certificate of one completed enrollment. Its versions hold what was printed; it never goes away:
    revoking keeps the row and says why, and reissuing adds a version."""

    enrollment = models.OneToOneField(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.PROTECT, related_name="certificate"
    )
    verification_id = models.CharField(
        _("verification id"), max_length=32, unique=True, default=_verification_id
    )
    code = models.CharField(_("certificate code"), max_length=11, unique=True, default=_short_code)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)

    provider_field = "enrollment__activity__provider"

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoke_reason="")
                | (Q(revoked_at__isnull=False) & ~Q(revoke_reason="")),
                name="certificate_revoked_with_reason",
            ),
        ]

    def __str__(self):
        return f"Certificate {self.code}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def get_absolute_url(self):
        return reverse("learners:verify", kwargs={"verification_id": self.verification_id})


class CertificateVersion(models.Model):
    """One issue of a certificate: a snapshot of everything it prints. The PDF is a pure function of it."""

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    issued_at = models.DateTimeField(_("issued at"))
    snapshot = models.JSONField(_("what the certificate states"))
    reason = models.CharField(_("why issued"), max_length=300, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    provider_field = "certificate__enrollment__activity__provider"

    class Meta:
        verbose_name = _("certificate version")
        verbose_name_plural = _("certificate versions")
        ordering = ["certificate", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "number"], name="certificate_version_unique"),
        ]

    def __str__(self):
        return f"{self.certificate.code} v{self.number}"

    def get_absolute_url(self):
        return reverse(
            "learners:verify_version",
            kwargs={"verification_id": self.certificate.verification_id, "number": self.number},
        )


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

    The accreditor (ACCME's PARS) takes physicians' MOC points and, for learners with state licenses, their
    AMA credit for the state boards, within 30 days of completion; CPE Monitor takes pharmacists' credit
    within 60 days. A row waits, with the reason, until the learner has consented and given what the
    registry needs. Revoking the certificate withdraws the rows not yet sent: revoked credit is not reported.
    """

    Destination = Destination

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for consent or details")
        READY = "ready", _("Ready to report")
        EXPORTED = "exported", _("Exported")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

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
                fields=["claim", "destination", "board", "credit_type"], name="reporting_one_row_per_line"
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["waiting", "rejected", "withdrawn"]) | ~Q(reason=""),
                name="reporting_reason_when_held",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"]), models.Index(fields=["activity", "state"])]

    def __str__(self):
        return (
            f"{self.get_destination_display()}: {self.learner} {self.board} {self.credit_type} {self.amount}"
        )

    @property
    def board_label(self) -> str:
        """The board as people write it (``ABPath``), or "state boards"."""
        if self.board == "STATE":
            return _("state boards")
        return vocabulary.MOC_BOARD_ABBREVIATIONS.get(self.board, self.board)


class DeadlineDigest(models.Model):
    """A staff member's daily digest of reporting deadlines, recorded so the job sends it once a day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField(_("day"))
    rows = models.PositiveIntegerField(_("rows listed"), default=0)

    class Meta:
        verbose_name = _("deadline digest")
        verbose_name_plural = _("deadline digests")
        constraints = [models.UniqueConstraint(fields=["user", "sent_on"], name="digest_once_a_day")]

    def __str__(self):
        return f"{self.user} {self.sent_on}"
