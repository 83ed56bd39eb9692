"""A provider's year of activities by measured outcome: what each listing says it measures beside what its
assessments measured, the figures agreeing with each activity's outcomes page."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.assessments.outcomes_world import build
from tests.factories import ActivityFactory, make_assessment
from tests.helpers import page_text


@pytest.fixture(autouse=True)
def _fresh_fragments():
    """The report keeps its answer counts in the per-process ``fragments`` cache; each test starts cold."""
    caches["fragments"].clear()


PAGE = "admin:assessments_outcomes_annual"
CSV = "admin:assessments_outcomes_annual_csv"


@pytest.fixture
def year():
    return timezone.localdate().year


@pytest.fixture
def world(activity_a, physician, nurse, pharmacist, physician_b):
    activity_a.measured_outcomes = ["learner_knowledge", "learner_competence"]
    activity_a.save()
    return build(activity_a, physician=physician, nurse=nurse, pharmacist=pharmacist, physician_b=physician_b)


@pytest.fixture
def unmeasured(provider_a):
    """Claims to measure knowledge, but has only a post-test nobody took yet."""
    activity = ActivityFactory(
        provider=provider_a, title="Claims knowledge", measured_outcomes=["learner_knowledge"]
    )
    make_assessment(activity, "post_test")
    return activity


@pytest.fixture
def long_ago(provider_a):
    start = timezone.now() - timedelta(days=3 * 365)
    return ActivityFactory(
        provider=provider_a, title="Long over", start=start, end=start + timedelta(days=30)
    )


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_year_lists_activities_with_what_they_measured(
    client, viewer_a, world, unmeasured, long_ago, activity_b, year
):
    client.force_login(viewer_a)
    response = client.get(reverse(PAGE), {"year": year})
    assert response.status_code == 200
    report = response.context["report"]
    rows = {row.title: row for row in report.rows}
    assert set(rows) == {"Provider A activity", "Claims knowledge"}  # not B's, not one that ran years ago
    measured = rows["Provider A activity"]
    assert measured.measured == ["Knowledge change", "Post-test pass rate", "Evaluation responses"]
    assert (measured.matched, str(measured.pre_mean), str(measured.post_mean), str(measured.change)) == (
        2,
        "37.5",
        "87.5",
        "50.0",
    )
    assert (measured.enrolled, str(measured.pass_rate), measured.evaluated) == (4, "66.7", 2)
    assert rows["Claims knowledge"].measured == [] and not rows["Claims knowledge"].knowledge_measured
    summary = {item.code: (item.declared, item.measured) for item in report.summary}
    assert summary["learner_knowledge"] == (2, 1)
    assert summary["learner_competence"] == (1, 1)
    assert summary["patient_health"] == (0, 0)
    text = page_text(response)
    assert "Learner Knowledge, Learner/Team Competence" in text
    outcomes_url = reverse("admin:assessments_outcomes", args=[world.activity.pk])
    assert f'href="{outcomes_url}"' in response.content.decode()


def test_the_csv_matches_the_page_and_the_outcome_filter_narrows_both(
    client, viewer_a, world, unmeasured, year
):
    client.force_login(viewer_a)
    rows = rows_of(client.get(reverse(CSV), {"year": year}))
    assert rows[0][:3] == ["Year", "Provider", "Activity"]
    by_title = {row[2]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    measured = by_title["Provider A activity"]
    assert measured["Measured outcomes (listing)"] == "Learner Knowledge; Learner/Team Competence"
    assert measured["Measured by the assessments"] == (
        "Knowledge change; Post-test pass rate; Evaluation responses"
    )
    assert (measured["Pass rate (%)"], measured["Knowledge change (points)"]) == ("66.7", "50.0")
    assert by_title["Claims knowledge"]["Matched learners"] == "0"

    narrowed = rows_of(client.get(reverse(CSV), {"year": year, "outcome": "learner_competence"}))
    assert [row[2] for row in narrowed[1:]] == ["Provider A activity"]
    page = client.get(reverse(PAGE), {"year": year, "outcome": "learner_competence"})
    assert [row.title for row in page.context["report"].rows] == ["Provider A activity"]


@pytest.mark.parametrize("persona", ["staff_b", "viewer_b"])
def test_another_providers_year_is_a_404(client, request, persona, world, provider_a, year):
    client.force_login(request.getfixturevalue(persona))
    for name in (PAGE, CSV):
        assert client.get(reverse(name), {"provider": provider_a.pk, "year": year}).status_code == 404
    # Without a provider, their own: never A's activities.
    response = client.get(reverse(PAGE), {"year": year})
    assert "Provider A activity" not in page_text(response)


def test_mixed_role_and_accreditor_choose_between_providers(
    client, mixed_role, accreditor, world, activity_b, provider_b, year
):
    for user in (mixed_role, accreditor):
        client.force_login(user)
        response = client.get(reverse(PAGE), {"provider": provider_b.pk, "year": year})
        assert response.status_code == 200
        assert [row.title for row in response.context["report"].rows] == ["Provider B activity"]
        assert 'id="id_provider"' in response.content.decode()
    assert client.post(reverse(PAGE), {"provider": provider_b.pk}).status_code == 405


@pytest.mark.parametrize(
    "params", [{"year": "20x4"}, {"year": "1200"}, {"outcome": "nonsense"}, {"provider": "abc"}]
)
def test_bad_parameters_are_refused(client, viewer_a, world, params):
    client.force_login(viewer_a)
    expected = 404 if "provider" in params else 400
    for name in (PAGE, CSV):
        assert client.get(reverse(name), params).status_code == expected


def test_queries_do_not_grow_with_activities(
    client, viewer_a, provider_a, world, year, django_assert_num_queries
):
    client.force_login(viewer_a)
    client.get(reverse(PAGE), {"year": year})
    with CaptureQueriesContext(connection) as before:
        client.get(reverse(PAGE), {"year": year})
    for _n in range(3):
        activity = ActivityFactory(provider=provider_a, measured_outcomes=["learner_knowledge"])
        make_assessment(activity, "pre_test")
        make_assessment(activity, "post_test")
    with django_assert_num_queries(len(before)):
        response = client.get(reverse(PAGE), {"year": year})
    assert len(response.context["report"].rows) == 4
