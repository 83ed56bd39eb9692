"""The catalog's date filters and the "not over yet" rule read an activity's sessions when it has any.

A series whose sessions run from January to June starts in March as far as a March search is concerned,
though its own start is in January; an activity without sessions keeps matching on its own dates. The
queryset (``CatalogFilter.qs``), the index (``catalog_search``), the JSON API and the HTML catalog agree.
"""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
import time_machine

from activities import catalog_index
from activities.catalog_index import _bits_from_positions, _SpanIndex
from activities.models import CatalogState, Session, SessionCredit
from tests.activities.test_catalog_pages import titles_for
from tests.activities.test_catalog_search import index_ids, oracle_ids
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
TODAY = dt.datetime(2026, 12, 1, 12, tzinfo=CHICAGO)
MARCH = {"starts_after": "2027-03-01", "starts_before": "2027-03-31"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def at(month: int, day: int, year: int = 2027) -> dt.datetime:
    return dt.datetime(year, month, day, 8, tzinfo=CHICAGO)


def activity(provider, title, start, end, sessions=()):
    made = ActivityFactory(provider=provider, title=title, start=start, end=end, format="in_person")
    for session_start in sessions:
        Session.objects.create(
            activity=made, start=session_start, end=session_start + dt.timedelta(hours=1), venue="Hall B"
        )
    return made


def both(params) -> list[int]:
    """The ids the index gives, after checking the queryset gives the same."""
    found = index_ids(params)
    assert found == oracle_ids(params), params
    return found


def api_titles(client, params) -> list[str]:
    response = client.get("/api/activities/", params)
    assert response.status_code == 200
    return [item["title"] for item in response.json()["results"]]


@pytest.fixture
def series(provider_a):
    """Grand rounds every other week, January to June; the activity's own start is the first session."""
    starts = [at(1, 5) + dt.timedelta(weeks=2 * n) for n in range(13)]
    return activity(provider_a, "Grand rounds", starts[0], starts[-1] + dt.timedelta(hours=1), starts)


def test_a_series_matches_a_range_one_of_its_sessions_starts_in(client, series):
    assert series.start.month == 1
    assert both(MARCH) == [series.pk]
    assert both({"starts_after": "2027-03-01"}) == [series.pk]
    assert both({"starts_before": "2027-01-05"}) == [series.pk]
    assert both({"starts_after": "2027-06-30"}) == []
    assert both({"starts_before": "2027-01-04"}) == []
    assert titles_for(client, **MARCH) == api_titles(client, MARCH) == ["Grand rounds"]


def test_the_same_session_must_start_after_and_before(provider_a):
    apart = activity(provider_a, "January and June", at(1, 10), at(6, 10), [at(1, 10), at(6, 10)])
    assert both({"starts_after": "2027-03-01"}) == [apart.pk]
    assert both({"starts_before": "2027-03-31"}) == [apart.pk]
    assert both(MARCH) == []  # one session is after March 1 and another before March 31, but none in March


def test_an_activity_whose_only_session_is_outside_the_range_does_not_match(client, provider_a):
    moved = activity(provider_a, "Moved to May", at(3, 15), at(5, 20), [at(5, 20)])
    enduring = activity(provider_a, "Enduring", at(3, 10), at(3, 10, 2028))  # no sessions: its own start
    assert both(MARCH) == [enduring.pk]
    assert moved.pk in both({"starts_after": "2027-05-20", "starts_before": "2027-05-20"})
    assert titles_for(client, **MARCH) == api_titles(client, MARCH) == ["Enduring"]


def test_an_activity_is_over_when_its_last_session_is(client, provider_a):
    continued = activity(provider_a, "Continued", at(1, 5, 2026), at(2, 1, 2026), [at(1, 5, 2026), at(2, 1)])
    finished = activity(provider_a, "Finished early", at(11, 1, 2026), at(6, 1), [at(11, 1, 2026)])
    plain = activity(provider_a, "Plain", at(11, 1, 2026), at(6, 1))
    assert set(both({})) == {continued.pk, plain.pk}
    assert set(both({"include_past": "1"})) == {continued.pk, finished.pk, plain.pk}
    assert sorted(titles_for(client)) == sorted(api_titles(client, {})) == ["Continued", "Plain"]


def test_sorting_stays_by_the_activitys_own_start(provider_a):
    later = activity(provider_a, "Starts in February", at(2, 1), at(2, 2))
    series = activity(provider_a, "Series", at(1, 5), at(4, 1), [at(3, 1), at(4, 1)])
    assert both({"sort": "start"}) == [series.pk, later.pk]
    assert both({"sort": "-start", **MARCH}) == [series.pk]


def test_editing_a_session_changes_the_token_and_the_index_sees_it(provider_a):
    series = activity(provider_a, "Series", at(1, 5), at(5, 1), [at(1, 5)])
    token = CatalogState.objects.get().token
    assert both(MARCH) == []
    session = series.sessions.get()
    session.start, session.end = at(3, 2), at(3, 2) + dt.timedelta(hours=1)
    session.save()
    assert CatalogState.objects.get().token != token
    assert both(MARCH) == [series.pk]
    Session.objects.filter(pk=session.pk).delete()
    assert both(MARCH) == []  # no sessions left: its own January start


def test_session_and_session_credit_changes_change_the_token(provider_a):
    series = ActivityFactory(provider=provider_a, credits={"ama_pra_1": "2.00"})
    tokens = [CatalogState.objects.get().token]

    def changed():
        tokens.append(CatalogState.objects.get().token)
        return tokens[-1] != tokens[-2]

    session = Session.objects.create(
        activity=series, start=series.start, end=series.start + dt.timedelta(hours=1), online=True
    )
    assert changed()
    Session.objects.filter(pk=session.pk).update(track="B")
    assert changed()
    credit = SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours="1.00")
    assert changed()
    SessionCredit.objects.filter(pk=credit.pk).update(hours="2.00")
    assert changed()
    SessionCredit.objects.filter(pk=credit.pk).delete()
    assert changed()
    Session.objects.filter(pk=session.pk).delete()
    assert changed()
    assert catalog_index.get_index().token == tokens[-1]


def test_span_index_matches_brute_force_across_blocks():
    rng = random.Random(3)
    size = 9000
    pairs = [(float(rng.randint(0, 20000)), rng.randrange(size)) for _ in range(11000)]
    span = _SpanIndex(list(pairs), size // 8 + 1)
    assert len(span.levels) > 2
    for _ in range(300):
        low = rng.choice([None, float(rng.randint(-10, 20010))])
        high = rng.choice([None, float(rng.randint(-10, 20010))])
        expected = {p for k, p in pairs if (low is None or k >= low) and (high is None or k < high)}
        assert span.between(low, high) == _bits_from_positions(expected, size // 8 + 1), (low, high)
