import zoneinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from activities import acpe, moc, rules, statements, vocabulary
from portal.models import TimestampedModel
from portal.validators import validate_not_formula

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

POSITIVE = MinValueValidator(Decimal("0.01"))


class Provider(TimestampedModel):
    """An accredited CME provider. Its staff manage its activities through memberships."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    website = models.URLField(_("website"), max_length=500, blank=True)
    address = models.TextField(_("address"), blank=True)
    contact_email = models.EmailField(
        _("contact email for learners"),
        blank=True,
        help_text=_("Shown to learners who need help with attendance or a claim, e.g. cme@hospital.org."),
    )
    accreditation_statement = models.TextField(
        _("other accreditation statement"),
        blank=True,
        help_text=_(
            "An accreditation the fields below do not cover (e.g. a state medical society's), printed as "
            "written on every certificate and activity page; {provider} is filled in."
        ),
    )
    joint_accreditation = models.BooleanField(
        _("Joint Accreditation"),
        default=False,
        help_text=_(
            "Jointly accredited for interprofessional continuing education (ACCME, ACPE and ANCC together): "
            "its certificates carry the Joint Accreditation statement and it reports to JA-PARS."
        ),
    )
    ja_statement = models.TextField(
        _("Joint Accreditation statement"),
        blank=True,
        default=statements.JA_DIRECT,
        help_text=_("Joint Accreditation's wording; {provider} is filled in. Printed standing alone."),
    )
    accme_accredited = models.BooleanField(
        _("ACCME accredited"),
        default=False,
        help_text=_(
            "Accredited to designate AMA PRA Category 1 Credit™ (not needed with Joint Accreditation)."
        ),
    )
    accme_statement = models.TextField(
        _("ACCME accreditation statement"),
        blank=True,
        default=statements.ACCME_DIRECT,
        help_text=_(
            "ACCME's wording; {provider} is filled in. A jointly provided activity prints ACCME's "
            "joint-providership statement instead."
        ),
    )
    ancc_accredited = models.BooleanField(
        _("ANCC accredited"), default=False, help_text=_("Accredited to award nursing contact hours.")
    )
    ancc_statement = models.TextField(
        _("ANCC accreditation statement"),
        blank=True,
        default=statements.ANCC,
        help_text=_("ANCC's wording; {provider} is filled in."),
    )
    acpe_accredited = models.BooleanField(
        _("ACPE accredited"), default=False, help_text=_("Accredited to award continuing pharmacy education.")
    )
    acpe_statement = models.TextField(
        _("ACPE accreditation statement"),
        blank=True,
        default=statements.ACPE,
        help_text=_("ACPE's wording; {provider} is filled in."),
    )
    aapa_authorized = models.BooleanField(
        _("AAPA authorized"),
        default=False,
        help_text=_(
            "Authorized by AAPA to award AAPA Category 1 CME credit (jointly accredited providers); otherwise "
            "each activity's AAPA credit needs AAPA's review, recorded on its designation."
        ),
    )
    aapa_statement = models.TextField(
        _("AAPA authorization statement"),
        blank=True,
        default=statements.AAPA_AUTHORIZED,
        help_text=_("AAPA's wording; {provider} is filled in."),
    )
    accme_provider_id = models.CharField(
        _("ACCME provider ID"),
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{7}$", _("The ACCME provider ID is 7 digits."))],
        help_text=_("The 7-digit ID ACCME issued, which PARS files quote."),
    )
    acpe_provider_number = models.CharField(
        _("ACPE provider number"),
        max_length=16,
        blank=True,
        help_text=_(
            "The provider part of the ACPE Universal Activity Number (e.g. 0197, or JA0000001 for a "
            "jointly accredited provider), which CPE Monitor files quote."
        ),
    )
    state_board_reporting = models.BooleanField(
        _("reports to state medical boards"),
        default=False,
        help_text=_(
            "The provider takes part in ACCME's State Medical Board collaboration: physicians' AMA credit "
            "goes to PARS for their licensing boards. Off: only MOC points are reported."
        ),
    )

    contact_hour_increment = models.DecimalField(
        _("contact hour step"),
        max_digits=3,
        decimal_places=2,
        choices=vocabulary.CONTACT_HOUR_INCREMENTS,
        default=Decimal("0.25"),
        help_text=_(
            "The step in which this provider designates and learners claim nursing (ANCC) and pharmacy (ACPE) "
            "contact hours."
        ),
    )

    provider_field = "pk"

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="provider_name_unique_ci")]

    def __str__(self):
        return self.name

    STATEMENT_FIELDS = (
        "accreditation_statement",
        "ja_statement",
        "accme_statement",
        "ancc_statement",
        "acpe_statement",
        "aapa_statement",
    )
    HELD_BY = {
        "ja_statement": "joint_accreditation",
        "accme_statement": "accme_accredited",
        "ancc_statement": "ancc_accredited",
        "acpe_statement": "acpe_accredited",
        "aapa_statement": "aapa_authorized",
    }

    def clean(self):
        errors: dict[str, list[StrOrPromise]] = {}
        for name in self.STATEMENT_FIELDS:
            text = getattr(self, name) or ""
            unknown = statements.unknown_placeholders(text, allowed=(statements.PROVIDER,))
            if unknown:
                errors[name] = [
                    _("Only {provider} is filled in; remove %(unknown)s.") % {"unknown": ", ".join(unknown)}
                ]
            held = self.HELD_BY.get(name)
            if held and getattr(self, held) and not text.strip():
                errors.setdefault(name, []).append(
                    _("An accreditation the provider holds needs its statement.")
                )
        if errors:
            raise ValidationError(errors)

    def increment_for(self, credit_type: "CreditType") -> Decimal:
        """The step ``credit_type`` moves in at this provider: its own for contact hours, else the type's."""
        if credit_type.code in vocabulary.CONTACT_HOUR_CREDIT_TYPES:
            return self.contact_hour_increment
        return credit_type.increment


class Membership(TimestampedModel):
    """A staff user's role at a provider; it is what scopes their admin to that provider."""

    class Role(models.TextChoices):
        EDITOR = "editor", _("Editor: manages activities, enrollments and certificates")
        VIEWER = "viewer", _("Viewer: read-only")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.EDITOR)

    provider_field = "provider"

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} at {self.provider} ({self.get_role_display()})"


class Specialty(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="specialty_name_unique_ci")]

    def __str__(self):
        return self.name


class CreditType(models.Model):
    """Reference data (installed by a migration): a kind of credit an activity can designate."""

    code = models.CharField(_("code"), max_length=32, primary_key=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    listing_name = models.CharField(_("name in listings"), max_length=100)
    unit = models.CharField(_("unit"), max_length=50)
    increment = models.DecimalField(
        _("claim increment"), max_digits=4, decimal_places=2, validators=[POSITIVE]
    )
    professions = models.JSONField(
        _("professions that may claim it"), default=list, help_text=_("Profession codes.")
    )
    designation_statement = models.TextField(
        _("designation statement"),
        help_text=_(
            "Wording on the activity page and certificates; {provider}, {amount} and {format} are filled in."
        ),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("credit type")
        verbose_name_plural = _("credit types")
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(increment__gt=0), name="credit_type_increment_gt_0")
        ]

    def __str__(self):
        return self.name

    @property
    def label(self) -> str:
        """The name every page, file and certificate shows: the vocabulary's (``name`` only for a credit type
        the vocabulary does not know)."""
        return vocabulary.credit_type_label(self.code, default=self.name)

    def may_be_claimed_by(self, profession: str) -> bool:
        return profession in self.professions

    def statement(self, *, provider: str, amount: Decimal, format: str = "activity") -> str:
        return self.designation_statement.format(provider=provider, amount=amount, format=format)


class ActivityQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Activity.Status.PUBLISHED)


class Activity(TimestampedModel):
    """An accredited CME activity, as its provider lists it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    class Fee(models.TextChoices):
        FREE = "free", _("Free")
        VARIABLE = "variable", _("Variable")
        FIXED = "fixed", _("Fixed")

    class Registration(models.TextChoices):
        OPEN = "open", _("Open to all")
        LIMITED = "limited", _("Limited")

    class Providership(models.TextChoices):
        DIRECT = "direct", _("Directly provided")
        JOINT = "joint", _("Jointly provided")

    class OutcomeMeasurement(models.TextChoices):
        # ACCME, "What activity data are providers required to enter in PARS": outcomes measured, and
        # whether the measurement was objective or subjective (learner-reported).
        OBJECTIVE = "objective", _("Objective")
        SUBJECTIVE = "subjective", _("Subjective (learner-reported)")

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="activities"
    )
    title = models.CharField(_("title"), max_length=300, validators=[validate_not_formula])
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    summary = models.TextField(_("summary"))
    activity_link = models.URLField(
        _("activity link"),
        max_length=500,
        unique=True,
        help_text=_("The activity's page at the provider; re-importing a listing with this link updates it."),
    )
    activity_type = models.CharField(
        _("activity type"), max_length=32, choices=vocabulary.ACTIVITY_TYPE_CHOICES
    )
    format = models.CharField(_("format"), max_length=16, choices=vocabulary.FORMAT_CHOICES)
    start = models.DateTimeField(_("start"), help_text=_("For an enduring material, the release date."))
    end = models.DateTimeField(_("end"), help_text=_("For an enduring material, the expiry date."))
    reviewed_on = models.DateField(
        _("last reviewed"), null=True, blank=True, help_text=_("Enduring materials: the last content review.")
    )
    location = models.CharField(
        _("location"), max_length=300, blank=True, help_text=_("Where a live activity takes place.")
    )
    accreditor_activity_id = models.CharField(
        _("PARS activity ID"),
        max_length=40,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{9}$", _("The PARS activity ID is the 9 digits ACCME issued."))],
        help_text=_(
            "The 9-digit ID ACCME's PARS gave the activity. Its learners are reported to PARS only once it "
            "is set."
        ),
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Most learners who may enroll; empty for no limit.")
    )
    checkin_opens_minutes = models.PositiveSmallIntegerField(
        _("check-in opens (minutes before a session)"),
        default=30,
        validators=[MaxValueValidator(24 * 60)],
    )
    checkin_closes_minutes = models.PositiveSmallIntegerField(
        _("check-in closes (minutes after a session)"),
        default=30,
        validators=[MaxValueValidator(24 * 60)],
    )
    claim_days = models.PositiveSmallIntegerField(
        _("days to claim after a session"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(455)],
        help_text=_(
            "Live activities: a session's credit can be claimed from its end for this many days, and never "
            "after 31 March of the next year."
        ),
    )
    fee_kind = models.CharField(_("fee"), max_length=16, choices=Fee.choices, default=Fee.FREE)
    fee_amount = models.DecimalField(
        _("fee amount (USD)"), max_digits=9, decimal_places=2, null=True, blank=True, validators=[POSITIVE]
    )
    registration = models.CharField(
        _("registration"), max_length=16, choices=Registration.choices, default=Registration.OPEN
    )
    registration_text = models.CharField(_("registration details"), max_length=300, blank=True)
    providership = models.CharField(
        _("providership"), max_length=16, choices=Providership.choices, default=Providership.DIRECT
    )
    # The joint provider a listing names (the import writes it, and also adds it to ``joint_providers``,
    # which is what the portal reads: ``joint_provider_names``).
    joint_provider = models.CharField(_("joint provider (from the listing)"), max_length=200, blank=True)
    commercial_support = models.BooleanField(
        _("commercial support"),
        default=False,
        help_text=_("Ticked when the activity has commercial supporters; list each one below."),
    )
    outcome_measurement = models.CharField(
        _("outcome measurement"),
        max_length=16,
        blank=True,
        choices=OutcomeMeasurement.choices,
        help_text=_("How the measured outcomes were measured, as PARS asks."),
    )
    measured_outcomes = models.JSONField(
        _("measured outcomes"), default=list, blank=True, help_text=_("Outcome codes.")
    )
    specialties = models.ManyToManyField(
        Specialty, verbose_name=_("specialties"), related_name="activities", blank=True
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    needs_review = models.BooleanField(
        _("needs review"), default=False, help_text=_("Set when an import had to guess, e.g. the title.")
    )
    # PostgreSQL keeps this current with triggers (title, provider and specialties, summary; see migration
    # 0003); it stays empty on SQLite, where keyword search falls back to substring matching.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ActivityQuerySet.as_manager()

    provider_field = "provider"

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-start", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="activity_end_after_start"),
            models.CheckConstraint(
                condition=(
                    Q(fee_kind="fixed", fee_amount__isnull=False, fee_amount__gt=0)
                    | (~Q(fee_kind="fixed") & Q(fee_amount__isnull=True))
                ),
                name="activity_fee_amount_iff_fixed",
            ),
            models.CheckConstraint(
                condition=Q(activity_type__in=[code for code, _ in vocabulary.ACTIVITY_TYPE_CHOICES]),
                name="activity_type_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "end"]),
            models.Index(fields=["provider", "status"]),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("activities:detail", kwargs={"slug": self.slug})

    @property
    def kind(self) -> str:
        return vocabulary.ACTIVITY_TYPE_BY_CODE[self.activity_type].kind

    @property
    def designation_noun(self) -> str:
        return vocabulary.ACTIVITY_TYPE_BY_CODE[self.activity_type].noun

    @property
    def is_live(self) -> bool:
        return self.kind == vocabulary.LIVE

    @property
    def is_enduring(self) -> bool:
        return self.kind == vocabulary.ENDURING

    def is_open_for_enrollment(self, *, at) -> bool:
        """Published and not yet over."""
        return self.status == self.Status.PUBLISHED and at <= self.end

    def is_open_for_claims(self, *, at) -> bool:
        """Live activities take claims from their start; the others between release and expiry."""
        if self.status != self.Status.PUBLISHED or at < self.start:
            return False
        return self.is_live or at <= self.end

    def joint_provider_names(self) -> list[str]:
        """The joint providers' names, in their order (prefetch ``joint_providers`` for many activities)."""
        return [joint.name for joint in sorted(self.joint_providers.all(), key=lambda j: (j.position, j.pk))]

    @property
    def measured_outcome_labels(self) -> list[str]:
        labels = dict(vocabulary.OUTCOME_CHOICES)
        return [labels.get(code, code) for code in self.measured_outcomes]

    def clean(self):
        errors: dict[str, list[StrOrPromise]] = {}
        if self.start and self.end and self.activity_type:
            for which, message in rules.schedule_errors(
                activity_type=self.activity_type, start=self.start, end=self.end, reviewed_on=self.reviewed_on
            ):
                errors.setdefault(which, []).append(message)
        if self.fee_kind == self.Fee.FIXED and self.fee_amount is None:
            errors.setdefault("fee_amount", []).append(_("A fixed fee needs an amount."))
        if self.fee_kind != self.Fee.FIXED and self.fee_amount is not None:
            errors.setdefault("fee_amount", []).append(_("Only a fixed fee has an amount."))
        if self.providership == self.Providership.DIRECT and self.joint_provider:
            errors.setdefault("joint_provider", []).append(_("Only a jointly provided activity has one."))
        outcomes = self.measured_outcomes or []
        if not isinstance(outcomes, list) or not all(isinstance(code, str) for code in outcomes):
            errors.setdefault("measured_outcomes", []).append(
                _('A list of outcome codes, such as ["learner_knowledge"].')
            )
            outcomes = []
        unknown = [code for code in outcomes if code not in dict(vocabulary.OUTCOME_CHOICES)]
        if unknown:
            errors.setdefault("measured_outcomes", []).append(f"Unknown outcome codes: {', '.join(unknown)}")
        if errors:
            raise ValidationError(errors)


class CatalogState(models.Model):
    """One row whose token the database changes whenever anything the catalog shows changes.

    Triggers on the activity, credit, MOC, specialty and provider tables set a new random token in the same
    transaction as the change, so a process holding a catalog index built at token T knows it is current
    exactly while the row still says T (see ``activities.catalog_index``).
    """

    token = models.CharField(max_length=64, default="initial")

    class Meta:
        verbose_name = _("catalog state")

    def __str__(self):
        return self.token


class CreditDesignation(models.Model):
    """The maximum amount of one credit type an activity designates."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="credits"
    )
    credit_type = models.ForeignKey(
        CreditType, verbose_name=_("credit type"), on_delete=models.PROTECT, related_name="designations"
    )
    max_amount = models.DecimalField(
        _("maximum amount"), max_digits=6, decimal_places=2, validators=[POSITIVE]
    )

    class AcpeActivityType(models.TextChoices):
        # ACPE's activity types (Standards for Continuing Pharmacy Education; the PARS draft activity schema's
        # ``PharmacyActivityType``).
        KNOWLEDGE = "knowledge", _("Knowledge-based")
        APPLICATION = "application", _("Application-based")
        CERTIFICATE_PROGRAM = "certificate_program", _("Certificate program")

    activity_number = models.CharField(
        _("activity number"),
        max_length=64,
        blank=True,
        help_text=_(
            "Pharmacy: the ACPE Universal Activity Number (UAN), e.g. 0129-0000-26-001-L01-P. For an "
            "activity open to pharmacists and technicians, the pharmacists' (P) UAN here and the "
            "technicians' (T) UAN in the next field."
        ),
    )
    technician_activity_number = models.CharField(
        _("technician UAN"),
        max_length=64,
        blank=True,
        help_text=_("Pharmacy, when technicians may also take the activity: its UAN ending in T."),
    )
    acpe_activity_type = models.CharField(
        _("ACPE activity type"), max_length=24, blank=True, choices=AcpeActivityType.choices
    )
    aapa_reference = models.CharField(
        _("AAPA reference number"),
        max_length=40,
        blank=True,
        help_text=_("AAPA credit reviewed by the AAPA Review Panel: the reference number of its approval."),
    )
    aapa_valid_from = models.DateField(_("AAPA approval valid from"), null=True, blank=True)
    aapa_valid_until = models.DateField(_("AAPA approval valid until"), null=True, blank=True)

    provider_field = "activity__provider"

    class Meta:
        verbose_name = _("credit designation")
        verbose_name_plural = _("credit designations")
        ordering = ["credit_type__position"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "credit_type"], name="designation_unique_per_type"),
            models.CheckConstraint(condition=Q(max_amount__gt=0), name="designation_amount_gt_0"),
        ]

    def __str__(self):
        return f"{self.max_amount} {self.credit_type}"

    def clean(self):
        errors: dict[str, list[StrOrPromise]] = {}
        if self.max_amount is not None and self.credit_type_id:
            problem = rules.increment_error(self.max_amount, self.increment)
            if problem:
                errors["max_amount"] = [f"{self.credit_type}: {problem}"]
        approval = (self.aapa_reference, self.aapa_valid_from, self.aapa_valid_until)
        if any(approval) and self.credit_type_id != "aapa":
            errors["aapa_reference"] = [_("Only AAPA Category 1 CME credit has an AAPA approval.")]
        elif any(approval) and not all(approval):
            for name, value in zip(
                ("aapa_reference", "aapa_valid_from", "aapa_valid_until"), approval, strict=True
            ):
                if not value:
                    errors[name] = [_("An AAPA approval needs its reference number and both dates.")]
        elif self.aapa_valid_from and self.aapa_valid_until and self.aapa_valid_until < self.aapa_valid_from:
            errors["aapa_valid_until"] = [_("is before the approval's start.")]
        if self.credit_type_id == acpe.CREDIT_TYPE:
            errors.update(self._pharmacy_errors())
        elif self.technician_activity_number or self.acpe_activity_type:
            errors["technician_activity_number"] = [
                _("Only pharmacy credit has a UAN and an ACPE activity type.")
            ]
        if errors:
            raise ValidationError(errors)

    @property
    def increment(self) -> Decimal:
        """The step this credit is designated and claimed in (the provider's, for contact hours)."""
        # A designation being added with its activity in the admin has the (unsaved) activity, not its id.
        activity = self.activity if self.activity_id or "activity" in self._state.fields_cache else None
        if activity is None or activity.provider_id is None:
            return self.credit_type.increment
        return activity.provider.increment_for(self.credit_type)

    def _pharmacy_errors(self) -> "dict[str, list[StrOrPromise]]":
        """ACPE credit needs a valid UAN (its provider part the provider's ACPE number, when known), at most
        one UAN per audience, and the ACPE activity type."""
        errors: dict[str, list[StrOrPromise]] = {}
        number = self.activity.provider.acpe_provider_number if self.activity_id else ""
        self.activity_number = self.activity_number.strip().upper()
        self.technician_activity_number = self.technician_activity_number.strip().upper()
        if not self.activity_number:
            errors["activity_number"] = [_("Pharmacy credit needs its ACPE Universal Activity Number.")]
        else:
            problem = acpe.uan_error(self.activity_number, provider_number=number)
            if problem:
                errors["activity_number"] = [problem]
        if self.technician_activity_number:
            problem = acpe.uan_error(self.technician_activity_number, provider_number=number)
            tech = acpe.parse_uan(self.technician_activity_number)
            if problem:
                errors["technician_activity_number"] = [problem]
            elif tech is not None and tech.audience != acpe.TECHNICIAN:
                errors["technician_activity_number"] = [_("The technicians' UAN ends in T.")]
            main = acpe.parse_uan(self.activity_number)
            if main is not None and main.audience != acpe.PHARMACIST and "activity_number" not in errors:
                errors["activity_number"] = [_("With a technicians' UAN below, this one is the P UAN.")]
        if not self.acpe_activity_type:
            errors["acpe_activity_type"] = [_("Pharmacy credit needs its ACPE activity type.")]
        return errors

    def uans(self) -> dict[str, str]:
        """The designation's UANs by audience (``{"P": ..., "T": ...}``), those that parse."""
        found: dict[str, str] = {}
        for text in (self.activity_number, self.technician_activity_number):
            uan = acpe.parse_uan(text) if text else None
            if uan is not None:
                found.setdefault(uan.audience, uan.text)
        return found

    def statement(self) -> str:
        """The designation statement: AAPA's Review Panel wording for AAPA credit it reviewed, otherwise the
        credit type's."""
        if self.credit_type_id == "aapa" and self.aapa_reference:
            return statements.aapa_reviewed_statement(self)
        return self.credit_type.statement(
            provider=self.activity.provider.name,
            amount=self.max_amount,
            format=self.activity.designation_noun,
        )


class MocApproval(models.Model):
    """Points an activity is approved for with one board, for one MOC credit type."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="moc"
    )
    board = models.CharField(_("board"), max_length=16, choices=vocabulary.MOC_BOARD_CHOICES)
    credit_type = models.CharField(
        _("MOC credit type"), max_length=40, choices=vocabulary.MOC_CREDIT_TYPE_CHOICES
    )
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2, validators=[POSITIVE])

    provider_field = "activity__provider"

    class Meta:
        verbose_name = _("MOC approval")
        verbose_name_plural = _("MOC approvals")
        ordering = ["board", "credit_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "board", "credit_type"], name="moc_unique_per_board_type"
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="moc_points_gt_0"),
        ]

    def __str__(self):
        return f"{self.get_board_display()} {self.points} {self.get_credit_type_display()}"

    def clean(self):
        """The board awards this MOC credit type (``moc.BOARD_RULES``), and whole points where it wants them."""
        if self.board and self.credit_type:
            problem = moc.approval_problem(self.board, self.credit_type, self.points)
            if problem:
                field, message = problem
                raise ValidationError({field: message})

    @property
    def board_name(self) -> str:
        return vocabulary.board_name(self.board)


class JointProvider(models.Model):
    """An organization that jointly provides an activity with its accredited provider."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="joint_providers"
    )
    name = models.CharField(_("name"), max_length=200, validators=[validate_not_formula])
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    provider_field = "activity__provider"

    class Meta:
        verbose_name = _("joint provider")
        verbose_name_plural = _("joint providers")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint("activity", Lower("name"), name="joint_provider_once_per_activity"),
        ]

    def __str__(self):
        return self.name


class CommercialSupport(models.Model):
    """One commercial supporter of an activity and what it gave: money, in kind, or both (ACCME Standard 4;
    PARS asks each source with its monetary amount and in-kind support)."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="commercial_supporters"
    )
    supporter = models.CharField(_("supporter"), max_length=200, validators=[validate_not_formula])
    monetary_amount = models.DecimalField(
        _("monetary amount (USD)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[POSITIVE],
    )
    in_kind = models.CharField(
        _("in-kind support"), max_length=300, blank=True, help_text=_("e.g. equipment, supplies, facilities.")
    )

    provider_field = "activity__provider"

    class Meta:
        verbose_name = _("commercial supporter")
        verbose_name_plural = _("commercial supporters")
        ordering = ["supporter", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(monetary_amount__gt=0) | ~Q(in_kind=""), name="commercial_support_gives_something"
            ),
        ]

    def __str__(self):
        return self.supporter

    def clean(self):
        if self.monetary_amount is None and not self.in_kind.strip():
            raise ValidationError(
                {"monetary_amount": _("Give the monetary amount, the in-kind support, or both.")}
            )


def validate_time_zone(value: str) -> None:
    """An IANA time zone name, such as ``America/Chicago``."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a known time zone name."), params={"value": value}
        ) from None


class Session(TimestampedModel):
    """One meeting of a live activity: when, in which time zone, where (or online), and in which track."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="sessions"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="America/Chicago",
        validators=[validate_time_zone],
        help_text=_("Where the session's times are read, e.g. America/Chicago."),
    )
    online = models.BooleanField(_("online"), default=False)
    venue = models.CharField(_("venue"), max_length=200, blank=True, validators=[validate_not_formula])
    city = models.CharField(_("city"), max_length=100, blank=True, validators=[validate_not_formula])
    state = models.CharField(_("state"), max_length=100, blank=True, validators=[validate_not_formula])
    country = models.CharField(_("country"), max_length=100, blank=True, validators=[validate_not_formula])
    track = models.CharField(
        _("track"),
        max_length=100,
        blank=True,
        validators=[validate_not_formula],
        help_text=_("For a course with parallel tracks."),
    )
    from_listing = models.BooleanField(
        _("made by the import"),
        default=False,
        editable=False,
        help_text=_("The import updates this session from the listing until staff edit it."),
    )

    provider_field = "activity__provider"

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["start", "track", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="session_end_after_start"),
        ]
        indexes = [models.Index(fields=["activity", "start"])]

    def __str__(self):
        local = self.local_start
        return f"{self.activity.title if self.activity_id else ''} {local:%Y-%m-%d %H:%M} {self.time_zone}".strip()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    @property
    def local_start(self):
        return self.start.astimezone(self.zone)

    @property
    def local_end(self):
        return self.end.astimezone(self.zone)

    @property
    def date(self):
        return self.local_start.date()

    @property
    def place(self) -> str:
        """The venue and address, or "Online"."""
        if self.online:
            return str(_("Online"))
        return ", ".join(part for part in (self.venue, self.city, self.state, self.country) if part)

    def clean(self):
        errors: dict[str, list[StrOrPromise]] = {}
        if self.start and self.end and self.end <= self.start:
            errors.setdefault("end", []).append(_("must be after the start."))
        # The import's own session may lack a venue (listings carry none); staff's sessions name one.
        if not self.online and not self.venue and not self.from_listing:
            errors.setdefault("venue", []).append(_("An in-person session needs a venue (or tick online)."))
        if errors:
            raise ValidationError(errors)


class SessionCredit(models.Model):
    """The hours of one credit type a session carries; never more than the activity designates."""

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="credits"
    )
    credit_type = models.ForeignKey(
        CreditType, verbose_name=_("credit type"), on_delete=models.PROTECT, related_name="session_credits"
    )
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2, validators=[POSITIVE])

    provider_field = "session__activity__provider"

    class Meta:
        verbose_name = _("session credit")
        verbose_name_plural = _("session credits")
        ordering = ["credit_type__position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "credit_type"], name="session_credit_unique_per_type"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="session_credit_hours_gt_0"),
        ]

    def __str__(self):
        return f"{self.hours} {self.credit_type}"

    def clean(self):
        if self.hours is None or not self.credit_type_id:
            return
        step = self.credit_type.increment
        if self.session_id:
            step = self.session.activity.provider.increment_for(self.credit_type)
        problem = rules.increment_error(self.hours, step)
        if problem:
            raise ValidationError({"hours": f"{self.credit_type}: {problem}"})
        if self.session_id:
            designated = (
                CreditDesignation.objects.filter(
                    activity_id=self.session.activity_id, credit_type_id=self.credit_type_id
                )
                .values_list("max_amount", flat=True)
                .first()
            )
            if designated is None:
                raise ValidationError({"credit_type": _("The activity designates no credit of this type.")})
            if self.hours > designated:
                raise ValidationError(
                    {"hours": _("more than the activity designates (%(max)s).") % {"max": designated}}
                )
