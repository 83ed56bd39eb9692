"""Templates in the admin: starting from the starter evaluation or a library template, copying templates onto
an activity, a pre-test from a post-test; the preview; deleting and editing a test learners have taken."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from assessments import starter
from assessments.models import Assessment, AssessmentVersion, Attempt, Question
from learners import services
from portal.models import AuditEntry
from tests.assessments.test_admin_authoring import (
    ADD,
    LIST,
    change_url,
    preview_url,
    questions_data,
    settings_data,
    shape,
)
from tests.factories import ActivityFactory, make_assessment
from tests.helpers import attempt, messages_of, page_text

pytestmark = pytest.mark.django_db


def template_of(provider, kind="post_test", **kwargs):
    assessment = make_assessment(ActivityFactory(provider=provider), kind, **kwargs)
    Assessment.objects.filter(pk=assessment.pk).update(activity=None)
    assessment.refresh_from_db()
    return assessment


@pytest.fixture
def enrollment(physician, activity_a):
    enrollment, _ = services.enroll(learner=physician, activity=activity_a)
    return enrollment


# --- starting from a template ----------------------------------------------------------------------------------


def test_start_from_the_starter_evaluation(as_staff_a, staff_a, provider_a, activity_a):
    data = settings_data(provider_a, activity_a, start_from="starter", kind="", title="", passing_score="")
    response = as_staff_a.post(ADD, {**data, **questions_data([])})

    assert response.status_code == 302, page_text(response)
    evaluation = Assessment.objects.get()
    assert (evaluation.kind, evaluation.activity, evaluation.passing_score, evaluation.max_attempts) == (
        "evaluation",
        activity_a,
        None,
        None,
    )
    assert evaluation.title == str(starter.STARTER_EVALUATION.title)
    assert [str(k) for k in evaluation.questions.values_list("key", flat=True)] == [
        q.key for q in starter.STARTER_EVALUATION.questions
    ]
    entry = AuditEntry.objects.get(action="assessment.copied")
    assert (entry.actor, entry.object_id, entry.data["source"]) == (
        staff_a,
        str(evaluation.pk),
        "starter evaluation",
    )


def test_start_from_a_library_template_with_own_title(as_staff_a, provider_a, activity_a):
    template = template_of(provider_a, passing_score=80, max_attempts=None, questions=3)
    data = settings_data(provider_a, activity_a, start_from=str(template.pk), kind="", title="Our test")
    response = as_staff_a.post(ADD, {**data, **questions_data([])})

    assert response.status_code == 302, page_text(response)
    copy = Assessment.objects.get(activity=activity_a)
    assert (copy.title, copy.kind, copy.passing_score, copy.max_attempts) == (
        "Our test",
        "post_test",
        80,
        None,
    )
    assert shape(copy) == shape(template)
    assert list(copy.questions.values_list("key", flat=True)) == list(
        template.questions.values_list("key", flat=True)
    )


def test_start_from_a_template_onto_an_activity_that_has_that_kind(as_staff_a, provider_a, activity_a):
    make_assessment(activity_a, "evaluation", questions=1)
    data = settings_data(provider_a, activity_a, start_from="starter", kind="", title="")
    response = as_staff_a.post(ADD, {**data, **questions_data([])})

    assert response.status_code == 200
    assert "already has an evaluation" in response.context["adminform"].form.errors["activity"][0]
    assert (
        Assessment.objects.count() == 1 and not AuditEntry.objects.filter(action="assessment.copied").exists()
    )


def test_blank_start_needs_kind_and_title(as_staff_a, provider_a, activity_a):
    response = as_staff_a.post(
        ADD, {**settings_data(provider_a, activity_a, kind="", title=""), **questions_data([])}
    )
    errors = response.context["adminform"].form.errors
    assert "kind" in errors and "title" in errors
    assert not Assessment.objects.exists()


def test_start_from_offers_only_the_editors_templates(as_staff_a, provider_a, provider_b):
    own, other = template_of(provider_a, title="Own template"), template_of(provider_b, title="B template")
    choices = dict(as_staff_a.get(ADD).context["adminform"].form.fields["start_from"].choices)
    assert str(own.pk) in choices and "starter" in choices and str(other.pk) not in choices


# --- copy action and pre-test action -----------------------------------------------------------------------------


def copy_action(client, templates, activity=None):
    data = {"action": "copy_onto_activity", ACTION_CHECKBOX_NAME: [str(t.pk) for t in templates]}
    if activity is not None:
        data.update({"confirm": "yes", "activity": str(activity.pk)})
    return client.post(LIST, data)


def test_copy_templates_onto_an_activity(as_staff_a, provider_a, activity_a):
    post, evaluation = (
        template_of(provider_a, questions=2),
        template_of(provider_a, "evaluation", questions=3),
    )
    preview = copy_action(as_staff_a, [post, evaluation])
    assert preview.status_code == 200
    offered = list(preview.context["form"].fields["activity"].queryset)
    assert activity_a in offered and {a.provider for a in offered} == {provider_a}

    response = copy_action(as_staff_a, [post, evaluation], activity_a)

    assert response.status_code == 302
    copies = {a.kind: a for a in activity_a.assessments.all()}
    assert shape(copies["post_test"]) == shape(post) and shape(copies["evaluation"]) == shape(evaluation)
    assert AuditEntry.objects.filter(action="assessment.copied").count() == 2


def test_copy_action_leaves_activity_assessments_and_refuses_a_second_of_a_kind(
    as_staff_a, provider_a, activity_a
):
    on_activity = make_assessment(ActivityFactory(provider=provider_a), questions=1)
    make_assessment(activity_a, "post_test", questions=1)
    template = template_of(provider_a)
    preview = copy_action(as_staff_a, [on_activity, template])
    assert [obj for obj, _why in preview.context["wont"]] == [on_activity]

    response = copy_action(as_staff_a, [on_activity, template], activity_a)

    assert any("already has a post-test" in m for m in messages_of(response))
    assert activity_a.assessments.count() == 1


def test_mixed_role_cannot_copy_onto_provider_b(client, mixed_role, provider_a, provider_b, activity_b):
    b_template, a_template = template_of(provider_b), template_of(provider_a)
    client.force_login(mixed_role)

    copy_action(client, [b_template], activity_b)
    response = copy_action(client, [a_template], activity_b)

    assert response.status_code == 200 and "activity" in response.context["form"].errors
    assert not activity_b.assessments.exists()
    assert not AuditEntry.objects.filter(action="assessment.copied").exists()


def test_pre_test_from_post_test_action(as_staff_a, activity_a):
    post = make_assessment(activity_a, questions=3)
    response = as_staff_a.post(
        LIST, {"action": "pre_test_from_post_test", ACTION_CHECKBOX_NAME: [str(post.pk)]}
    )
    assert response.status_code == 302
    pre = activity_a.assessments.get(kind="pre_test")
    assert list(pre.questions.values_list("key", flat=True)) == list(
        post.questions.values_list("key", flat=True)
    )


# --- the preview ----------------------------------------------------------------------------------------------


def test_preview_shows_the_questions_without_correct_answers_and_records_nothing(as_staff_a, activity_a):
    post = make_assessment(activity_a, questions=2)
    post.questions.filter(position=2).update(kind="multiple")

    response = as_staff_a.get(preview_url(post))

    assert response.status_code == 200
    html = response.content.decode()
    learner_part, key_part = html.split('id="answer-key"')
    assert "Question 1?" in learner_part and "Right answer 1" in learner_part and "Wrong A" in learner_part
    assert "Correct" not in learner_part and "Because of reason" not in learner_part
    # The right answer is marked up exactly as the wrong ones are.
    right = re.search(r'<input type="radio"[^>]*> <label[^>]*>Right answer 1</label>', learner_part).group(0)
    wrong = re.search(r'<input type="radio"[^>]*> <label[^>]*>Wrong A</label>', learner_part).group(0)
    assert re.sub(r'"q?\d+(-\d+)?"', "", right).replace("Right answer 1", "") == re.sub(
        r'"q?\d+(-\d+)?"', "", wrong
    ).replace("Wrong A", "")
    assert 'type="checkbox"' in learner_part
    assert "Correct:</strong> Right answer 1" in key_part and "Because of reason 1" in key_part
    assert not AssessmentVersion.objects.exists()


def test_viewer_previews_and_the_change_page_links_to_it(client, viewer_a, activity_a):
    post = make_assessment(activity_a, questions=1)
    client.force_login(viewer_a)
    assert f'href="{preview_url(post)}"' in client.get(change_url(post)).content.decode()
    assert client.get(preview_url(post)).status_code == 200


# --- deleting and editing after attempts ----------------------------------------------------------------------------


def test_delete_with_attempts_is_refused_saying_why(as_staff_a, enrollment, activity_a):
    post = make_assessment(activity_a, questions=2)
    attempt(enrollment, post, right=0)
    url = reverse("admin:assessments_assessment_delete", args=[post.pk])

    page = as_staff_a.get(url)
    assert page.status_code == 200 and "1 learner has taken it" in page_text(page)
    response = as_staff_a.post(url, {"post": "yes"})
    assert response.status_code == 200 and "1 learner has taken it" in page_text(response)
    bulk = as_staff_a.post(
        LIST, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(post.pk)], "post": "yes"}
    )
    assert bulk.status_code == 200 and "1 learner has taken it" in page_text(bulk)
    assert Assessment.objects.filter(pk=post.pk).exists() and Attempt.objects.count() == 1


def test_delete_without_attempts_takes_its_versions(as_staff_a, activity_a):
    from assessments.services import versions

    post = make_assessment(activity_a, questions=2)
    versions.current_version(post)  # a learner opened it and left
    response = as_staff_a.post(
        reverse("admin:assessments_assessment_delete", args=[post.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert (
        not Assessment.objects.exists()
        and not AssessmentVersion.objects.exists()
        and not Question.objects.exists()
    )
    assert AuditEntry.objects.filter(action="assessment.deleted").exists()


def test_editing_after_attempts_keeps_the_attempts_version(as_staff_a, enrollment, provider_a, activity_a):
    post = make_assessment(activity_a, questions=2, passing_score=50)
    first = attempt(enrollment, post, right=0)
    frozen = first.version.content
    page = as_staff_a.get(change_url(post))
    assert "1 learner has taken version 1; saving changes makes a new version" in page_text(page)
    one, two = post.questions.order_by("position")
    data = {
        **settings_data(provider_a, activity_a, title=post.title, passing_score="50"),
        **questions_data(
            [
                {
                    "position": 1,
                    "kind": "single",
                    "text": "Rewritten?",
                    "choices_text": "*New right\nRight answer 1",
                },
                {
                    "position": 2,
                    "kind": "single",
                    "text": two.text,
                    "choices_text": "*Right answer 2\nWrong A",
                },
            ],
            initial=2,
            existing=[one, two],
        ),
    }
    for readonly in ("provider", "activity", "kind"):
        data.pop(readonly)

    response = as_staff_a.post(change_url(post), data)

    assert response.status_code == 302, page_text(response)
    first.refresh_from_db()
    assert first.version.content == frozen and first.version.number == 1
    assert frozen["questions"][0]["text"] == "Question 1?"
    second = attempt(enrollment, post)
    assert second.version.number == 2 and second.version.content["questions"][0]["text"] == "Rewritten?"
    assert (first.score, first.passed) == (0, False)


def copy_url(assessment):
    return reverse("admin:assessments_assessment_copy", args=[assessment.pk])


def test_copy_button_of_a_template(as_staff_a, provider_a, activity_a):
    template = template_of(provider_a, questions=2)
    assert f'href="{copy_url(template)}"' in as_staff_a.get(change_url(template)).content.decode()

    response = as_staff_a.post(copy_url(template), {"activity": str(activity_a.pk)})

    copy = activity_a.assessments.get()
    assert response.status_code == 302 and response.url == change_url(copy)
    assert shape(copy) == shape(template)
    again = as_staff_a.post(copy_url(template), {"activity": str(activity_a.pk)})
    assert "already has a post-test" in again.context["form"].errors["activity"][0]
    assert activity_a.assessments.count() == 1


def test_copy_button_refused_to_viewers_and_other_providers(
    client, mixed_role, viewer_a, provider_a, provider_b, activity_b
):
    b_template = template_of(provider_b)
    client.force_login(mixed_role)
    assert 'id="copy-link"' not in client.get(change_url(b_template)).content.decode()
    assert client.post(copy_url(b_template), {"activity": str(activity_b.pk)}).status_code == 403
    # Their own template, onto B's activity, where they only view: not offered.
    a_template = template_of(provider_a)
    response = client.post(copy_url(a_template), {"activity": str(activity_b.pk)})
    assert response.status_code == 200 and "activity" in response.context["form"].errors
    client.force_login(viewer_a)
    assert client.get(copy_url(a_template)).status_code == 403
    assert (
        not activity_b.assessments.exists()
        and not AuditEntry.objects.filter(action="assessment.copied").exists()
    )


def test_copy_button_of_an_activitys_assessment_is_refused(as_staff_a, activity_a):
    on_activity = make_assessment(ActivityFactory(provider=activity_a.provider), questions=1)
    assert as_staff_a.post(copy_url(on_activity), {"activity": str(activity_a.pk)}).status_code == 403
    assert not activity_a.assessments.exists()


@pytest.mark.parametrize("value", ["x", "99999999999999999999999", ""])
def test_copy_to_an_activity_that_cannot_exist_is_a_form_error(as_staff_a, provider_a, value):
    template = template_of(provider_a)
    response = as_staff_a.post(copy_url(template), {"activity": value})
    assert response.status_code == 200 and "activity" in response.context["form"].errors
    listing = copy_action(as_staff_a, [template], None)
    refused = as_staff_a.post(
        LIST,
        {
            "action": "copy_onto_activity",
            ACTION_CHECKBOX_NAME: [str(template.pk)],
            "confirm": "yes",
            "activity": value,
        },
    )
    assert (
        listing.status_code == 200
        and refused.status_code == 200
        and "activity" in refused.context["form"].errors
    )
    assert Assessment.objects.count() == 1


def test_accreditor_cannot_start_one_providers_assessment_from_anothers_template(
    client, accreditor, provider_a, provider_b, activity_a
):
    b_template = template_of(provider_b, questions=1)
    client.force_login(accreditor)
    data = settings_data(provider_a, activity_a, start_from=str(b_template.pk), kind="", title="")
    response = client.post(ADD, {**data, **questions_data([])})
    assert response.status_code == 200
    assert (
        "start Provider A’s assessment from one of its own"
        in response.context["adminform"].form.errors["start_from"][0]
    )
    assert not activity_a.assessments.exists()
