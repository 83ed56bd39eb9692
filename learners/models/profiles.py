"""Learners' profiles: who a learner is to the accreditors and boards (degree, NPI, licenses, board ids)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from activities import vocabulary
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
        # Physicians: the AMA credits physicians holding an MD, a DO or an equivalent degree from another
        # country (DESIGN.md; AMA, "The Physician's Recognition Award and credit system"), which these are:
        # the bachelor's degrees in medicine and surgery of the UK, Ireland and the Commonwealth.
        MD = "MD", "MD"
        DO = "DO", "DO"
        MBBS = "MBBS", "MBBS"
        MBCHB = "MBChB", "MBChB"
        BMBS = "BMBS", "BMBS"
        MBBCH = "MBBCh", "MBBCh"
        MBBCHIR = "MBBChir", "MB BChir"
        MBBCHBAO = "MBBChBAO", "MB BCh BAO"
        RN = "RN", "RN"
        NP = "NP", "NP"
        PHARMD = "PharmD", "PharmD"
        RPH = "RPh", "RPh"
        CPHT = "CPhT", "CPhT"
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
