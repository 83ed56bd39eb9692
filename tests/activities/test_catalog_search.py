"""Catalog search answers from the in-memory index exactly what the FilterSet's queryset says.

``CatalogFilter.qs`` states each filter's meaning as a database query; ``selectors.catalog_search`` answers
from the facet index. Over a varied catalog and many filter combinations, both must agree on the results,
their order and every facet count.
"""

import random
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from activities import catalog_index
from activities.filters import CatalogFilter
from activities.models import (
    Activity,
    CatalogState,
    CreditDesignation,
    MocApproval,
    Provider,
    Session,
    SessionCredit,
    Specialty,
)
from activities.selectors import FACET_PARAMS, PageOutOfRange, catalog_search
from activities.vocabulary import ACTIVITY_TYPE_CHOICES, FORMAT_CHOICES, MOC_CREDIT_TYPE_CHOICES
from tests.conftest import is_postgres
from tests.factories import ActivityFactory, ProviderFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db

TOPICS = ["intrathecal pump", "heart failure", "diabetes care", "sepsis bundle", "migraine prevention"]
BOARDS = ["ABIM", "ABA", "ABS", "ABPATH"]


@pytest.fixture
def catalog():
    """Forty-odd activities varied in every dimension a filter reads, plus drafts and ended ones; each has
    0 to 3 sessions at random times (before, within or after its own dates), which the date filters and
    the "not over yet" rule read instead of its own dates."""
    rng = random.Random(7)
    session_rng = random.Random(8)  # apart, so the activities stay what they were before sessions
    providers = [ProviderFactory(name=f"Provider {c}") for c in "XYZ"]
    specialties = [SpecialtyFactory(name=n) for n in ["Cardiology", "Neurology", "Pain Medicine", "Oncology"]]
    now = timezone.now()
    made = []
    for n in range(44):
        topic = rng.choice(TOPICS)
        start = now + timedelta(days=rng.randint(-400, 200), hours=rng.randint(0, 23))
        credits = {"ama_pra_1": rng.choice(["0.25", "1.00", "1.50", "3.00"])}
        for code in rng.sample(["nursing", "pharmacy", "ipce"], rng.randint(0, 2)):
            credits[code] = rng.choice(["1.00", "2.00"])
        moc = [
            (b, rng.choice(MOC_CREDIT_TYPE_CHOICES)[0], "1.00") for b in rng.sample(BOARDS, rng.randint(0, 2))
        ]
        fee_kind = rng.choice(["free", "variable", "fixed"])
        made.append(
            ActivityFactory(
                provider=rng.choice(providers),
                title=f"{topic.title()} update {n}",
                summary=f"A session on {topic} for the team, number {n}.",
                activity_type=rng.choice(ACTIVITY_TYPE_CHOICES)[0],
                format=rng.choice(FORMAT_CHOICES)[0],
                start=start,
                end=start + timedelta(days=rng.choice([0, 1, 30, 300])),
                fee_kind=fee_kind,
                fee_amount=Decimal("25.00") if fee_kind == "fixed" else None,
                status=Activity.Status.DRAFT if n % 11 == 5 else Activity.Status.PUBLISHED,
                credits=credits,
                moc=moc,
                specialties=rng.sample(specialties, rng.randint(1, 2)),
                sessions=[],
            )
        )
    sessions = []
    for activity in made:
        for _ in range(session_rng.choice([0, 0, 1, 1, 2, 3])):
            start = now + timedelta(days=session_rng.randint(-400, 200), hours=session_rng.randint(0, 23))
            sessions.append(
                Session(
                    activity=activity,
                    start=start,
                    end=start + timedelta(hours=session_rng.choice([1, 8, 30])),
                    online=True,
                )
            )
    Session.objects.bulk_create(sessions)
    return {"providers": providers, "specialties": specialties, "activities": made}


def oracle_ids(params: dict) -> list[int]:
    filterset = CatalogFilter(params)
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs.values_list("pk", flat=True))


def index_ids(params: dict) -> list[int]:
    filterset = CatalogFilter(params)
    assert filterset.is_valid(), filterset.errors
    return catalog_search(params=filterset.form.cleaned_data, page_size=100, load=lambda ids: ids).ids


def combinations(catalog, count: int, seed: int):
    rng = random.Random(seed)
    values = {
        "specialty": [s.slug for s in catalog["specialties"]],
        "activity_type": [code for code, _ in ACTIVITY_TYPE_CHOICES[:6]],
        "format": [code for code, _ in FORMAT_CHOICES],
        "credit_type": ["ama_pra_1", "nursing", "pharmacy", "ipce"],
        "moc_board": ["ABIM", "abpath", "ABS"],
        "moc_credit_type": [code for code, _ in MOC_CREDIT_TYPE_CHOICES],
        "free": ["true", "false"],
        "provider": [p.slug for p in catalog["providers"]],
        "q": ["heart", "diabet", "migraine prevention", "pump"],
    }
    for _ in range(count):
        params = {
            name: rng.choice(choices)
            for name, choices in rng.sample(sorted(values.items()), rng.randint(0, 3))
        }
        if rng.random() < 0.4:
            params["include_past"] = "1"
        if rng.random() < 0.5:
            bounds = rng.choice([["starts_after"], ["starts_before"], ["starts_after", "starts_before"]])
            first = timezone.localdate() + timedelta(days=rng.randint(-300, 100))
            for name in bounds:  # with both, a range of 0 to 120 days
                day = first + timedelta(days=rng.randint(0, 120)) if name == "starts_before" else first
                params[name] = day.isoformat()
        params["sort"] = rng.choice(["start", "-start", "credits"])
        yield params


def test_index_results_and_order_match_the_filterset(catalog):
    for params in combinations(catalog, 120, seed=1):
        assert index_ids(params) == oracle_ids(params), params


def test_title_sort_and_relevance_return_the_same_activities(catalog):
    for params in combinations(catalog, 40, seed=2):
        for sort in ("title", "relevance"):
            params = {**params, "sort": sort}
            assert sorted(index_ids(params)) == sorted(oracle_ids(params)), params
    titles = [Activity.objects.get(pk=pk).title for pk in index_ids({"sort": "title", "include_past": "1"})]
    assert titles == sorted(titles, key=str.casefold)


def test_every_facet_count_is_what_choosing_that_value_would_give(catalog):
    for params in combinations(catalog, 25, seed=3):
        filterset = CatalogFilter(params)
        assert filterset.is_valid()
        page = catalog_search(params=filterset.form.cleaned_data, load=lambda ids: ids)
        for facet in FACET_PARAMS:
            for value in page.facets[facet]:
                chosen = {**params, facet: value.value}
                assert value.count == len(oracle_ids(chosen)), (params, facet, value)


def test_total_and_deep_pages_walk_the_whole_result_in_order(catalog):
    params = {"include_past": "1", "sort": "-start"}
    expected = oracle_ids(params)
    seen, page = [], 1
    while True:
        try:
            result = catalog_search(params=_clean(params), page=page, page_size=7, load=lambda ids: ids)
        except PageOutOfRange:
            break
        assert result.total == len(expected)
        seen.extend(result.ids)
        page += 1
    assert seen == expected
    assert page == -(-len(expected) // 7) + 1


def _clean(params):
    filterset = CatalogFilter(params)
    assert filterset.is_valid()
    return filterset.form.cleaned_data


def test_drafts_and_ended_activities(catalog):
    drafts = {a.pk for a in catalog["activities"] if a.status == Activity.Status.DRAFT}
    now = timezone.now()
    ended = {
        a.pk
        for a in Activity.objects.prefetch_related("sessions")
        if max([s.end for s in a.sessions.all()] or [a.end]) < now
    }
    shown = set(index_ids({}))
    assert drafts and ended and not (shown & drafts) and not (shown & ended)
    everything = set(index_ids({"include_past": "1"}))
    assert ended - drafts <= everything and not (everything & drafts)


def test_prefix_of_the_last_word_and_every_word_must_match(catalog):
    ids = set(index_ids({"q": "intrath", "include_past": "1"}))
    assert ids and all("Intrathecal" in Activity.objects.get(pk=pk).title for pk in ids)
    both = set(index_ids({"q": "migraine prev", "include_past": "1"}))
    assert both and all("Migraine Prevention" in Activity.objects.get(pk=pk).title for pk in both)
    assert index_ids({"q": "migraine zzzunknown", "include_past": "1"}) == []


def test_keywords_without_words_do_not_filter(catalog):
    assert index_ids({"q": "!!! ---", "include_past": "1"}) == index_ids(
        {"include_past": "1", "sort": "-start"}
    )


def test_search_finds_provider_and_specialty_names(catalog):
    provider = catalog["providers"][0]
    by_provider = set(index_ids({"q": provider.name, "include_past": "1"}))
    assert by_provider == set(
        Activity.objects.published().filter(provider=provider).values_list("pk", flat=True)
    )
    by_specialty = set(index_ids({"q": "oncology", "include_past": "1"}))
    assert by_specialty == set(
        Activity.objects.published().filter(specialties__name="Oncology").values_list("pk", flat=True)
    )


def test_a_change_to_any_catalog_table_changes_the_token(activity_a):
    tokens = [CatalogState.objects.get().token]

    def changed():
        tokens.append(CatalogState.objects.get().token)
        return tokens[-1] != tokens[-2]

    Activity.objects.filter(pk=activity_a.pk).update(title="Renamed")
    assert changed()
    CreditDesignation.objects.create(activity=activity_a, credit_type_id="nursing", max_amount=1)
    assert changed()
    MocApproval.objects.create(activity=activity_a, board="ABIM", credit_type="medical_knowledge", points=1)
    assert changed()
    activity_a.specialties.add(SpecialtyFactory(name="Geriatrics"))
    assert changed()
    Provider.objects.filter(pk=activity_a.provider_id).update(name="Provider A renamed")
    assert changed()
    Specialty.objects.filter(name="Geriatrics").update(name="Geriatric Medicine")
    assert changed()
    MocApproval.objects.filter(activity=activity_a).delete()
    assert changed()
    session = Session.objects.create(
        activity=activity_a, start=activity_a.start, end=activity_a.end, online=True
    )
    assert changed()
    Session.objects.filter(pk=session.pk).update(track="B")
    assert changed()
    credit = SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours=1)
    assert changed()
    credit.delete()
    assert changed()
    session.delete()
    assert changed()


def test_the_index_follows_publishing_and_unpublishing(activity_a):
    assert activity_a.pk in index_ids({})
    Activity.objects.filter(pk=activity_a.pk).update(status=Activity.Status.DRAFT)
    assert activity_a.pk not in index_ids({})
    Activity.objects.filter(pk=activity_a.pk).update(status=Activity.Status.PUBLISHED)
    assert activity_a.pk in index_ids({})


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_stale_index_is_served_while_a_fresh_one_builds_in_the_background(settings, provider_a):
    settings.CATALOG_INDEX_SYNC = False
    catalog_index.reset()
    first = ActivityFactory(provider=provider_a, title="First")
    old = catalog_index.get_index()  # no index yet: built at once
    assert first.pk in old.ids
    second = ActivityFactory(provider=provider_a, title="Second")

    served = catalog_index.get_index()
    assert served is old  # answered at once from the previous index...
    for thread in threading.enumerate():
        if thread.name == "catalog-index":
            thread.join(30)
    fresh = catalog_index.get_index()  # ...and the next request sees the rebuilt one
    assert fresh is not old and second.pk in fresh.ids
    catalog_index.reset()


@pytest.mark.postgres
def test_keyword_search_uses_the_gin_index_and_ranks_title_matches_first(provider_a):
    title_match = ActivityFactory(provider=provider_a, title="Intrathecal pumps", summary="Devices.")
    summary_match = ActivityFactory(
        provider=provider_a, title="Pumps", summary="Intrathecal delivery in depth."
    )
    assert index_ids({"q": "intrathecal", "sort": "relevance"}) == [title_match.pk, summary_match.pk]


@pytest.mark.postgres
def test_the_catalogs_keyword_query_uses_the_gin_index():
    """At a realistic size (planner statistics gathered), the ranked keyword query runs on the GIN index."""
    from django.core.management import call_command

    from activities.search import ranked_matches

    call_command("generate_demo_data", activities=3000, seed=5, stdout=open("/dev/null", "w"))  # noqa: SIM115
    with connection.cursor() as cursor:  # what autovacuum does on a live database
        cursor.execute("SELECT gin_clean_pending_list('activity_search_gin'::regclass)")
        cursor.execute("ANALYZE activities_activity")
    plan = ranked_matches("intrath").explain()
    assert "activity_search_gin" in plan, plan


@pytest.mark.postgres
def test_search_documents_follow_renames_and_specialty_links(activity_a):
    def found(q):
        return activity_a.pk in index_ids({"q": q})

    assert not found("zygomatic")
    activity_a.title = "Zygomatic implants"
    activity_a.save()
    assert found("zygomatic")
    Provider.objects.filter(pk=activity_a.provider_id).update(name="Quokka Education")
    assert found("quokka")
    specialty = SpecialtyFactory(name="Xenotransplantation")
    activity_a.specialties.add(specialty)
    assert found("xenotransplant")
    Specialty.objects.filter(pk=specialty.pk).update(name="Yersinia Studies")
    assert found("yersinia") and not found("xenotransplant")
    activity_a.specialties.remove(specialty)
    assert not found("yersinia")


def test_sqlite_fallback_matches_substrings(activity_a):
    if is_postgres():
        pytest.skip("the substring fallback is what SQLite runs; PostgreSQL runs full-text search")
    Activity.objects.filter(pk=activity_a.pk).update(summary="Covers intrathecal baclofen.")
    assert activity_a.pk in index_ids({"q": "INTRATH"})
