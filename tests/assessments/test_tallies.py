"""The outcomes report's running counts, kept as each attempt is recorded, always equal a recount from the
answers: for any learners taking the pre-test or not, failing, retrying and passing the post-test in any
order, and evaluating."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.models import AnswerTally, KnowledgeTally
from assessments.selectors.outcomes import activity_outcomes
from assessments.services import tallies
from learners import services
from tests.factories import ActivityFactory, UserFactory, make_assessment
from tests.helpers import attempt, make_learner

pytestmark = pytest.mark.django_db


def counts(activity):
    answer_rows = sorted(
        AnswerTally.objects.filter(assessment__activity=activity, answers__gt=0).values_list(
            "assessment_id", "question_pk", "choices", "value", "answers", "right"
        )
    )
    knowledge_rows = sorted(
        KnowledgeTally.objects.filter(post_test__activity=activity)
        .exclude(answers=0, right=0)
        .values_list("side", "question_key", "answers", "right")
    )
    return answer_rows, knowledge_rows


# A learner's journey: whether they take the pre-test (and how many right of 4), then their post-test
# attempts (right answers each; the service stops them after a pass or the third attempt), and whether
# they evaluate.
journeys = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 4)),
        st.lists(st.integers(0, 4), max_size=4),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=journeys, interleave=st.randoms(use_true_random=False))
def test_running_counts_equal_a_recount(plan, interleave, django_db_blocker):
    with django_db_blocker.unblock():
        activity = ActivityFactory()
        pre_test = make_assessment(activity, "pre_test")
        post_test = make_assessment(activity, "post_test", max_attempts=3)
        evaluation = make_assessment(activity, "evaluation", questions=2)
        steps = []
        for pre, posts, evaluates in plan:
            enrollment, _ = services.enroll(learner=make_learner(UserFactory()), activity=activity)
            own = ([(pre_test, pre)] if pre is not None else []) + [(post_test, right) for right in posts]
            steps.append(
                [(enrollment, test, right) for test, right in own]
                + ([(enrollment, evaluation, None)] if evaluates else [])
            )
        # Learners' steps interleave, each learner's in their own order.
        while any(steps):
            queue = interleave.choice([s for s in steps if s])
            enrollment, test, right = queue.pop(0)
            done = test.attempts.filter(enrollment=enrollment)
            if test is post_test and (done.filter(passed=True).exists() or done.count() >= 3):
                continue
            attempt(enrollment, test, right=right)
        kept = counts(activity)
        report = activity_outcomes(activity=activity)
        tallies.rebuild(activity)
        assert counts(activity) == kept
        assert activity_outcomes(activity=activity) == report


def test_the_matched_learners_counts_follow_their_best_post_test(physician, provider_a):
    activity = ActivityFactory(provider=provider_a)
    pre_test = make_assessment(activity, "pre_test")
    post_test = make_assessment(activity, "post_test", passing_score=100, max_attempts=None)
    enrollment, _ = services.enroll(learner=physician, activity=activity)
    attempt(enrollment, pre_test, right=1)
    attempt(enrollment, post_test, right=2)
    attempt(enrollment, post_test, right=1)  # not better: the best stays the first
    knowledge = activity_outcomes(activity=activity).knowledge
    assert (knowledge.pre_mean, knowledge.post_mean) == (Decimal("25.00"), Decimal("50.00"))
    assert [q.post_correct for q in knowledge.questions] == [1, 1, 0, 0]
    attempt(enrollment, post_test, right=3)
    knowledge = activity_outcomes(activity=activity).knowledge
    assert knowledge.post_mean == Decimal("75.00")
    assert [q.pre_correct for q in knowledge.questions] == [1, 0, 0, 0]
    assert [q.post_correct for q in knowledge.questions] == [1, 1, 1, 0]


def test_a_learner_without_the_pre_test_is_not_matched(physician, provider_a):
    activity = ActivityFactory(provider=provider_a)
    make_assessment(activity, "pre_test")
    post_test = make_assessment(activity, "post_test")
    enrollment, _ = services.enroll(learner=physician, activity=activity)
    attempt(enrollment, post_test)
    assert not KnowledgeTally.objects.exists()
    assert activity_outcomes(activity=activity).knowledge.matched == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_learners_submitting_at_once_are_all_counted(provider_a):
    import threading

    from django.db import connection

    activity = ActivityFactory(provider=provider_a)
    pre_test = make_assessment(activity, "pre_test")
    post_test = make_assessment(activity, "post_test", max_attempts=None)
    enrollments = []
    for _ in range(8):
        enrollment, _ = services.enroll(learner=make_learner(UserFactory()), activity=activity)
        attempt(enrollment, pre_test, right=1)
        enrollments.append(enrollment)
    barrier = threading.Barrier(len(enrollments))
    unexpected = []

    def run(enrollment, right):
        try:
            barrier.wait()
            attempt(enrollment, post_test, right=right)
        except Exception as exc:  # a deadlock or a lost update's integrity error would land here
            unexpected.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(e, n % 5)) for n, e in enumerate(enrollments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    kept = counts(activity)
    assert sum(row[4] for row in kept[0] if row[0] == post_test.pk) == 8 * 4
    tallies.rebuild(activity)
    assert counts(activity) == kept
