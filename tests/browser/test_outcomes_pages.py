"""The outcomes pages in Chromium: a provider viewer opens an activity's outcomes, searches the free-text
answers, opens an attempt and the year's view; axe-core finds no serious or critical violation on any of
them. The hand-counted world of ``tests/assessments/outcomes_world.py`` supplies the figures."""

import pytest
from django.test import Client
from django.urls import reverse

from assessments.models import Attempt
from tests.assessments.outcomes_world import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world(activity_a, physician, nurse, pharmacist, physician_b, viewer_a):
    """The world and the viewer's session, made before the browser starts (no query runs beside it)."""
    made = build(activity_a, physician=physician, nurse=nurse, pharmacist=pharmacist, physician_b=physician_b)
    client = Client()
    client.force_login(viewer_a)
    post_attempt = Attempt.objects.filter(assessment=made.post).order_by("pk").first()
    return {
        "activity": made.activity,
        "session": client.cookies["sessionid"].value,
        "attempt": post_attempt.pk,
    }


def test_a_viewer_reads_the_outcomes_pages(world, page, live_server, assert_accessible):
    page.context.add_cookies([{"name": "sessionid", "value": world["session"], "url": live_server.url}])
    activity = world["activity"]

    page.goto(reverse("admin:assessments_outcomes", args=[activity.pk]))
    assert page.locator('[data-step="post_test_passed"] [data-figure="learners"]').inner_text() == "2"
    assert page.locator('#knowledge-totals [data-figure="change"]').inner_text() == "+50.0 points"
    assert page.locator("svg#knowledge-chart").get_attribute("aria-label").startswith("Share correct")
    assert_accessible(page, "the outcomes page")

    page.get_by_label("Search the answers").fill("lunch")
    page.get_by_role("button", name="Search").click()
    assert page.locator("#free-text-table tbody tr").count() == 1
    assert "Too long for a lunch break." in page.locator("#free-text-table").inner_text()
    assert_accessible(page, "the outcomes page, searched")

    page.locator("#free-text-table a").first.click()
    assert "What will you change?" in page.locator(".attempt-answers").inner_text()
    assert_accessible(page, "an evaluation attempt")
    page.goto(reverse("admin:assessments_attempt_change", args=[world["attempt"]]))
    assert "Right answer 1" in page.locator(".attempt-answers").inner_text()
    assert_accessible(page, "a post-test attempt")
    page.goto(reverse("admin:assessments_attempt_changelist"))
    assert_accessible(page, "the attempts list")

    page.goto(reverse("admin:assessments_outcomes_annual"))
    row = page.locator(f'[data-activity="{activity.pk}"]')
    assert row.locator('[data-figure="change"]').inner_text() == "+50.0"
    assert_accessible(page, "the annual outcomes view")
    row.get_by_role("link", name=activity.title).click()
    assert page.url.endswith(reverse("admin:assessments_outcomes", args=[activity.pk]))
