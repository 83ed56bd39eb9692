"""Pre-tests, post-tests and evaluations: what a provider authors, the frozen versions learners take, and the
attempts and answers learners give.

An assessment belongs to a provider; with an activity it is that activity's pre-test, post-test or
evaluation (one of each kind), without one it is a template in the provider's library, copied onto
activities. Learners never take the editable questions: each attempt is scored on an ``AssessmentVersion``,
a frozen copy of the questions, choices and correct answers made when they change, so editing a test after
learners took it never changes their recorded attempts.

Why they exist: the AMA's core requirements include an evaluation mechanism, and enduring materials and
journal CME an assessment with a minimum performance level (AMA CME provider FAQ,
http://www.ama-assn.org/ama/pub/category/16354.html; the 2010 PRA update,
http://meetingsnet.com/print/cme-regs/ama-issues-updates-pra-credit-system); ACCME's criteria ask providers to
analyse change in learners (http://accme.org/requirements/accreditation-requirements-cme-providers/criteria/
criterion-3); ABIM MOC needs a comprehensive evaluation with a passing score and feedback
(http://accme.org/faq/7922, https://www.acponline.org/cme-moc/moc/learn-more-about-moc/
why-cant-i-earn-moc-points-for-all-cme-activities), and ABMS boards' self-assessment credit a scored
assessment (https://www.continuingcertification.org/resources/); ACPE requires assessment of learning.
"""

import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from activities.models import Activity, Provider
from activities.vocabulary import MOC_BOARD_CODES
from learners.models import Enrollment
from portal.models import TimestampedModel


class Assessment(TimestampedModel):
    class Kind(models.TextChoices):
        PRE_TEST = "pre_test", _("Pre-test")
        POST_TEST = "post_test", _("Post-test")
        EVALUATION = "evaluation", _("Evaluation")

    class RequiredFor(models.TextChoices):
        CREDIT = "credit", _("All credit and MOC points")
        MOC = "moc", _("MOC points only")
        NOTHING = "nothing", _("Nothing: optional")

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="assessments"
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activity"),
        on_delete=models.PROTECT,
        related_name="assessments",
        null=True,
        blank=True,
        help_text=_(
            "Leave empty to keep this in the provider's library, as a template to copy onto activities."
        ),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    passing_score = models.PositiveSmallIntegerField(
        _("passing score (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Post-tests: the share of scored questions a learner must answer correctly."),
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts allowed"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Post-tests: empty for unlimited attempts."),
    )
    shuffle_questions = models.BooleanField(
        _("shuffle questions"),
        default=False,
        help_text=_("Each attempt shows the questions in its own order."),
    )
    show_feedback = models.BooleanField(
        _("show feedback"),
        default=True,
        help_text=_(
            "After each attempt, show which answers were right, the correct answers and explanations."
        ),
    )
    required_for = models.CharField(
        _("required for"),
        max_length=16,
        choices=RequiredFor.choices,
        default=RequiredFor.CREDIT,
        help_text=_(
            "What the learner must complete this for. A board's MOC points can need the post-test where CME "
            "credit does not (ABIM, ABS self-assessment). Pre-tests are never required."
        ),
    )
    moc_boards = models.JSONField(
        _("MOC boards"),
        default=list,
        blank=True,
        help_text=_(
            "When required for MOC points only: the boards whose points need it (empty: every board)."
        ),
    )

    provider_field = "provider"

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["activity", "kind", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "kind"],
                condition=Q(activity__isnull=False),
                name="assessment_one_per_kind_per_activity",
            ),
            models.CheckConstraint(
                condition=~Q(kind="post_test") | Q(passing_score__isnull=False),
                name="assessment_post_test_has_passing_score",
            ),
            models.CheckConstraint(
                condition=Q(passing_score__isnull=True) | Q(passing_score__gte=1, passing_score__lte=100),
                name="assessment_passing_score_1_to_100",
            ),
            models.CheckConstraint(
                condition=Q(max_attempts__isnull=True) | Q(max_attempts__gte=1),
                name="assessment_max_attempts_at_least_1",
            ),
            models.CheckConstraint(
                condition=~Q(kind="pre_test") | Q(required_for="nothing"),
                name="assessment_pre_test_never_required",
            ),
        ]

    def __str__(self):
        where = self.activity.title if self.activity_id and self.activity else _("library")
        return f"{self.get_kind_display()}: {self.title} ({where})"

    def clean(self):
        """The rules of the settings, each error on its field: a post-test's passing score, attempts only
        for post-tests, a pre-test never required, MOC boards only for "MOC points only", the activity the
        provider's and without another assessment of this kind."""
        errors: dict[str, str | Promise] = {}
        if self.kind == self.Kind.POST_TEST and self.passing_score is None:
            errors["passing_score"] = _("A post-test needs a passing score, from 1 to 100 %.")
        if self.kind != self.Kind.POST_TEST:
            if self.passing_score is not None:
                errors["passing_score"] = _("Only a post-test has a passing score: leave it empty.")
            if self.max_attempts is not None:
                errors["max_attempts"] = _("Only a post-test allows several attempts: leave it empty.")
        if self.kind == self.Kind.PRE_TEST:
            # A pre-test measures what learners knew before; it never gates credit.
            self.required_for, self.moc_boards = self.RequiredFor.NOTHING, []
        errors.update(self._moc_board_errors())
        errors.update(self._activity_errors())
        if errors:
            raise ValidationError(errors)

    def _moc_board_errors(self) -> dict[str, str | Promise]:
        boards = self.moc_boards
        if not isinstance(boards, list) or not all(isinstance(b, str) for b in boards):
            return {"moc_boards": _('List the boards\' codes, such as ["ABIM", "ABS"].')}
        unknown = [b for b in boards if b not in MOC_BOARD_CODES]
        if unknown:
            return {"moc_boards": _("Not an MOC board's code: %(codes)s.") % {"codes": ", ".join(unknown)}}
        if boards and self.required_for != self.RequiredFor.MOC:
            return {"moc_boards": _("Name boards only when the assessment is required for MOC points only.")}
        if len(set(boards)) != len(boards):
            return {"moc_boards": _("Name each board once.")}
        return {}

    def _activity_errors(self) -> dict[str, str | Promise]:
        if self.activity_id is None or self.activity is None:
            return {}
        if self.provider_id is not None and self.activity.provider_id != self.provider_id:
            return {"activity": _("The activity must be one of the assessment's provider's.")}
        if self.kind:
            other = Assessment.objects.filter(activity_id=self.activity_id, kind=self.kind).exclude(
                pk=self.pk
            )
            if other.exists():
                return {
                    "activity": _("This activity already has %(kind)s; edit that one, or choose another.")
                    % {"kind": self.kind_with_article(self.kind)}
                }
        return {}

    def validate_constraints(self, exclude=None):
        # clean() checks every rule of the constraints naming the kind, and says which field is wrong; the
        # constraints' own messages name none, so they are not repeated on the form.
        super().validate_constraints(exclude={*(exclude or ()), "kind"})

    @classmethod
    def kind_with_article(cls, kind: str) -> str | Promise:
        """The kind as a sentence names it: "a post-test", "an evaluation"."""
        articled: dict[str, str | Promise] = {
            cls.Kind.PRE_TEST: _("a pre-test"),
            cls.Kind.POST_TEST: _("a post-test"),
            cls.Kind.EVALUATION: _("an evaluation"),
        }
        return articled.get(kind, kind)

    @property
    def is_template(self) -> bool:
        return self.activity_id is None

    @property
    def is_scored(self) -> bool:
        return self.kind != self.Kind.EVALUATION

    @property
    def attempts_allowed(self) -> int | None:
        """How many attempts a learner has: a pre-test and an evaluation are taken once."""
        if self.kind == self.Kind.POST_TEST:
            return self.max_attempts
        return 1


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice (all correct answers required)")
        TRUE_FALSE = "true_false", _("True or false")
        LIKERT = "likert", _("Likert scale 1–5")
        FREE_TEXT = "free_text", _("Free text (evaluations only)")

    SCORED_KINDS = (Kind.SINGLE, Kind.MULTIPLE, Kind.TRUE_FALSE)
    # The Likert scale's points, as the learner's form, the result page and the outcomes report name them.
    LIKERT_LABELS = {
        1: _("Strongly disagree"),
        2: _("Disagree"),
        3: _("Neither agree nor disagree"),
        4: _("Agree"),
        5: _("Strongly agree"),
    }
    CHOICE_KINDS = (Kind.SINGLE, Kind.MULTIPLE, Kind.TRUE_FALSE)

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="questions"
    )
    # The same question across versions, copies and the pre- and post-test of one activity: what the
    # knowledge change is matched on.
    key = models.UUIDField(_("key"), default=uuid.uuid4, editable=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SINGLE)
    text = models.TextField(_("question"), max_length=2000)
    explanation = models.TextField(
        _("explanation"),
        blank=True,
        max_length=4000,
        help_text=_("Shown after the attempt, when feedback is on."),
    )
    required = models.BooleanField(_("answer required"), default=True)

    provider_field = "assessment__provider"

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "key"], name="question_key_once_per_assessment"),
        ]

    def __str__(self):
        return self.text[:80]

    def clean(self):
        """Free text only in evaluations, Likert and free text never in a scored test."""
        assessment = getattr(self, "assessment", None)  # an unsaved assessment's, on its add page
        kind = assessment.kind if assessment is not None else None
        if self.kind == self.Kind.FREE_TEXT and kind and kind != Assessment.Kind.EVALUATION:
            raise ValidationError({"kind": _("Free-text questions belong in evaluations only.")})
        if self.kind == self.Kind.LIKERT and kind and kind != Assessment.Kind.EVALUATION:
            raise ValidationError(
                {"kind": _("Likert items belong in evaluations; a test asks questions it scores.")}
            )

    @property
    def is_scored(self) -> bool:
        return self.kind in self.SCORED_KINDS


class Choice(models.Model):
    question = models.ForeignKey(
        Question, verbose_name=_("question"), on_delete=models.CASCADE, related_name="choices"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    text = models.CharField(_("answer"), max_length=500)
    is_correct = models.BooleanField(_("correct"), default=False)

    provider_field = "question__assessment__provider"

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.text[:80]


class AssessmentVersion(models.Model):
    """The questions, choices and correct answers of an assessment as learners took them, frozen.

    ``content``: ``{"title", "kind", "passing_score", "instructions", "questions": [{"id", "key", "kind",
    "text", "explanation", "required", "choices": [{"id", "text", "correct"}]}]}``; ``digest`` is its
    SHA-256, so an unchanged assessment reuses its latest version."""

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"))
    digest = models.CharField(_("digest"), max_length=64)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    provider_field = "assessment__provider"

    class Meta:
        verbose_name = _("assessment version")
        verbose_name_plural = _("assessment versions")
        ordering = ["assessment", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "number"], name="assessment_version_number_once"),
        ]

    def __str__(self):
        return f"{self.assessment} v{self.number}"


class Attempt(models.Model):
    """One submission of a pre-test, post-test or evaluation by an enrolled learner, scored on the version
    they were shown. At most one passed attempt per post-test: a pass is final."""

    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.PROTECT, related_name="attempts"
    )
    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.PROTECT, related_name="attempts"
    )
    version = models.ForeignKey(
        AssessmentVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="attempts"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    submitted_at = models.DateTimeField(_("submitted at"))
    score = models.DecimalField(
        _("score (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Scored kinds only."),
    )
    correct = models.PositiveSmallIntegerField(_("correct answers"), null=True, blank=True)
    scored = models.PositiveSmallIntegerField(_("scored questions"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True, help_text=_("Post-tests only."))

    provider_field = "enrollment__activity__provider"

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["enrollment", "assessment", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "assessment", "number"], name="attempt_number_once"
            ),
            models.UniqueConstraint(
                fields=["enrollment", "assessment"], condition=Q(passed=True), name="attempt_one_pass"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="attempt_number_at_least_1"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=Decimal(0), score__lte=Decimal(100)),
                name="attempt_score_0_to_100",
            ),
        ]
        indexes = [models.Index(fields=["assessment", "submitted_at"])]

    def __str__(self):
        return f"{self.assessment.get_kind_display()} attempt {self.number} of {self.enrollment}"


class Answer(models.Model):
    """A learner's answer to one question of an attempt, as given: the choices picked, the Likert value or
    the text, and whether it was correct (scored questions)."""

    attempt = models.ForeignKey(
        Attempt, verbose_name=_("attempt"), on_delete=models.CASCADE, related_name="answers"
    )
    question_pk = models.PositiveIntegerField(_("question"))
    question_key = models.UUIDField(_("question key"))
    choice_ids = models.JSONField(_("choices picked"), default=list, blank=True)
    value = models.PositiveSmallIntegerField(_("value"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True, max_length=5000)
    correct = models.BooleanField(_("correct"), null=True, blank=True)

    provider_field = "attempt__enrollment__activity__provider"

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["attempt", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question_pk"], name="answer_once_per_question"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=1, value__lte=5), name="answer_likert_1_to_5"
            ),
        ]
        # The outcomes report reads an activity's answers by their questions' ids (unique to one assessment).
        indexes = [models.Index(fields=["question_pk"]), models.Index(fields=["question_key"])]

    def __str__(self):
        return f"Answer to {self.question_pk} in {self.attempt_id}"


class AnswerTally(models.Model):
    """How many answers an assessment's question got with one set of choices (or one Likert value), and how
    many were correct: the outcomes report reads these instead of every answer. Kept by ``submit_attempt``
    in the attempt's transaction; ``assessments.services.tallies.rebuild`` recounts them from the answers."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answer_tallies")
    question_pk = models.PositiveIntegerField()
    question_key = models.UUIDField()
    choices = models.CharField(max_length=400, blank=True)  # the choice ids picked, sorted, comma-separated
    value = models.PositiveSmallIntegerField(default=0)  # the Likert value; 0 for none
    answers = models.PositiveIntegerField(default=0)
    right = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question_pk", "choices", "value"], name="answer_tally_once"
            ),
        ]

    def __str__(self):
        return f"{self.question_pk} {self.choices or self.value}: {self.answers}"


class KnowledgeTally(models.Model):
    """Per question (by key) of an activity's pre- and post-test, the answers and correct answers of the
    matched learners (those who took both): their pre-test attempt (``side`` "pre") and their best post-test
    attempt ("post"). Kept by ``submit_attempt``, recounted by ``tallies.rebuild``."""

    post_test = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="knowledge_tallies")
    question_key = models.UUIDField()
    side = models.CharField(max_length=4, choices=[("pre", "pre"), ("post", "post")])
    answers = models.IntegerField(default=0)
    right = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["post_test", "question_key", "side"], name="knowledge_tally_once"
            ),
        ]

    def __str__(self):
        return f"{self.question_key} {self.side}: {self.right}/{self.answers}"
