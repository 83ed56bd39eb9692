"""The admin leads to the assessments and their outcomes: the activity's page links its pre-test, post-test
and evaluation (or offers to add each), and its outcomes report; the admin home lists the yearly view."""

import pytest
from django.urls import reverse

from tests.factories import ActivityFactory, make_assessment
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


def test_the_activity_page_links_its_assessments_and_offers_the_missing_ones(as_staff_a, provider_a):
    activity = ActivityFactory(provider=provider_a)
    post_test = make_assessment(activity, "post_test", title="Sepsis post-test")
    page = as_staff_a.get(reverse("admin:activities_activity_change", args=[activity.pk]))
    html = page.content.decode()
    assert "Post-test: Sepsis post-test" in page_text(page)
    assert reverse("admin:assessments_assessment_change", args=[post_test.pk]) in html
    add = reverse("admin:assessments_assessment_add")
    assert f"{add}?provider={provider_a.pk}&amp;activity={activity.pk}&amp;kind=evaluation" in html
    assert f"{add}?provider={provider_a.pk}&amp;activity={activity.pk}&amp;kind=pre_test" in html
    assert reverse("admin:assessments_outcomes", args=[activity.pk]) in html


def test_the_add_link_starts_the_assessment_for_that_activity(as_staff_a, provider_a):
    activity = ActivityFactory(provider=provider_a)
    add = reverse("admin:assessments_assessment_add")
    page = as_staff_a.get(add, {"provider": provider_a.pk, "activity": activity.pk, "kind": "evaluation"})
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert (str(form["activity"].value()), form["kind"].value()) == (str(activity.pk), "evaluation")


def test_the_admin_home_lists_the_outcomes_by_year(as_staff_a, client):
    html = as_staff_a.get(reverse("admin:index")).content.decode()
    assert reverse("admin:assessments_outcomes_annual") in html
    assert "Outcomes by year" in html


def test_the_assessment_list_counts_questions_and_attempts_apart(as_staff_a, provider_a, physician):
    from learners import services
    from tests.helpers import attempt

    activity = ActivityFactory(provider=provider_a)
    post_test = make_assessment(activity, "post_test", questions=3, max_attempts=None)
    enrollment, _ = services.enroll(learner=physician, activity=activity)
    attempt(enrollment, post_test, right=0)
    attempt(enrollment, post_test, right=1)
    make_assessment(activity, "evaluation", questions=5)
    page = as_staff_a.get(reverse("admin:assessments_assessment_changelist"))
    rows = {
        result.kind: (result.question_total, result.attempt_total)
        for result in page.context["cl"].result_list
    }
    assert rows == {"post_test": (3, 2), "evaluation": (5, 0)}
