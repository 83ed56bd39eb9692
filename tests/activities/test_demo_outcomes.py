"""``generate_demo_data --outcomes N``: generated learners take the pre-test, post-test and evaluation of the
seed's first activities, written in bulk, as the attempt service would have recorded them."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activities.models import Activity
from assessments.models import Answer, Assessment, Attempt, Question
from assessments.services.requirements import progress
from learners.models import Enrollment
from portal.models import User

pytestmark = pytest.mark.django_db


def generate(**options) -> str:
    out = StringIO()
    call_command("generate_demo_data", activities=5, seed=3, stdout=out, **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [User, Enrollment, Assessment, Question, Attempt, Answer]
    return {model.__name__: model.objects.count() for model in models}


def first_activity(n: int = 0) -> Activity:
    return Activity.objects.get(activity_link=f"https://cme.example.org/3/activities/{n}")


def test_the_default_path_adds_no_learners_or_attempts():
    generate()

    assert Activity.objects.count() == 5
    assert counts() == dict.fromkeys(["User", "Enrollment", "Assessment", "Question", "Attempt", "Answer"], 0)


def test_generated_learners_take_every_step_as_the_services_would_record_it():
    out = generate(outcomes=120)

    assert "120 learners' attempts in 1 activities of seed 3" in out
    activity = first_activity()
    tests = {a.kind: a for a in Assessment.objects.filter(activity=activity)}
    assert set(tests) == {"pre_test", "post_test", "evaluation"}
    post_test = tests["post_test"]
    assert (post_test.passing_score, post_test.max_attempts, post_test.questions.count()) == (70, 3, 10)
    assert list(tests["pre_test"].questions.values_list("key", flat=True)) == list(
        post_test.questions.values_list("key", flat=True)
    )
    assert not Assessment.objects.exclude(activity=activity).exists()  # only the first activity
    enrollments = Enrollment.objects.filter(activity=activity)
    assert enrollments.count() == 120
    assert set(enrollments.values_list("status", flat=True)) == {"enrolled"}  # they stop before the claim

    attempts = list(Attempt.objects.filter(assessment__activity=activity).select_related("assessment"))
    post = [a for a in attempts if a.assessment.kind == "post_test"]
    for attempt in post:
        assert attempt.passed == (attempt.score >= 70)
        assert attempt.scored == 10 and attempt.score == attempt.correct * 10
        assert attempt.version.assessment_id == attempt.assessment_id
    per_learner = Counter(a.enrollment_id for a in post)
    assert max(per_learner.values()) <= 3
    passed = {a.enrollment_id for a in post if a.passed}
    assert Counter(a.enrollment_id for a in post if a.passed).most_common(1)[0][1] == 1
    assert {a.enrollment_id for a in post if a.number > 1} - {
        a.enrollment_id for a in post if a.number == 1
    } == set()
    # Knowledge rises from the pre-test to the post-test.
    pre_scores = [a.score for a in attempts if a.assessment.kind == "pre_test"]
    first_post = [a.score for a in post if a.number == 1]
    assert sum(pre_scores) / len(pre_scores) + 15 < sum(first_post) / len(first_post)
    # Only learners who passed evaluate, and most of them do.
    evaluated = {a.enrollment_id for a in attempts if a.assessment.kind == "evaluation"}
    assert evaluated <= passed and len(evaluated) > 0.7 * len(passed)
    assert 0.3 * 120 < len(passed) < 120

    likert = Answer.objects.filter(attempt__assessment=tests["evaluation"], value__isnull=False)
    assert set(likert.values_list("value", flat=True)) <= {1, 2, 3, 4, 5}
    assert Answer.objects.filter(attempt__assessment=tests["evaluation"]).exclude(text="").exists()
    scored = Answer.objects.filter(attempt__assessment=post_test)
    assert scored.count() == 10 * len(post)
    assert scored.filter(correct=True).count() == sum(a.correct for a in post)

    # The requirements read them as the learner's progress.
    enrollment = Enrollment.objects.get(pk=next(iter(evaluated)))
    standing = progress(enrollment)
    assert standing.of("post_test").is_met and standing.of("evaluation").is_met
    assert standing.may_claim()


def test_a_repeat_does_nothing_and_another_count_replaces_those_learners_attempts():
    generate(outcomes=30, outcome_activities=2)
    first = counts()
    assert Enrollment.objects.filter(activity=first_activity(1)).count() == 30

    out = generate(outcomes=30, outcome_activities=2)

    assert counts() == first
    assert "0 attempts written" in out

    generate(outcomes=10, outcome_activities=2)

    assert Enrollment.objects.filter(activity=first_activity(0)).count() == 10
    assert Enrollment.objects.filter(activity=first_activity(1)).count() == 10
    assert User.objects.count() == 30  # learners are kept, not made twice
    assert Assessment.objects.count() == first["Assessment"]  # the tests are reused
    assert Attempt.objects.filter(
        enrollment__learner__email__endswith="@outcomes-3.example.invalid"
    ).count() == (Attempt.objects.count())


def test_its_queries_do_not_grow_with_the_learners():
    def queries(seed: int, learners: int) -> int:
        """Statements other than the bulk inserts, which each database splits in batches of its own size."""
        with CaptureQueriesContext(connection) as captured:
            call_command("generate_demo_data", activities=2, seed=seed, outcomes=learners, stdout=StringIO())
        return sum(1 for query in captured.captured_queries if not query["sql"].startswith("INSERT"))

    queries(4, 1)  # the first run looks up what later ones find cached (content types, credit types)
    assert queries(5, 20) == queries(6, 200)
    assert Enrollment.objects.count() == 221


@pytest.mark.parametrize(
    "options",
    [{"outcomes": -1}, {"outcomes": 5, "outcome_activities": 0}, {"outcomes": 5, "outcome_activities": 6}],
)
def test_bad_options_are_refused_naming_them(options):
    with pytest.raises(CommandError, match="--outcome"):
        generate(**options)

    assert not Attempt.objects.exists()
