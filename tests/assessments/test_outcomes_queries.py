"""The outcomes report's query count does not grow with learners, attempts, answers or questions: the same
number of queries for a small activity and for one with three times the questions and learners."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.selectors.outcomes import activity_outcomes
from learners import services
from tests.assessments.outcomes_world import evaluate, make_evaluation
from tests.factories import ActivityFactory, UserFactory, make_assessment
from tests.helpers import attempt, make_learner


@pytest.fixture(autouse=True)
def _fresh_fragments():
    """The report keeps its answer counts in the per-process ``fragments`` cache; each test starts cold."""
    caches["fragments"].clear()


def activity_with(provider, *, questions: int, learners: int):
    activity = ActivityFactory(provider=provider)
    pre = make_assessment(activity, "pre_test", questions=questions)
    post = make_assessment(activity, "post_test", questions=questions, max_attempts=3)
    evaluation = make_evaluation(activity)
    for n in range(learners):
        learner = make_learner(UserFactory(), first_name=f"L{n}", last_name="Learner")
        enrollment, _ = services.enroll(learner=learner, activity=activity)
        attempt(enrollment, pre, right=n % (questions + 1))
        attempt(enrollment, post, right=0)
        attempt(enrollment, post, right=questions)
        evaluate(enrollment, evaluation, likert=1 + n % 5, choice="Yes", text=f"Comment {n}")
    return activity


@pytest.fixture
def small(provider_a):
    return activity_with(provider_a, questions=2, learners=2)


@pytest.fixture
def large(provider_a):
    return activity_with(provider_a, questions=6, learners=6)


def count(action) -> int:
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def test_the_report_takes_the_same_queries_at_both_sizes(small, large, django_assert_num_queries):
    queries = count(lambda: activity_outcomes(activity=small))
    assert queries == 7
    with django_assert_num_queries(queries):
        report = activity_outcomes(activity=large)
    assert report.knowledge.matched == 6 and len(report.questions) == 6
    # Seen again with no new attempt, the best attempts are not looked for again.
    with django_assert_num_queries(6):
        again = activity_outcomes(activity=large)
    assert again == report


def test_a_new_attempt_is_counted_at_once(large):
    before = activity_outcomes(activity=large)
    evaluation = large.assessments.get(kind="evaluation")
    learner = make_learner(UserFactory(), first_name="Late", last_name="Comer")
    late, _ = services.enroll(learner=learner, activity=large)
    evaluate(late, evaluation, likert=2, choice="No", text="Late comment")
    after = activity_outcomes(activity=large)
    assert after.evaluation_items[0].answered == before.evaluation_items[0].answered + 1
    assert after.evaluation_items[2].choices[1].picked == before.evaluation_items[2].choices[1].picked + 1


@pytest.mark.parametrize(
    "table", [None, "funnel", "scores", "questions", "knowledge", "evaluation", "free_text"]
)
def test_the_page_and_every_csv_take_the_same_queries_at_both_sizes(
    client, viewer_a, small, large, table, django_assert_num_queries
):
    client.force_login(viewer_a)

    def path(activity):
        if table is None:
            return reverse("admin:assessments_outcomes", args=[activity.pk])
        return reverse("admin:assessments_outcomes_csv", args=[activity.pk]) + f"?table={table}"

    client.get(path(small))  # the session and the user's memberships, as on any later page
    caches["fragments"].clear()
    queries = count(lambda: client.get(path(small)))
    with django_assert_num_queries(queries):
        response = client.get(path(large))
    assert response.status_code == 200
