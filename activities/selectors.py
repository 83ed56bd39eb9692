"""Reads: the public catalog (search, facets, pages) and the activity page."""

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from activities import catalog_index, vocabulary
from activities.catalog_index import FacetValue
from activities.filters import PAGE_SIZE, end_of, start_of
from activities.models import Activity, CreditDesignation, MocApproval, Session, SessionCredit
from activities.search import keyword_ids, words
from activities.text import activity_dates_text, fee_text

# Facets in the order the catalog shows them; each is also the filter parameter that chooses a value.
FACET_PARAMS = catalog_index.FACETS


@dataclass
class CatalogPage:
    ids: list[int]
    total: int
    page: int
    page_size: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    items: list = field(default_factory=list)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.page_size + len(self.items)


class PageOutOfRange(Exception):
    pass


def catalog_search(
    *,
    params: dict,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    facets: bool = True,
    load: Callable[[list[int]], list] | None = None,
) -> CatalogPage:
    """One page of the catalog for validated ``params`` (``CatalogFilter``'s cleaned data).

    ``load`` turns the page's ids into what is shown (``activity_cards`` unless given). Raises
    ``PageOutOfRange`` for a page past the last one.
    """
    q = params.get("q") or ""
    index = catalog_index.get_index()
    matches = cached_keyword_ids(q, token=index.token) if q else None
    sort = params.get("sort") or ("relevance" if matches is not None else "-start")
    if sort == "relevance" and matches is None:
        sort = "-start"
    filters = {}
    for name in FACET_PARAMS:
        value = params.get(name)
        if value is None or value == "":
            continue
        filters[name] = getattr(value, "pk", value)
    after, before = params.get("starts_after"), params.get("starts_before")
    result = index.search(
        filters=filters,
        keyword_ids=matches,
        starts_after=start_of(after) if after else None,
        starts_before=end_of(before) if before else None,
        now=None if params.get("include_past") else timezone.now(),
        sort=sort,
        offset=(page - 1) * page_size,
        limit=page_size,
        facets=facets,
    )
    if page > 1 and (page - 1) * page_size >= result.total:
        raise PageOutOfRange(page)
    return CatalogPage(
        ids=result.ids,
        total=result.total,
        page=page,
        page_size=page_size,
        facets=result.facets,
        items=(load or activity_cards)(result.ids),
    )


_keyword_cache: OrderedDict[tuple[str, tuple[str, ...]], list[int] | None] = OrderedDict()
_KEYWORD_CACHE_SIZE = 512


def cached_keyword_ids(q: str, *, token: str) -> list[int] | None:
    """``keyword_ids``, remembered while the catalog stays at ``token`` (popular searches repeat)."""
    key = (token, tuple(words(q)))
    if key in _keyword_cache:
        _keyword_cache.move_to_end(key)
        return _keyword_cache[key]
    found = keyword_ids(q)
    _keyword_cache[key] = found
    while len(_keyword_cache) > _KEYWORD_CACHE_SIZE:
        _keyword_cache.popitem(last=False)
    return found


@dataclass
class ActivityCard:
    """What a result card shows, read without building model instances (a page is on the hot path)."""

    pk: int
    title: str
    slug: str
    activity_type: str
    format: str
    start: datetime
    end: datetime
    fee_kind: str
    fee_amount: Decimal | None
    provider_name: str
    credits: list[tuple[str, Decimal]] = field(default_factory=list)

    def get_absolute_url(self) -> str:
        return reverse("activities:detail", kwargs={"slug": self.slug})

    def get_activity_type_display(self) -> str:
        return ACTIVITY_TYPE_LABELS[self.activity_type]

    def get_format_display(self) -> str:
        return FORMAT_LABELS[self.format]

    def get_fee_kind_display(self) -> str:
        return str(Activity.Fee(self.fee_kind).label)

    @property
    def is_enduring(self) -> bool:
        return vocabulary.ACTIVITY_TYPE_BY_CODE[self.activity_type].kind == vocabulary.ENDURING

    @property
    def credit_badges(self) -> list[str]:
        return [f"{amount.normalize():f} {name}" for name, amount in self.credits]

    @property
    def dates_text(self) -> str:
        return activity_dates_text(self)

    @property
    def fee_text(self) -> str:
        return fee_text(self)


ACTIVITY_TYPE_LABELS = dict(vocabulary.ACTIVITY_TYPE_CHOICES)
FORMAT_LABELS = dict(vocabulary.FORMAT_CHOICES)
CARD_FIELDS = ("pk", "title", "slug", "activity_type", "format", "start", "end", "fee_kind", "fee_amount")


def activity_cards(ids: list[int]) -> list[ActivityCard]:
    """Cards for the published activities with these ids, in this order: one query for any number (the
    credit badges come from the catalog index, which is current with the database)."""
    if not ids:
        return []
    index = catalog_index.last_index()
    rows = Activity.objects.published().filter(pk__in=ids).values_list(*CARD_FIELDS, "provider__name")
    cards = {row[0]: ActivityCard(*row) for row in rows}
    for pk, card in cards.items():
        card.credits = index.credit_badges(pk)
    return [cards[pk] for pk in ids if pk in cards]


RECORD_FIELDS = (
    "pk", "slug", "title", "summary", "activity_link", "provider__name", "provider__slug", "activity_type",
    "format", "start", "end", "fee_kind", "fee_amount", "registration", "registration_text", "providership",
    "commercial_support", "measured_outcomes",
)  # fmt: skip


def activity_records(ids: list[int]) -> list[dict]:
    """Everything the API shows for these published activities, in this order: six queries for any number."""
    if not ids:
        return []
    records = {row[0]: dict(zip(RECORD_FIELDS, row, strict=True)) for row in (
        Activity.objects.published().filter(pk__in=ids).values_list(*RECORD_FIELDS)
    )}  # fmt: skip
    for record in records.values():
        record.update(specialties=[], credits=[], moc=[])
    found = list(records)
    for activity_id, name in (
        Activity.specialties.through.objects.filter(activity_id__in=found)
        .order_by("specialty__name")
        .values_list("activity_id", "specialty__name")
    ):
        records[activity_id]["specialties"].append(name)
    for activity_id, code, name, amount in (
        CreditDesignation.objects.filter(activity_id__in=found)
        .order_by("credit_type__position")
        .values_list("activity_id", "credit_type_id", "credit_type__name", "max_amount")
    ):
        records[activity_id]["credits"].append((vocabulary.credit_type_label(code, default=name), amount))
    for activity_id, board, moc_type, points in (
        MocApproval.objects.filter(activity_id__in=found)
        .order_by("board", "credit_type")
        .values_list("activity_id", "board", "credit_type", "points")
    ):
        records[activity_id]["moc"].append((board, moc_type, points))
    for activity_id, requirements in offered_assessments(found).items():
        records[activity_id]["assessments"] = requirements
    for activity_id, sessions in session_records(found).items():
        records[activity_id]["sessions"] = sessions
    return [records[pk] for pk in ids if pk in records]


def session_records(activity_ids: list[int]) -> dict[int, list[dict]]:
    """The activities' sessions in order, each with its credit hours, in one query: ``{activity id: [{"start",
    "end", "time_zone", "online", "venue", "city", "state", "country", "track", "credits": [(label,
    hours)]}]}``; every id is in the result."""
    found: dict[int, list[dict]] = {pk: [] for pk in activity_ids}
    if not activity_ids:
        return found
    by_session: dict[int, dict] = {}
    rows = (
        Session.objects.filter(activity_id__in=activity_ids)
        .order_by("start", "track", "pk", "credits__credit_type__position")
        .values_list(
            "pk",
            "activity_id",
            *SESSION_FIELDS,
            "credits__credit_type_id",
            "credits__credit_type__name",
            "credits__hours",
        )
    )
    for pk, activity_id, *values, code, name, hours in rows:
        session = by_session.get(pk)
        if session is None:
            session = by_session[pk] = dict(zip(SESSION_FIELDS, values, strict=True), credits=[])
            found[activity_id].append(session)
        if code is not None:
            session["credits"].append((vocabulary.credit_type_label(code, default=name), hours))
    return found


SESSION_FIELDS = ("start", "end", "time_zone", "online", "venue", "city", "state", "country", "track")


@dataclass(frozen=True)
class OfferedAssessment:
    kind: str  # "pre_test" | "post_test" | "evaluation"
    passing_score: int | None
    max_attempts: int | None  # None: unlimited (post-tests); a pre-test and an evaluation are taken once


def offered_assessments(activity_ids: list[int]) -> dict[int, dict[str, OfferedAssessment]]:
    """The pre-tests, post-tests and evaluations learners are offered in these activities, by activity and
    kind, in one query: those with at least one question, as ``assessments.services.requirements.offered``
    counts them (one with no questions yet is not offered and gates nothing). Every id is in the result,
    with ``{}`` for an activity that offers none.

    Read through the activity's ``assessments`` relation: the assessments app builds on this one, which
    does not import it.
    """
    found: dict[int, dict[str, OfferedAssessment]] = {pk: {} for pk in activity_ids}
    if not activity_ids:
        return found
    rows = (
        Activity.objects.filter(pk__in=activity_ids)
        .values_list("pk", "assessments__kind", "assessments__passing_score", "assessments__max_attempts")
        .annotate(questions=Count("assessments__questions"))
        .filter(questions__gt=0)
        .order_by()
    )
    for activity_id, kind, passing_score, max_attempts, _questions in rows:
        found[activity_id][kind] = OfferedAssessment(kind, passing_score, max_attempts)
    return found


@dataclass
class CatalogOverview:
    current: int
    providers: int
    starting_soon: list["ActivityCard"]
    formats: list[FacetValue]
    specialties: list[FacetValue]


def catalog_overview(*, soon: int = 6, popular: int = 8) -> CatalogOverview:
    """The home page's figures: current activities and providers, what starts soon, popular entry points."""
    now = timezone.now()
    index = catalog_index.get_index()
    current = index.search(
        filters={},
        keyword_ids=None,
        starts_after=None,
        starts_before=None,
        now=now,
        sort="start",
        offset=0,
        limit=0,
    )
    upcoming = index.search(
        filters={},
        keyword_ids=None,
        starts_after=now,
        starts_before=None,
        now=now,
        sort="start",
        offset=0,
        limit=soon,
        facets=False,
    )
    return CatalogOverview(
        current=current.total,
        providers=sum(1 for value in current.facets["provider"] if value.count),
        starting_soon=activity_cards(upcoming.ids),
        formats=current.facets["format"],
        specialties=current.facets["specialty"][:popular],
    )


def activities_for_display(queryset: QuerySet | None = None) -> QuerySet:
    """Published activities with everything an activity page shows, in a fixed number of queries."""
    queryset = Activity.objects.published() if queryset is None else queryset
    return queryset.select_related("provider").prefetch_related(
        Prefetch("credits", queryset=CreditDesignation.objects.select_related("credit_type")),
        Prefetch("moc", queryset=MocApproval.objects.order_by("board", "credit_type")),
        "specialties",
    )


def activity_for_page(*, slug: str) -> Activity:
    """A published activity by slug, with everything its page shows (its sessions and their credit hours too).
    Raises ``Activity.DoesNotExist``."""
    return (
        activities_for_display()
        .prefetch_related(
            Prefetch(
                "sessions",
                queryset=Session.objects.prefetch_related(
                    Prefetch("credits", queryset=SessionCredit.objects.select_related("credit_type"))
                ),
            )
        )
        .get(slug=slug)
    )
