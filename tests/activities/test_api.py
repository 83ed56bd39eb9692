"""The read-only JSON API: one activity's shape as DESIGN.md specifies it, the list's pages and filters,
and the 400s and 404s a client gets for bad input."""

import random
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.filters import start_of
from activities.listing import parse_listing
from activities.models import Activity
from activities.services import import_listing
from tests.factories import ActivityFactory, ProviderFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/activities/"
DETAIL_KEYS = {
    "slug", "title", "summary", "url", "activity_link", "provider", "activity_type", "format", "start", "end",
    "fee", "registration", "providership", "commercial_support", "measured_outcomes", "specialties",
    "credits", "moc", "assessments", "sessions",
}  # fmt: skip


def detail_url(slug: str) -> str:
    return f"/api/activities/{slug}/"


def listed(client, **params) -> list[str]:
    """Slugs of every activity the list returns for ``params``, in order (one page is enough here)."""
    response = client.get(LIST_URL, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return [item["slug"] for item in body["results"]]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --- One activity -------------------------------------------------------------------------------------


@pytest.fixture
def seed(seed_text) -> Activity:
    import_listing(listing=parse_listing(seed_text))
    return Activity.objects.get()


def test_the_seed_activity_reads_exactly_as_its_listing_says(client, seed, seed_text):
    response = client.get(detail_url(seed.slug))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == DETAIL_KEYS
    summary = seed_text.decode("utf-8").split("\n- Provider:")[0].strip()
    assert data == {
        "slug": seed.slug,
        "title": "Chronic pain is a complex condition characterized by changes in the nervous system",
        "summary": summary,
        "url": f"http://testserver/activities/{seed.slug}/",
        "activity_link": "https://www.statpearls.com/ArticleLibrary/viewarticle/23719",
        "provider": {"name": "StatPearls, LLC", "slug": "statpearls-llc"},
        "activity_type": "enduring",
        "format": "online",
        "start": "2023-09-01T05:00:00Z",
        "end": "2026-09-01T05:00:00Z",  # an enduring material: three years after release
        "fee": {"kind": "variable", "amount": None},
        "registration": "Open to all",
        "providership": "direct",
        "commercial_support": False,
        "measured_outcomes": ["Learner Knowledge", "Learner/Team Competence"],
        "specialties": [
            "All Practice Areas (e.g. ethics)",
            "General Surgery",
            "Pain Medicine",
            "Surgery of the Spine",
        ],
        "credits": [
            {"type": "AMA PRA Category 1 Credit™", "amount": "1.50"},
            {"type": "IPCE Credit", "amount": "1.50"},
            {"type": "ANCC Nursing Contact Hours", "amount": "1.50"},
            {"type": "ACPE Pharmacy Contact Hours", "amount": "1.50"},
        ],
        "moc": [
            {"board": "ABA", "credit_type": "Lifelong Learning", "points": "1.50"},
            {"board": "ABOS", "credit_type": "Accredited CME", "points": "1.50"},
            {"board": "ABPath", "credit_type": "Lifelong Learning", "points": "1.50"},
            {"board": "ABS", "credit_type": "Accredited CME", "points": "1.50"},
            {"board": "ABS", "credit_type": "Self-Assessment", "points": "1.50"},
        ],
        "assessments": {"pre_test": False, "post_test": None, "evaluation": False},
        "sessions": [],  # an enduring material has none
    }
    assert "™" in response.content.decode("utf-8")  # sent as UTF-8, not as \u escapes


def test_the_seed_is_listed_only_when_past_activities_are_included(client, seed):
    assert listed(client) == []
    body = client.get(LIST_URL, {"include_past": "1"}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert body["results"] == [client.get(detail_url(seed.slug)).json()]


def test_fixed_fee_amount_utc_dates_and_the_remaining_fields(client):
    eastern = ZoneInfo("America/New_York")
    activity = ActivityFactory(
        title="Sepsis in the emergency department",
        activity_type="course",
        format="in_person",
        start=datetime(2027, 3, 1, 9, 30, tzinfo=eastern),
        end=datetime(2027, 3, 2, 17, 0, tzinfo=eastern),
        fee_kind=Activity.Fee.FIXED,
        fee_amount=Decimal("25"),
        registration=Activity.Registration.LIMITED,
        providership=Activity.Providership.JOINT,
        joint_provider="County Hospital",
        commercial_support=True,
        measured_outcomes=["patient_health"],
        credits={"ama_pra_1": "2.5", "nursing": "0.75"},
        moc=[("ABIM", "medical_knowledge", "2")],
        specialties=[SpecialtyFactory(name="Emergency Medicine")],
    )

    data = client.get(detail_url(activity.slug)).json()

    assert data["fee"] == {"kind": "fixed", "amount": "25.00"}
    assert (data["start"], data["end"]) == ("2027-03-01T14:30:00Z", "2027-03-02T22:00:00Z")
    assert (data["activity_type"], data["format"]) == ("course", "in_person")
    assert data["registration"] == "Limited"
    assert data["providership"] == "joint"
    assert data["commercial_support"] is True
    assert data["measured_outcomes"] == ["Patient Health"]
    assert data["specialties"] == ["Emergency Medicine"]
    assert data["credits"] == [
        {"type": "AMA PRA Category 1 Credit™", "amount": "2.50"},
        {"type": "ANCC Nursing Contact Hours", "amount": "0.75"},
    ]
    assert data["moc"] == [{"board": "ABIM", "credit_type": "Medical Knowledge", "points": "2.00"}]


def test_a_free_activity_has_no_fee_amount_and_a_registration_note_wins_over_the_code(client):
    activity = ActivityFactory(fee_kind=Activity.Fee.FREE, registration_text="Members of the society only")
    data = client.get(detail_url(activity.slug)).json()
    assert data["fee"] == {"kind": "free", "amount": None}
    assert data["registration"] == "Members of the society only"


def test_a_draft_or_an_unknown_slug_is_a_json_404(client):
    draft = ActivityFactory(status=Activity.Status.DRAFT)
    for url in (detail_url(draft.slug), detail_url("no-such-activity")):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()


def test_the_api_is_read_only(client, seed):
    assert client.post(LIST_URL).status_code == 405
    assert client.delete(detail_url(seed.slug)).status_code == 405


# --- The list: filters ----------------------------------------------------------------------------------


@pytest.fixture
def catalog():
    """Five current activities where each filter value picks a known subset, plus a past one and a draft
    that match almost every filter.

    ``day`` is a date 60 days ahead: ``sepsis`` starts at its first minute, ``migraine`` at its last,
    ``renal`` at the first minute of the next day; ``heart`` and ``stroke`` started weeks ago.
    """
    now = timezone.now()
    day = (now + timedelta(days=60)).date()
    northwind = ProviderFactory(name="Northwind Medical")
    lakeside = ProviderFactory(name="Lakeside CME")
    cardiology = SpecialtyFactory(name="Cardiology")
    neurology = SpecialtyFactory(name="Neurology")
    made = {
        "sepsis": ActivityFactory(
            title="Sepsis bundle update",
            provider=northwind,
            activity_type="course",
            format="in_person",
            start=start_of(day),
            end=start_of(day) + timedelta(hours=8),
            fee_kind=Activity.Fee.FREE,
            credits={"ama_pra_1": "2.00"},
            moc=[("ABIM", "medical_knowledge", "2")],
            specialties=[cardiology],
        ),
        "heart": ActivityFactory(
            title="Heart failure review",
            provider=northwind,
            activity_type="internet_enduring",
            format="online",
            start=now - timedelta(days=30),
            fee_kind=Activity.Fee.FIXED,
            fee_amount=Decimal("25.00"),
            credits={"nursing": "1.00"},
            moc=[("ABPATH", "lifelong_learning", "1")],
            specialties=[cardiology, neurology],
        ),
        "migraine": ActivityFactory(
            title="Migraine prevention",
            provider=lakeside,
            activity_type="internet_live",
            format="live_online",
            start=start_of(day) + timedelta(hours=23, minutes=59),
            end=start_of(day) + timedelta(days=1, hours=1),
            fee_kind=Activity.Fee.VARIABLE,
            credits={"ama_pra_1": "1.00", "pharmacy": "1.00"},
            specialties=[neurology],
        ),
        "stroke": ActivityFactory(
            title="Stroke systems",
            provider=lakeside,
            activity_type="enduring",
            format="online",
            start=now - timedelta(days=60),
            fee_kind=Activity.Fee.FREE,
            credits={"ipce": "0.50"},
            moc=[("ABA", "patient_safety", "0.5")],
        ),
        "renal": ActivityFactory(
            title="Renal update",
            provider=lakeside,
            activity_type="other_blended",
            format="blended",
            start=start_of(day + timedelta(days=1)),
            fee_kind=Activity.Fee.VARIABLE,
            credits={},
        ),
        "past": ActivityFactory(
            title="Old sepsis lecture",
            provider=northwind,
            activity_type="course",
            format="in_person",
            start=now - timedelta(days=400),
            end=now - timedelta(days=399),
            fee_kind=Activity.Fee.FREE,
            credits={"ama_pra_1": "1.00"},
            moc=[("ABIM", "medical_knowledge", "1")],
            specialties=[cardiology],
        ),
        "draft": ActivityFactory(
            title="Draft sepsis course",
            provider=northwind,
            status=Activity.Status.DRAFT,
            activity_type="course",
            format="in_person",
            start=start_of(day),
            end=start_of(day) + timedelta(hours=8),
            fee_kind=Activity.Fee.FREE,
            credits={"ama_pra_1": "2.00"},
            moc=[("ABPATH", "lifelong_learning", "1")],
            specialties=[cardiology, neurology],
        ),
    }
    return {"day": day, "slugs": {key: activity.slug for key, activity in made.items()}}


def pick(catalog, *keys) -> set[str]:
    return {catalog["slugs"][key] for key in keys}


CURRENT = ("sepsis", "heart", "migraine", "stroke", "renal")


def test_the_default_list_is_every_current_published_activity_newest_first(client, catalog):
    assert listed(client) == [catalog["slugs"][k] for k in ("renal", "migraine", "sepsis", "heart", "stroke")]


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_past_activities_are_listed_only_when_asked_for(client, catalog, value):
    assert set(listed(client, include_past=value)) == pick(catalog, *CURRENT, "past")


@pytest.mark.parametrize("value", ["false", "0"])
def test_include_past_false_hides_them(client, catalog, value):
    assert set(listed(client, include_past=value)) == pick(catalog, *CURRENT)


def test_drafts_never_appear(client, catalog):
    draft = catalog["slugs"]["draft"]
    for params, beside in (
        ({}, "sepsis"),
        ({"include_past": "1"}, "past"),
        ({"q": "sepsis", "include_past": "1"}, "sepsis"),
        ({"moc_board": "ABPATH"}, "heart"),
    ):
        found = listed(client, **params)
        assert catalog["slugs"][beside] in found, params  # the published activity the draft matches with
        assert draft not in found, params


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "sepsis"}, ["sepsis"]),
        ({"q": "sepsis", "include_past": "1"}, ["sepsis", "past"]),
        ({"q": "northwind"}, ["sepsis", "heart"]),  # provider names are searched too
        ({"q": "neurology"}, ["heart", "migraine"]),  # and specialty names
        ({"specialty": "cardiology"}, ["sepsis", "heart"]),
        ({"specialty": "neurology"}, ["heart", "migraine"]),
        ({"activity_type": "course"}, ["sepsis"]),
        ({"activity_type": "internet_live"}, ["migraine"]),
        ({"format": "online"}, ["heart", "stroke"]),
        ({"format": "blended"}, ["renal"]),
        ({"credit_type": "ama_pra_1"}, ["sepsis", "migraine"]),
        ({"credit_type": "nursing"}, ["heart"]),
        ({"moc_board": "ABIM"}, ["sepsis"]),
        ({"moc_board": "ABPath"}, ["heart"]),
        ({"moc_board": "ABPATH"}, ["heart"]),
        ({"moc_board": "abpath"}, ["heart"]),
        ({"moc_credit_type": "patient_safety"}, ["stroke"]),
        ({"moc_credit_type": "medical_knowledge", "include_past": "1"}, ["sepsis", "past"]),
        ({"free": "true"}, ["sepsis", "stroke"]),
        ({"free": "1"}, ["sepsis", "stroke"]),
        ({"free": "false"}, ["heart", "migraine", "renal"]),
        ({"free": "0"}, ["heart", "migraine", "renal"]),
        ({"provider": "lakeside-cme"}, ["migraine", "stroke", "renal"]),
        ({"provider": "northwind-medical", "include_past": "1"}, ["sepsis", "heart", "past"]),
        ({"provider": "lakeside-cme", "free": "false", "format": "live_online"}, ["migraine"]),
    ],
)
def test_each_filter_narrows_to_exactly_the_matching_activities(client, catalog, params, expected):
    assert set(listed(client, **params)) == pick(catalog, *expected)


def test_start_date_bounds_are_inclusive_whole_days(client, catalog):
    day = catalog["day"]

    def between(**bounds):
        return set(listed(client, **{key: value.isoformat() for key, value in bounds.items()}))

    assert between(starts_after=day) == pick(catalog, "sepsis", "migraine", "renal")
    assert between(starts_after=day + timedelta(days=1)) == pick(catalog, "renal")
    assert between(starts_before=day) == pick(catalog, "sepsis", "migraine", "heart", "stroke")
    assert between(starts_before=day - timedelta(days=1)) == pick(catalog, "heart", "stroke")
    assert between(starts_after=day, starts_before=day) == pick(catalog, "sepsis", "migraine")


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("start", ["stroke", "heart", "sepsis", "migraine", "renal"]),
        ("-start", ["renal", "migraine", "sepsis", "heart", "stroke"]),
        ("title", ["heart", "migraine", "renal", "sepsis", "stroke"]),
        ("credits", ["sepsis", "heart", "migraine", "stroke", "renal"]),  # ties: earlier start first
    ],
)
def test_sort(client, catalog, sort, order):
    assert listed(client, sort=sort) == [catalog["slugs"][key] for key in order]


# --- The list: pages ------------------------------------------------------------------------------------


def test_pages_link_to_each_other_with_absolute_urls_keeping_the_other_parameters(client, catalog):
    params = {"sort": "title", "provider": "", "page_size": "2"}
    first = client.get(LIST_URL, params).json()

    assert first["count"] == 5
    assert first["previous"] is None
    assert urlsplit(first["next"])[:3] == ("http", "testserver", LIST_URL)
    assert query_of(first["next"]) == {"sort": ["title"], "page_size": ["2"], "page": ["2"]}

    second = client.get(first["next"]).json()
    assert query_of(second["next"]) == {"sort": ["title"], "page_size": ["2"], "page": ["3"]}
    assert urlsplit(second["previous"])[:3] == ("http", "testserver", LIST_URL)
    assert query_of(second["previous"]) == {"sort": ["title"], "page_size": ["2"]}  # page 1

    third = client.get(second["next"]).json()
    assert third["next"] is None
    assert query_of(third["previous"]) == {"sort": ["title"], "page_size": ["2"], "page": ["2"]}
    assert client.get(third["previous"]).json() == second
    assert client.get(second["previous"]).json() == first

    walked = [item["slug"] for page in (first, second, third) for item in page["results"]]
    assert [len(page["results"]) for page in (first, second, third)] == [2, 2, 1]
    assert walked == listed(client, sort="title")


def test_one_page_of_everything_has_no_links(client, catalog):
    body = client.get(LIST_URL).json()
    assert (body["count"], body["next"], body["previous"]) == (5, None, None)
    assert len(body["results"]) == 5


def test_a_page_past_the_end_is_a_json_404(client, catalog):
    assert client.get(LIST_URL, {"page_size": 2, "page": 3}).status_code == 200
    for params in ({"page_size": 2, "page": 4}, {"q": "nothing-matches-this", "page": 2}):
        response = client.get(LIST_URL, params)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()


def test_an_empty_first_page_is_not_an_error(client, catalog):
    body = client.get(LIST_URL, {"q": "nothing-matches-this"}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


# --- Bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("free", "maybe"),
        ("include_past", "yes"),
        ("moc_board", "XYZ"),
        ("moc_credit_type", "charisma"),
        ("specialty", "no-such-slug"),
        ("provider", "no-such-provider"),
        ("credit_type", "no_such_credit"),
        ("activity_type", "nope"),
        ("format", "paper"),
        ("starts_after", "2025-13-01"),
        ("starts_before", "yesterday"),
        ("page", "0"),
        ("page", "abc"),
        ("page_size", "1000"),
        ("page_size", "0"),
        ("sort", "bogus"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter(client, catalog, name, value):
    response = client.get(LIST_URL, {name: value})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    errors = response.json()["errors"]
    assert set(errors) == {name}
    assert errors[name] and all(isinstance(message, str) and message for message in errors[name])


def test_every_bad_parameter_is_named_at_once(client, catalog):
    response = client.get(
        LIST_URL,
        {"free": "maybe", "moc_board": "XYZ", "specialty": "cardiology", "page": "abc", "sort": "bogus"},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"free", "moc_board", "page", "sort"}


# --- Cost -----------------------------------------------------------------------------------------------


@pytest.fixture
def fifty_activities():
    """Fifty current activities, each with its own mix of credits, MOC approvals and specialties."""
    rng = random.Random(11)
    providers = [ProviderFactory(name=f"Query Provider {n}") for n in range(3)]
    specialties = [SpecialtyFactory(name=f"Query Specialty {n}") for n in range(5)]
    boards = ["ABIM", "ABA", "ABS", "ABPATH"]
    for n in range(50):
        ActivityFactory(
            title=f"Counted activity {n}",
            provider=providers[n % 3],
            start=timezone.now() - timedelta(days=n),
            fee_kind=Activity.Fee.FIXED if n % 4 == 0 else Activity.Fee.FREE,
            fee_amount=Decimal("30.00") if n % 4 == 0 else None,
            measured_outcomes=["learner_knowledge"] if n % 2 else [],
            credits=dict.fromkeys(
                rng.sample(["ama_pra_1", "ipce", "nursing", "pharmacy"], rng.randint(1, 4)), "1.00"
            ),
            moc=[(board, "medical_knowledge", "1.00") for board in rng.sample(boards, rng.randint(0, 3))],
            specialties=rng.sample(specialties, rng.randint(0, 3)),
        )


def queries_for(client, url, params, *, results: int) -> int:
    caches["fragments"].clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == results
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_page(client, fifty_activities):
    client.get(LIST_URL)  # the first request after the writes rebuilds the catalog index
    small = queries_for(client, LIST_URL, {"page_size": 5}, results=5)
    large = queries_for(client, LIST_URL, {"page_size": 50}, results=50)
    assert small == large
