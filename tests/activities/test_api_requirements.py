"""The JSON API states what an activity asks of learners besides itself: a pre-test, a post-test (its passing
score and attempts) and an evaluation, counting only what learners are offered (an assessment with at least
one question), in one query for the whole page."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Assessment
from tests.factories import ActivityFactory, ProviderFactory, make_assessment

pytestmark = pytest.mark.django_db

LIST_URL = "/api/activities/"
NOTHING = {"pre_test": False, "post_test": None, "evaluation": False}


def detail(client, activity) -> dict:
    response = client.get(f"/api/activities/{activity.slug}/")
    assert response.status_code == 200
    return response.json()["assessments"]


def test_an_activity_with_every_step_states_each(client):
    activity = ActivityFactory(title="Sepsis bundles")
    make_assessment(activity, "pre_test", questions=3)
    make_assessment(activity, "post_test", questions=5, passing_score=80, max_attempts=3)
    make_assessment(activity, "evaluation", questions=6)

    assert detail(client, activity) == {
        "pre_test": True,
        "post_test": {"passing_score": 80, "attempts_allowed": 3},
        "evaluation": True,
    }


def test_unlimited_attempts_read_as_null(client):
    activity = ActivityFactory()
    make_assessment(activity, "post_test", passing_score=70, max_attempts=None)

    assert detail(client, activity) == {
        "pre_test": False,
        "post_test": {"passing_score": 70, "attempts_allowed": None},
        "evaluation": False,
    }


def test_assessments_without_questions_are_not_offered_so_not_stated(client):
    activity = ActivityFactory()
    make_assessment(activity, "pre_test", questions=0)
    make_assessment(activity, "post_test", questions=0)
    make_assessment(activity, "evaluation", questions=0)
    assert Assessment.objects.filter(activity=activity).count() == 3

    assert detail(client, activity) == NOTHING


def test_library_templates_and_other_activities_assessments_do_not_count(client):
    provider = ProviderFactory(name="Template Provider")
    plain = ActivityFactory(provider=provider, title="Plain")
    other = ActivityFactory(provider=provider, title="Other")
    make_assessment(other, "post_test", passing_score=75)
    make_assessment(other, "evaluation")
    source = ActivityFactory(provider=provider, title="Source")
    template = make_assessment(source, "post_test", questions=2, title="Library post-test")
    Assessment.objects.filter(pk=template.pk).update(activity=None)

    assert detail(client, plain) == NOTHING
    assert detail(client, source) == NOTHING
    assert detail(client, other) == {
        "pre_test": False,
        "post_test": {"passing_score": 75, "attempts_allowed": 2},
        "evaluation": True,
    }


def test_the_list_states_them_per_activity_as_the_detail_does(client):
    with_both = ActivityFactory(title="With both", start=timezone.now() - timedelta(days=1))
    make_assessment(with_both, "post_test", passing_score=70, max_attempts=2)
    make_assessment(with_both, "evaluation")
    evaluation_only = ActivityFactory(title="Evaluation only", start=timezone.now() - timedelta(days=2))
    make_assessment(evaluation_only, "evaluation")
    empty_post_test = ActivityFactory(title="Empty post-test", start=timezone.now() - timedelta(days=3))
    make_assessment(empty_post_test, "post_test", questions=0)

    results = client.get(LIST_URL).json()["results"]

    assert {item["title"]: item["assessments"] for item in results} == {
        "With both": {
            "pre_test": False,
            "post_test": {"passing_score": 70, "attempts_allowed": 2},
            "evaluation": True,
        },
        "Evaluation only": {"pre_test": False, "post_test": None, "evaluation": True},
        "Empty post-test": NOTHING,
    }
    for activity in (with_both, evaluation_only, empty_post_test):
        assert detail(client, activity) == next(
            item["assessments"] for item in results if item["slug"] == activity.slug
        )


@pytest.fixture
def forty_assessed_activities():
    """Forty current activities, each with a post-test and an evaluation (questions in each)."""
    for n in range(40):
        activity = ActivityFactory(title=f"Assessed {n}", start=timezone.now() - timedelta(hours=n + 1))
        make_assessment(activity, "post_test", questions=2, max_attempts=None if n % 2 else 3)
        make_assessment(activity, "evaluation", questions=2)


def page_queries(client, page_size: int) -> list[str]:
    caches["fragments"].clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL, {"page_size": page_size})
    results = response.json()["results"]
    assert len(results) == page_size
    assert all(item["assessments"]["evaluation"] for item in results)
    assert {item["assessments"]["post_test"]["attempts_allowed"] for item in results} == {3, None}
    return [query["sql"] for query in queries.captured_queries]


def test_one_query_reads_the_assessments_of_the_whole_page(client, forty_assessed_activities):
    client.get(LIST_URL)  # the first request after the writes rebuilds the catalog index

    small, large = page_queries(client, 4), page_queries(client, 40)

    assert len(small) == len(large)
    assert sum("assessments_assessment" in sql for sql in large) == 1
