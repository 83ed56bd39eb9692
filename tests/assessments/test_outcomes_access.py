"""Who sees outcomes and attempts: provider staff (editors and viewers) their own providers', accreditation
staff everyone's, nobody another provider's; and nothing on these pages writes."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Answer, Attempt
from learners import services
from tests.factories import make_assessment
from tests.helpers import attempt, page_text


@pytest.fixture(autouse=True)
def _fresh_fragments():
    """The report keeps its answer counts in the per-process ``fragments`` cache; each test starts cold."""
    caches["fragments"].clear()


@pytest.fixture
def attempt_a(activity_a, physician):
    post = make_assessment(activity_a, "post_test", questions=2)
    enrollment, _ = services.enroll(learner=physician, activity=activity_a)
    return attempt(enrollment, post, right=1)


@pytest.fixture
def attempt_b(activity_b, physician_b):
    post = make_assessment(activity_b, "post_test", questions=2)
    enrollment, _ = services.enroll(learner=physician_b, activity=activity_b)
    return attempt(enrollment, post, right=2)


def pages(activity) -> list[str]:
    export = reverse("admin:assessments_outcomes_csv", args=[activity.pk])
    return [reverse("admin:assessments_outcomes", args=[activity.pk]), export + "?table=funnel"]


@pytest.mark.parametrize("persona", ["staff_a", "viewer_a", "mixed_role", "staff_ab", "accreditor"])
def test_who_reads_provider_a_outcomes(client, request, persona, attempt_a, activity_a):
    client.force_login(request.getfixturevalue(persona))
    page, export = pages(activity_a)
    response = client.get(page)
    assert response.status_code == 200
    assert "Provider A activity" in page_text(response)
    assert client.get(export).status_code == 200


@pytest.mark.parametrize("persona", ["staff_b", "viewer_b"])
def test_the_other_provider_gets_a_404(client, request, persona, attempt_a, activity_a):
    client.force_login(request.getfixturevalue(persona))
    for path in pages(activity_a):
        assert client.get(path).status_code == 404
    assert client.get(reverse("admin:assessments_outcomes", args=[999999])).status_code == 404


def test_a_learner_is_sent_to_the_admin_login(client, physician, attempt_a, activity_a):
    client.force_login(physician)
    for path in pages(activity_a):
        response = client.get(path)
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


def test_mixed_role_reads_b_where_they_only_view_and_nothing_writes(
    client, mixed_role, attempt_b, activity_b
):
    client.force_login(mixed_role)
    page, export = pages(activity_b)
    assert client.get(page).status_code == 200
    assert client.get(export).status_code == 200
    before = (Attempt.objects.count(), Answer.objects.count())
    # The pages read only: a POST is refused, and the attempt admin has no door to write through.
    assert client.post(page, {"q": "x"}).status_code == 405
    change = reverse("admin:assessments_attempt_change", args=[attempt_b.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"score": "100"}).status_code == 403
    delete = reverse("admin:assessments_attempt_delete", args=[attempt_b.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:assessments_attempt_add")).status_code == 403
    changelist = reverse("admin:assessments_attempt_changelist")
    response = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [attempt_b.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    attempt_b.refresh_from_db()
    assert attempt_b.score == 100
    assert (Attempt.objects.count(), Answer.objects.count()) == before


def test_the_attempt_list_is_scoped(client, viewer_b, mixed_role, accreditor, attempt_a, attempt_b):
    changelist = reverse("admin:assessments_attempt_changelist")
    client.force_login(viewer_b)
    response = client.get(changelist)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [attempt_b]
    assert client.get(reverse("admin:assessments_attempt_change", args=[attempt_a.pk])).status_code == 404
    # The activity filter offers only the user's own activities.
    assert "Provider A activity" not in page_text(response)

    client.force_login(mixed_role)
    assert set(client.get(changelist).context["cl"].result_list) == {attempt_a, attempt_b}
    client.force_login(accreditor)
    assert set(client.get(changelist).context["cl"].result_list) == {attempt_a, attempt_b}


def test_the_attempt_page_shows_the_answers_as_given(client, viewer_a, attempt_a):
    client.force_login(viewer_a)
    response = client.get(reverse("admin:assessments_attempt_change", args=[attempt_a.pk]))
    assert response.status_code == 200
    text = page_text(response)
    assert "Ada Lovelace <learner-a@example.com>" in text
    # Question 1 answered right, question 2 wrongly (the first wrong choice), with the correct answer beside.
    assert "1 Question 1? Right answer 1 Right answer 1 Correct" in text
    assert "2 Question 2? Wrong A Right answer 2 Wrong" in text
    assert "The activity's outcomes" in text
    assert "Save" not in text  # read-only


def test_the_attempt_list_shows_its_columns_without_a_query_per_row(
    client, viewer_a, attempt_a, nurse, pharmacist
):
    client.force_login(viewer_a)
    changelist = reverse("admin:assessments_attempt_changelist")
    text = page_text(client.get(changelist))
    assert "Ada Lovelace <learner-a@example.com>" in text and "Post-test" in text and "50.00" in text
    with CaptureQueriesContext(connection) as one:
        client.get(changelist)
    for learner in (nurse, pharmacist):
        enrollment, _ = services.enroll(learner=learner, activity=attempt_a.enrollment.activity)
        attempt(enrollment, attempt_a.assessment, right=0)
    with CaptureQueriesContext(connection) as three:
        response = client.get(changelist)
    assert len(response.context["cl"].result_list) == 3
    assert len(three) == len(one), "\n".join(q["sql"][:200] for q in three.captured_queries)


def test_the_outcomes_page_links_to_the_activitys_attempts(
    client, accreditor, attempt_a, attempt_b, activity_a
):
    client.force_login(accreditor)
    response = client.get(reverse("admin:assessments_outcomes", args=[activity_a.pk]))
    attempts_url = response.context["attempts_url"]
    listed = client.get(attempts_url)
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [attempt_a]
