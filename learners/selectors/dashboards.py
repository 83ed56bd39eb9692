"""Selectors for the admin dashboards: a year's figures per activity, their totals, and a monthly series.

Every figure is counted by the database in a fixed number of grouped queries (``values()`` grouping with
``Count``/``Sum`` and ``filter=Q(...)``), whatever the number of activities: no query per activity. The
caller passes the activities in scope (see ``dashboard_activities``), so scoping stays in one place.

A year runs from 1 January 00:00 to the next 1 January 00:00 in the portal's time zone. The figures:

- **enrollments**: enrollments created in the year;
- **completions**: enrollments completed (credit claimed) in the year, whenever they were made; split into
  **physician learners** and **other learners** by the profession the learner gave on the claim;
- **completion rate**: of the enrollments made in the year, the share completed so far (so it never
  exceeds 100%, and a year's rate can still rise while its learners finish);
- **credits** by credit type: the sum of the amounts claimed in claims made in the year;
- **certificates issued**: certificates created in the year (revoked ones included: they were issued);
  **delivered**: those of them with an email in state "sent", for any of their versions;
- **hours of instruction**: the activity's AMA PRA Category 1 Credit™ designation, or its largest
  designation when it has none, as ACCME's annual report asks.

An activity is listed for a year when it ran in the year (published, its dates overlapping the year) or
has any enrollment, completion or certificate counted in it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from activities import vocabulary
from activities.models import Activity, CreditDesignation, Provider
from learners.models import Certificate, ClaimedCredit, Enrollment, OutboxMessage
from portal import scoping

MONTHS = 12
CENTS = Decimal("0.01")


# --- scope -----------------------------------------------------------------------------------------------


def may_see_dashboards(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Accreditation staff, superusers, and staff with a membership (editors and viewers alike)."""
    return scoping.sees_everything(user) or bool(scoping.provider_ids(user))


def dashboard_providers(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Provider]:
    """The providers whose figures ``user`` may see: every provider for accreditation staff, otherwise
    those of their memberships (none for anyone else)."""
    if scoping.sees_everything(user):
        return Provider.objects.order_by("name")
    return Provider.objects.filter(pk__in=scoping.provider_ids(user)).order_by("name")


def dashboard_activities(
    *, user: AbstractBaseUser | AnonymousUser, provider: Provider | None = None
) -> QuerySet[Activity]:
    """The activities whose figures ``user`` may see, narrowed to ``provider`` if given.

    The caller checks that ``provider`` is one of ``dashboard_providers(user=user)``; a provider outside the
    user's scope yields no activities here rather than another provider's.
    """
    activities = Activity.objects.all()
    if not scoping.sees_everything(user):
        activities = activities.filter(provider_id__in=scoping.provider_ids(user))
    if provider is not None:
        activities = activities.filter(provider=provider)
    return activities


# --- figures ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditColumn:
    code: str
    name: str


@dataclass
class Figures:
    """One activity's figures for a year, or the totals of several."""

    enrollments: int = 0
    completions: int = 0
    physician_learners: int = 0
    other_learners: int = 0
    enrolled_completed: int = 0  # of the year's enrollments, those completed so far
    credits: dict[str, Decimal] = field(default_factory=dict)  # credit type code -> amount claimed
    certificates_issued: int = 0
    certificates_delivered: int = 0
    # ``credits`` in the report's columns: (column, amount or None)
    credit_cells: list[tuple[CreditColumn, Decimal | None]] = field(default_factory=list)

    @property
    def completion_rate(self) -> Decimal | None:
        """Percent, to one decimal; None when nobody enrolled in the year."""
        if not self.enrollments:
            return None
        rate = Decimal(self.enrolled_completed * 100) / Decimal(self.enrollments)
        return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def add(self, other: "Figures") -> None:
        self.enrollments += other.enrollments
        self.completions += other.completions
        self.physician_learners += other.physician_learners
        self.other_learners += other.other_learners
        self.enrolled_completed += other.enrolled_completed
        self.certificates_issued += other.certificates_issued
        self.certificates_delivered += other.certificates_delivered
        for code, amount in other.credits.items():
            self.credits[code] = self.credits.get(code, Decimal(0)) + amount


@dataclass
class ActivityRow:
    activity_id: int
    title: str
    provider: str
    activity_type: str  # the ACCME activity type, as people read it
    accreditor_activity_id: str
    hours: Decimal | None  # hours of instruction
    commercial_support: bool
    figures: Figures


@dataclass
class MonthlySeries:
    months: list[date]  # the first day of each month of the year
    enrollments: list[int]
    completions: list[int]


@dataclass
class YearReport:
    year: int
    rows: list[ActivityRow]
    totals: Figures
    credit_columns: list[CreditColumn]
    monthly: MonthlySeries


def year_bounds(*, year: int) -> tuple[datetime, datetime]:
    """The first instant of ``year`` and of the next, in the portal's time zone."""
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def _within(path: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{path}__gte": start, f"{path}__lt": end})


def year_report(*, activities: QuerySet[Activity], year: int) -> YearReport:
    """``year``'s figures for ``activities`` (as the module docstring defines them): one row per activity
    listed for the year, ordered by provider and title, with totals and the monthly series.

    Six queries, however many activities there are.
    """
    start, end = year_bounds(year=year)
    rows = _listed_activities(activities=activities, start=start, end=end)
    by_id = {row.activity_id: row.figures for row in rows}

    for counts in _enrollment_counts(activities=activities, start=start, end=end):
        figures = by_id.get(counts["activity_id"])
        if figures is not None:
            figures.enrollments = counts["enrollments"]
            figures.enrolled_completed = counts["enrolled_completed"]
            figures.completions = counts["completions"]
            figures.physician_learners = counts["physicians"]
            figures.other_learners = counts["completions"] - counts["physicians"]

    # A claim's claimed_at is its enrollment's completed_at (claim_credit sets both), so every activity with
    # credit claimed in the year is listed for its completion.
    names: dict[str, tuple[int, str]] = {}
    for credit in (
        ClaimedCredit.objects.filter(
            _within("claim__claimed_at", start, end), claim__enrollment__activity__in=activities
        )
        .values(
            "claim__enrollment__activity_id", "credit_type_id", "credit_type__name", "credit_type__position"
        )
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        figures = by_id.get(credit["claim__enrollment__activity_id"])
        if figures is not None:
            # SQLite hands back computed decimals unscaled ("1" for 1.00): state them as stored.
            figures.credits[credit["credit_type_id"]] = credit["total"].quantize(CENTS)
            names[credit["credit_type_id"]] = (
                credit["credit_type__position"],
                vocabulary.credit_type_label(credit["credit_type_id"], default=credit["credit_type__name"]),
            )

    sent = Q(versions__messages__state=OutboxMessage.State.SENT)
    for counts in (
        Certificate.objects.filter(_within("created", start, end), enrollment__activity__in=activities)
        .values("enrollment__activity_id")
        .annotate(issued=Count("pk", distinct=True), delivered=Count("pk", distinct=True, filter=sent))
        .order_by()
    ):
        figures = by_id.get(counts["enrollment__activity_id"])
        if figures is not None:
            figures.certificates_issued = counts["issued"]
            figures.certificates_delivered = counts["delivered"]

    columns = [
        CreditColumn(code, name) for code, (_position, name) in sorted(names.items(), key=lambda i: i[1])
    ]
    totals = Figures()
    for row in rows:
        totals.add(row.figures)
        row.figures.credit_cells = [(column, row.figures.credits.get(column.code)) for column in columns]
    totals.credit_cells = [(column, totals.credits.get(column.code)) for column in columns]
    return YearReport(
        year=year,
        rows=rows,
        totals=totals,
        credit_columns=columns,
        monthly=monthly_series(activities=activities, year=year),
    )


def _listed_activities(
    *, activities: QuerySet[Activity], start: datetime, end: datetime
) -> list[ActivityRow]:
    designations = CreditDesignation.objects.filter(activity=OuterRef("pk")).order_by()
    ran = Q(status=Activity.Status.PUBLISHED, start__lt=end, end__gte=start)
    had_learners = Exists(
        Enrollment.objects.filter(
            _within("created", start, end) | _within("completed_at", start, end), activity=OuterRef("pk")
        )
    )
    had_certificates = Exists(
        Certificate.objects.filter(_within("created", start, end), enrollment__activity=OuterRef("pk"))
    )
    listed = (
        activities.filter(ran | Q(had_learners) | Q(had_certificates))
        .annotate(
            hours=Coalesce(
                Subquery(designations.filter(credit_type_id=vocabulary.AMA_PRA_1).values("max_amount")[:1]),
                Subquery(designations.order_by("-max_amount").values("max_amount")[:1]),
            )
        )
        .values(
            "pk",
            "title",
            "provider__name",
            "activity_type",
            "accreditor_activity_id",
            "hours",
            "commercial_support",
        )
        .order_by("provider__name", "title", "pk")
    )
    return [
        ActivityRow(
            activity_id=activity["pk"],
            title=activity["title"],
            provider=activity["provider__name"],
            activity_type=_activity_type_label(activity["activity_type"]),
            accreditor_activity_id=activity["accreditor_activity_id"],
            hours=None if activity["hours"] is None else activity["hours"].quantize(CENTS),
            commercial_support=activity["commercial_support"],
            figures=Figures(),
        )
        for activity in listed
    ]


def _activity_type_label(code: str) -> str:
    kind = vocabulary.ACTIVITY_TYPE_BY_CODE.get(code)
    return kind.label if kind else code


def _enrollment_counts(*, activities: QuerySet[Activity], start: datetime, end: datetime) -> QuerySet:
    made = _within("created", start, end)
    completed = _within("completed_at", start, end)
    return (
        Enrollment.objects.filter(made | completed, activity__in=activities)
        .values("activity_id")
        .annotate(
            enrollments=Count("pk", filter=made),
            enrolled_completed=Count("pk", filter=made & Q(status=Enrollment.Status.COMPLETED)),
            completions=Count("pk", filter=completed),
            physicians=Count("pk", filter=completed & Q(claim__profession=vocabulary.Profession.PHYSICIAN)),
        )
        .order_by()
    )


def monthly_series(*, activities: QuerySet[Activity], year: int) -> MonthlySeries:
    """Enrollments made and completed in each month of ``year`` for ``activities``: two queries."""
    start, end = year_bounds(year=year)
    tz = timezone.get_current_timezone()
    series = []
    for path in ("created", "completed_at"):
        counts = [0] * MONTHS
        for bucket in (
            Enrollment.objects.filter(_within(path, start, end), activity__in=activities)
            .annotate(month=TruncMonth(path, tzinfo=tz))
            .values("month")
            .annotate(count=Count("pk"))
            .order_by()
        ):
            counts[bucket["month"].month - 1] += bucket["count"]
        series.append(counts)
    return MonthlySeries(
        months=[date(year, month, 1) for month in range(1, MONTHS + 1)],
        enrollments=series[0],
        completions=series[1],
    )


def first_year(*, activities: QuerySet[Activity]) -> int | None:
    """The year of the earliest enrollment in ``activities``, if any: where a year selector starts."""
    earliest = Enrollment.objects.filter(activity__in=activities).aggregate(first=Min("created"))["first"]
    return timezone.localtime(earliest).year if earliest else None


# --- the annual report's rows ----------------------------------------------------------------------------

ANNUAL_REPORT_HEADER = [
    "Year",
    "Provider",
    "Activity",
    "Accreditor activity ID",
    "Activity type",
    "Physician learners",
    "Other learners",
    "Hours of instruction",
    "Commercial support",
    "Enrollments",
    "Completions",
    "Enrollments of the year completed",
    "Completion rate (%)",
    "Certificates issued",
    "Certificates delivered",
]


def annual_report_rows(*, report: YearReport) -> list[list[str]]:
    """The per-activity table as CSV cells: a header (the fixed columns, then one per credit type claimed in
    the year), then one row per activity. Decimals are written as stored ("1.50"); no figure is blank but
    the hours of an activity with no designation and the rate of one with no enrollments."""
    header = ANNUAL_REPORT_HEADER + [column.name for column in report.credit_columns]
    lines = [header]
    for row in report.rows:
        figures = row.figures
        rate = figures.completion_rate
        lines.append(
            [
                str(report.year),
                row.provider,
                row.title,
                row.accreditor_activity_id,
                row.activity_type,
                str(figures.physician_learners),
                str(figures.other_learners),
                "" if row.hours is None else f"{row.hours:.2f}",
                "Yes" if row.commercial_support else "No",
                str(figures.enrollments),
                str(figures.completions),
                str(figures.enrolled_completed),
                "" if rate is None else str(rate),
                str(figures.certificates_issued),
                str(figures.certificates_delivered),
                *(
                    f"{amount:.2f}" if amount is not None else "0.00"
                    for _column, amount in figures.credit_cells
                ),
            ]
        )
    return lines


# --- learner counts by profession, as the accreditors' activity registries count them ---------------------


def learner_counts_by_profession(*, activities: QuerySet[Activity], year: int) -> dict[int, dict[str, int]]:
    """``{activity_id: {profession code: learners}}`` for ``year``, counted as PARS and JA-PARS count them.

    A regularly scheduled series counts each learner once for every session they attended in the year
    ("Each physician or other learner is counted as a learner for every session they attend in the series",
    ACCME, "Regularly Scheduled Series Definition", https://accme.org/resource/regularly-scheduled-series-definition,
    and accme.org/faq/10496): one per ``Attendance`` row, whether or not the learner claimed, under the
    profession of their claim or, before a claim, of their profile. Every other activity counts the learners
    who completed it in the year (credit claimed), under the profession they gave on the claim, as the
    dashboard's physician and other learners do; an activity open across years reports each year's own
    learners ("Do not report cumulative data", ACCME, "How do I report activities that are available for
    more than one year?", http://www.accme.org/faq/how-do-i-report-activities-are-available-for-more-one-year).

    Two grouped queries, however many activities.
    """
    from attendance.models import Attendance  # attendance builds on learners' models

    start, end = year_bounds(year=year)
    counts: dict[int, dict[str, int]] = {}
    series = activities.filter(activity_type=vocabulary.RSS)
    for attended in (
        Attendance.objects.filter(_within("session__start", start, end), session__activity__in=series)
        .annotate(
            profession=Coalesce("enrollment__claim__profession", "enrollment__learner__profile__profession")
        )
        .values("session__activity_id", "profession")
        .annotate(learners=Count("pk"))
        .order_by()
    ):
        by_profession = counts.setdefault(attended["session__activity_id"], {})
        by_profession[attended["profession"] or ""] = attended["learners"]
    for completed in (
        Enrollment.objects.filter(
            _within("completed_at", start, end), activity__in=activities.exclude(activity_type=vocabulary.RSS)
        )
        .values("activity_id", "claim__profession")
        .annotate(learners=Count("pk"))
        .order_by()
    ):
        by_profession = counts.setdefault(completed["activity_id"], {})
        by_profession[completed["claim__profession"] or ""] = completed["learners"]
    return counts
