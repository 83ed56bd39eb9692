"""Fixtures of the learner's side of assessments: an activity with MOC, a physician enrolled in it, its
post-test and evaluation. Modules that need other ones define their own."""

import pytest

from learners import services
from tests.factories import ActivityFactory, make_assessment


@pytest.fixture
def activity(provider_a):
    return ActivityFactory(
        provider=provider_a,
        title="Sepsis bundles in the first hour",
        credits={"ama_pra_1": "1.50"},
        moc=[("ABIM", "medical_knowledge", "1.50")],
    )


@pytest.fixture
def enrollment(physician, activity):
    return services.enroll(learner=physician, activity=activity)[0]


@pytest.fixture
def post_test(activity):
    """Four single-choice questions, 70 % to pass (three right), two attempts."""
    return make_assessment(activity, "post_test", questions=4, passing_score=70, max_attempts=2)


@pytest.fixture
def evaluation(activity):
    """Three Likert items."""
    return make_assessment(activity, "evaluation", questions=3)
