"""Activity reports for the accreditors' activity registries: a provider's activities of a year with the
activity data the registry asks and the learners counted by profession.

A jointly accredited provider reports every CE activity to JA-PARS ("Jointly accredited providers are
required to report all of their CE activities to the Joint Accreditation Program and Activity Reporting
System (JA-PARS)": Joint Accreditation, "Administrative Responsibilities",
https://jointaccreditation.org/administrative-responsibilities); the others report to ACCME's PARS with a
physician and an "other learner" count. This is an activity-level file, not learner records: it is made on
demand from what the portal holds, changes nothing, and is not a ledger destination (no rows are marked).

What the file carries follows ACCME's list of the data PARS needs to close an activity (title, format, dates,
delivery method, city/state/country when in person, AMA PRA Category 1 amount, providership with at least one
joint provider's name, commercial support yes/no with each source and its monetary or in-kind support, and
the learner counts: ACCME, "What activity data are providers required to enter into PARS?",
https://www.accme.org/faq/what-activity-data-are-providers-required-enter-pars); JA-PARS has the same
functions as PARS ("you'll see the same functionality and features in JA-PARS": Joint Accreditation,
https://www.jointaccreditation.org/new-ja-pars). An activity that lacks something the registry needs to close
it is left out of the file and named with the reason, so staff complete it and make the file again.

Not confirmed from published material: the exact column names and order of the JA-PARS Excel and
tab-delimited templates (jointaccreditation.org/ja-pars-activity-submission-resources lists them; their text
is not public here), so the columns are named plainly for staff to key in or map; and the full list of
professions JA-PARS counts. Joint Accreditation's data reports name physicians, nurses, pharmacists and
pharmacy technicians (https://jointaccreditation.org/news/now-available-joint-accreditation-report-growth-and-
diversity-accredited-continuing-education/); physician assistants have a column because the portal awards
AAPA credit, and every other profession is counted under "other learners".
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import vocabulary
from activities.models import Activity, Provider, Session
from learners.selectors import dashboards
from portal.lib.csv import write_dicts

JA_PARS = "ja_pars"
PARS = "pars"
REGISTRY_NAMES = {JA_PARS: "JA-PARS", PARS: "ACCME PARS"}

# (column, profession codes counted in it); "other learners" takes every profession not listed.
JA_PARS_COUNTS = (
    ("physicians", (vocabulary.Profession.PHYSICIAN,)),
    ("nurses", (vocabulary.Profession.NURSE,)),
    ("pharmacists", (vocabulary.Profession.PHARMACIST,)),
    ("pharmacy_technicians", (vocabulary.Profession.PHARMACY_TECHNICIAN,)),
    ("physician_assistants", (vocabulary.Profession.PHYSICIAN_ASSISTANT,)),
)
# PARS: "Total Physician Learner count" and "Total Other Learner count" (accme.org FAQ above), the
# dashboard's physician / other split.
PARS_COUNTS = (("physicians", (vocabulary.Profession.PHYSICIAN,)),)
OTHER_LEARNERS = "other_learners"

# The credit types always given a column: JA-PARS records IPCE, medicine, nursing and pharmacy credit; PARS
# asks the AMA PRA Category 1 amount. Any other type designated in the file gets its own column too.
ALWAYS_CREDITED = {JA_PARS: ("ama_pra_1", "ipce", "nursing", "pharmacy"), PARS: ("ama_pra_1",)}

# PARS's current format names (ACCME, "streamlined the names of activity formats (formerly called activity
# types)": https://www.jointaccreditation.org/new-ja-pars); the internet types became delivery methods.
FORMAT_NAMES = {
    "course": "Course",
    "rss": "Regularly Scheduled Series",
    "internet_live": "Course",
    "enduring": "Enduring Material",
    "internet_enduring": "Enduring Material",
    "journal": "Journal-based CE",
    "manuscript_review": "Manuscript Review",
    "test_item_writing": "Test-item Writing",
    "committee_learning": "Committee Learning",
    "performance_improvement": "Performance/Quality Improvement",
    "internet_searching": "Internet Searching and Learning",
    "learning_from_teaching": "Learning from Teaching",
    "other_blended": "Other/Blended Learning",
}
DELIVERY_BY_FORMAT = {
    "in_person": "In-person",
    "live_online": "Live-streamed",
    "online": "Online",
    "blended": "In-person; Live-streamed",
}

ACTIVITY_COLUMNS = [
    "provider_activity_id", "pars_activity_id", "title", "format", "delivery_method", "start_date",
    "end_date", "location", "city", "state", "country",
]  # fmt: skip
PARTNER_COLUMNS = ["providership", "joint_providers", "commercial_support", "commercial_supporters"]


@dataclass(frozen=True)
class Supporter:
    name: str
    monetary_amount: Decimal | None
    in_kind: str  # "" for none; what was given in kind


@dataclass(frozen=True)
class Partners:
    """Who planned the activity with the provider and who supported it commercially."""

    joint_providers: tuple[str, ...]
    supporters: tuple[Supporter, ...]


@dataclass
class ActivityReport:
    """A provider's activity file for a year: its CSV, how many activities it holds, and the activities
    left out with the reason for each."""

    provider: Provider
    year: int
    registry: str  # JA_PARS or PARS
    columns: list[str]
    rows: list[dict[str, object]] = field(default_factory=list)
    refused: list[tuple[Activity, str]] = field(default_factory=list)

    @property
    def registry_name(self) -> str:
        return REGISTRY_NAMES[self.registry]

    @property
    def filename(self) -> str:
        kind = "ja-pars" if self.registry == JA_PARS else "pars"
        return f"{self.provider.slug}-{kind}-activities-{self.year}.csv"

    @property
    def content(self) -> str:
        return write_dicts(self.rows, columns=self.columns)


def registry_of(provider: Provider) -> str:
    return JA_PARS if provider.joint_accreditation else PARS


def reported_activities(*, provider: Provider, year: int) -> QuerySet[Activity]:
    """The provider's published activities open at any time in ``year``: each is reported for every year it
    is active in, with that year's learners (ACCME, "How do I report activities that are available for more
    than one year?", http://www.accme.org/faq/how-do-i-report-activities-are-available-for-more-one-year)."""
    start, end = dashboards.year_bounds(year=year)
    return Activity.objects.filter(
        provider=provider, status=Activity.Status.PUBLISHED, start__lt=end, end__gte=start
    )


def partners_of(activity: Activity) -> Partners:
    """The activity's joint providers and commercial supporters (prefetch ``joint_providers`` and
    ``commercial_supporters`` for many activities). The only place the report reads them."""
    supporters = tuple(
        Supporter(name=record.supporter, monetary_amount=record.monetary_amount, in_kind=record.in_kind)
        for record in activity.commercial_supporters.all()
    )
    return Partners(joint_providers=tuple(activity.joint_provider_names()), supporters=supporters)


def refusal(activity: Activity, *, partners: Partners, places: list[Session]) -> str:
    """Why the registry could not close ``activity`` from what the portal holds, or "" when it can."""
    if activity.providership == Activity.Providership.JOINT and not partners.joint_providers:
        return _("jointly provided, but no joint provider is named")
    in_person = activity.is_live and activity.format in ("in_person", "blended")
    if in_person and not activity.location and not places:
        return _("in person, but no session has a city, state and country and the activity no location")
    if activity.commercial_support and not partners.supporters:
        return _("commercial support received, but no supporter is recorded")
    return ""


def _us_date(day: date) -> str:
    # As the registry files the portal writes (exports.py); the JA-PARS template's date format is not
    # confirmed from published material.
    return day.strftime("%m/%d/%Y")


def _supporter_cell(supporter: Supporter) -> str:
    parts = []
    if supporter.monetary_amount:
        parts.append(_("monetary %(amount)s") % {"amount": f"{supporter.monetary_amount:.2f}"})
    if supporter.in_kind:
        parts.append(_("in kind: %(what)s") % {"what": supporter.in_kind})
    return f"{supporter.name} ({', '.join(parts)})" if parts else supporter.name


def _delivery(activity: Activity, sessions: list[Session]) -> str:
    if activity.is_live and sessions:
        methods = []
        if any(not s.online for s in sessions):
            methods.append("In-person")
        if any(s.online for s in sessions):
            methods.append("Live-streamed")
        return "; ".join(methods)
    if activity.is_live:
        return DELIVERY_BY_FORMAT.get(activity.format, "")
    return "Online" if activity.format in ("online", "live_online") else "Print/Other"


def _distinct(values: Iterable[str]) -> str:
    return "; ".join(dict.fromkeys(v for v in values if v))


def activity_report(*, provider: Provider, year: int) -> ActivityReport:
    """``provider``'s activities of ``year`` for its registry (JA-PARS when jointly accredited, PARS
    otherwise), one row per activity, with the learners counted by profession
    (``dashboards.learner_counts_by_profession``). Changes nothing; making it again gives the same file while
    the data stay the same. A fixed number of queries, however many activities."""
    registry = registry_of(provider)
    activities = list(
        reported_activities(provider=provider, year=year)
        .prefetch_related(
            "credits__credit_type",
            Prefetch("sessions", queryset=Session.objects.order_by("start", "pk")),
            "joint_providers",
            "commercial_supporters",
        )
        .order_by("start", "title", "pk")
    )
    counts = dashboards.learner_counts_by_profession(
        activities=Activity.objects.filter(pk__in=[a.pk for a in activities]), year=year
    )
    count_columns = JA_PARS_COUNTS if registry == JA_PARS else PARS_COUNTS
    credited = list(ALWAYS_CREDITED[registry])
    for activity in activities:
        for designation in activity.credits.all():
            if designation.credit_type_id not in credited:
                credited.append(designation.credit_type_id)
    credit_columns = {code: _credit_column(code) for code in credited}
    report = ActivityReport(
        provider=provider,
        year=year,
        registry=registry,
        columns=[
            *ACTIVITY_COLUMNS,
            *credit_columns.values(),
            *PARTNER_COLUMNS,
            *(name for name, _codes in count_columns),
            OTHER_LEARNERS,
            "total_learners",
        ],
    )
    for activity in activities:
        sessions = list(activity.sessions.all())
        places = [s for s in sessions if not s.online and (s.city or s.state or s.country)]
        partners = partners_of(activity)
        why = refusal(activity, partners=partners, places=places)
        if why:
            report.refused.append((activity, why))
            continue
        by_profession = counts.get(activity.pk, {})
        row: dict[str, object] = {
            "provider_activity_id": activity.pk,
            "pars_activity_id": activity.accreditor_activity_id,
            "title": activity.title,
            "format": FORMAT_NAMES[activity.activity_type],
            "delivery_method": _delivery(activity, sessions),
            "start_date": _us_date(timezone.localtime(activity.start).date()),
            "end_date": _us_date(timezone.localtime(activity.end).date()),
            "location": activity.location,
            "city": _distinct(s.city for s in places),
            "state": _distinct(s.state for s in places),
            "country": _distinct(s.country for s in places),
            "providership": "Joint" if activity.providership == Activity.Providership.JOINT else "Direct",
            "joint_providers": "; ".join(partners.joint_providers),
            "commercial_support": "Yes" if activity.commercial_support or partners.supporters else "No",
            "commercial_supporters": "; ".join(_supporter_cell(s) for s in partners.supporters),
        }
        for designation in activity.credits.all():
            row[credit_columns[designation.credit_type_id]] = f"{designation.max_amount:.2f}"
        counted = 0
        for name, codes in count_columns:
            learners = sum(by_profession.get(code, 0) for code in codes)
            row[name] = learners
            counted += learners
        total = sum(by_profession.values())
        row[OTHER_LEARNERS] = total - counted
        row["total_learners"] = total
        report.rows.append(row)
    return report


def _credit_column(code: str) -> str:
    """``credits_ama_pra_1``: the credit designated of one type (the maximum, as PARS takes it)."""
    return f"credits_{code}"
