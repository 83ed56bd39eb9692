"""A provider's year of activities and the outcomes each measured: what the listing says it measures
(``Activity.measured_outcomes``) beside what its assessments actually measured.

An activity is listed for a year when it was published and ran during the year (its dates overlapping it)
or had an attempt submitted in it. Its figures are those of its outcomes page (every attempt to date), so
the two always agree. Six queries, however many activities, learners or answers.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Avg, Case, Count, Exists, OuterRef, Q, Subquery, When
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import vocabulary
from activities.models import Activity, Provider
from assessments.models import Assessment, Attempt
from assessments.selectors.outcomes_catalog import as_decimal, percent
from assessments.selectors.outcomes_queries import best_attempts
from learners.models import Enrollment


@dataclass
class AnnualRow:
    activity_id: int
    title: str
    activity_type: str
    start: datetime
    end: datetime
    outcome_codes: list[str]
    outcomes: list[str]  # the listing's measured outcomes, as people read them
    enrolled: int = 0
    has_pre_test: bool = False
    has_post_test: bool = False
    has_evaluation: bool = False
    post_attempted: int = 0
    post_passed: int = 0
    evaluated: int = 0
    matched: int = 0
    pre_mean: Decimal | None = None
    post_mean: Decimal | None = None

    @property
    def pass_rate(self) -> Decimal | None:
        return percent(self.post_passed, self.post_attempted)

    @property
    def knowledge_measured(self) -> bool:
        """A knowledge change is available: a pre-test and a post-test, and learners who took both."""
        return self.has_pre_test and self.has_post_test and self.matched > 0

    @property
    def change(self) -> Decimal | None:
        if self.pre_mean is None or self.post_mean is None:
            return None
        return self.post_mean - self.pre_mean

    @property
    def measured(self) -> list[str]:
        """What the assessments measured, in words."""
        found = []
        if self.knowledge_measured:
            found.append(_("Knowledge change"))
        if self.post_attempted:
            found.append(_("Post-test pass rate"))
        if self.evaluated:
            found.append(_("Evaluation responses"))
        return found


@dataclass(frozen=True)
class OutcomeSummary:
    code: str
    label: str
    declared: int  # activities whose listing names this outcome
    measured: int  # of those, the ones with any outcome measured by an assessment


@dataclass(frozen=True)
class AnnualOutcomes:
    provider: Provider
    year: int
    rows: list[AnnualRow]
    summary: list[OutcomeSummary]


def year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def annual_outcomes(*, provider: Provider, year: int, outcome: str = "") -> AnnualOutcomes:
    """``provider``'s activities of ``year`` with their outcomes, narrowed to the activities whose listing
    names ``outcome`` (a code of ``vocabulary.OUTCOME_CHOICES``) if given; the summary counts them all."""
    start, end = year_bounds(year)
    attempted = Exists(
        Attempt.objects.filter(
            enrollment__activity=OuterRef("pk"), submitted_at__gte=start, submitted_at__lt=end
        )
    )
    ran = Q(status=Activity.Status.PUBLISHED, start__lt=end, end__gte=start)
    labels = dict(vocabulary.OUTCOME_CHOICES)
    activities = (
        Activity.objects.filter(provider=provider)
        .filter(ran | Q(attempted))
        .values("pk", "title", "activity_type", "start", "end", "measured_outcomes")
        .order_by("start", "title", "pk")
    )
    rows = [
        AnnualRow(
            activity_id=a["pk"],
            title=a["title"],
            activity_type=_activity_type(a["activity_type"]),
            start=a["start"],
            end=a["end"],
            outcome_codes=list(a["measured_outcomes"] or []),
            outcomes=[labels.get(code, code) for code in a["measured_outcomes"] or []],
        )
        for a in activities
    ]
    by_id = {row.activity_id: row for row in rows}
    ids = list(by_id)
    if ids:
        _fill(by_id, ids)
    summary = [
        OutcomeSummary(
            code,
            label,
            sum(1 for row in rows if code in row.outcome_codes),
            sum(1 for row in rows if code in row.outcome_codes and row.measured),
        )
        for code, label in vocabulary.OUTCOME_CHOICES
    ]
    if outcome:
        rows = [row for row in rows if outcome in row.outcome_codes]
    return AnnualOutcomes(provider=provider, year=year, rows=rows, summary=summary)


def _fill(by_id: dict[int, AnnualRow], ids: list[int]) -> None:
    for offered in Assessment.objects.filter(activity_id__in=ids).values("activity_id", "kind").order_by():
        setattr(by_id[offered["activity_id"]], f"has_{offered['kind']}", True)
    for counted in (
        Enrollment.objects.filter(activity_id__in=ids)
        .values("activity_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        by_id[counted["activity_id"]].enrolled = counted["n"]
    for row in (
        Attempt.objects.filter(assessment__activity_id__in=ids)
        .values("assessment__activity_id", "assessment__kind")
        .annotate(
            learners=Count("enrollment_id", distinct=True),
            passers=Count(Case(When(passed=True, then="enrollment_id")), distinct=True),
        )
        .order_by()
    ):
        target = by_id[row["assessment__activity_id"]]
        if row["assessment__kind"] == Assessment.Kind.POST_TEST:
            target.post_attempted, target.post_passed = row["learners"], row["passers"]
        elif row["assessment__kind"] == Assessment.Kind.EVALUATION:
            target.evaluated = row["learners"]
    pre_of = Attempt.objects.filter(
        enrollment_id=OuterRef("enrollment_id"), assessment__kind=Assessment.Kind.PRE_TEST
    )
    best = best_attempts(
        Attempt.objects.filter(assessment__activity_id__in=ids, assessment__kind=Assessment.Kind.POST_TEST)
    ).filter(Exists(pre_of))
    for matched in (
        best.annotate(pre_score=Subquery(pre_of.order_by("number").values("score")[:1]))
        .values("assessment__activity_id")
        .annotate(matched=Count("pk"), post=Avg("score"), pre=Avg("pre_score"))
        .order_by()
    ):
        target = by_id[matched["assessment__activity_id"]]
        target.matched = matched["matched"]
        target.pre_mean, target.post_mean = as_decimal(matched["pre"]), as_decimal(matched["post"])


def _activity_type(code: str) -> str:
    kind = vocabulary.ACTIVITY_TYPE_BY_CODE.get(code)
    return kind.label if kind else code


ANNUAL_HEADER = [
    "Year",
    "Provider",
    "Activity",
    "Activity type",
    "Start",
    "End",
    "Measured outcomes (listing)",
    "Measured by the assessments",
    "Enrolled",
    "Pre-test",
    "Post-test",
    "Evaluation",
    "Post-test attempted",
    "Post-test passed",
    "Pass rate (%)",
    "Matched learners",
    "Mean pre-test score (%)",
    "Mean best post-test score (%)",
    "Knowledge change (points)",
    "Evaluations completed",
]


def annual_rows(report: AnnualOutcomes) -> list[list[str]]:
    """The annual table as CSV cells, a header first."""

    def cell(value: object) -> str:
        return "" if value is None else str(value)

    yes_no = {True: "Yes", False: "No"}
    lines = [ANNUAL_HEADER]
    for row in report.rows:
        lines.append(
            [
                str(report.year),
                report.provider.name,
                row.title,
                row.activity_type,
                timezone.localtime(row.start).date().isoformat(),
                timezone.localtime(row.end).date().isoformat(),
                "; ".join(row.outcomes),
                "; ".join(row.measured),
                str(row.enrolled),
                yes_no[row.has_pre_test],
                yes_no[row.has_post_test],
                yes_no[row.has_evaluation],
                str(row.post_attempted),
                str(row.post_passed),
                cell(row.pass_rate),
                str(row.matched),
                cell(row.pre_mean),
                cell(row.post_mean),
                cell(row.change),
                str(row.evaluated),
            ]
        )
    return lines
