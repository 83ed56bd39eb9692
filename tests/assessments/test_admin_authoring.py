"""Authoring in the admin, by persona: the editor writes tests and evaluations with their questions and
answers, the viewer only reads, the other provider's staff never see them, the mixed-role user cannot write
where they only view, accreditation staff see all; templates and the starter evaluation; the preview;
deleting and editing after learners took a test."""

import pytest
from django.urls import reverse

from assessments.models import Assessment, Choice, Question
from portal.models import AuditEntry
from tests.factories import ActivityFactory, make_assessment
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

ADD = reverse("admin:assessments_assessment_add")
LIST = reverse("admin:assessments_assessment_changelist")


def change_url(assessment):
    return reverse("admin:assessments_assessment_change", args=[assessment.pk])


def preview_url(assessment):
    return reverse("admin:assessments_assessment_preview", args=[assessment.pk])


def settings_data(provider, activity, **fields):
    data = {
        "start_from": "",
        "provider": str(provider.pk),
        "activity": str(activity.pk) if activity else "",
        "kind": "post_test",
        "title": "Sepsis post-test",
        "instructions": "",
        "passing_score": "70",
        "max_attempts": "2",
        "shuffle_questions": "",
        "show_feedback": "on",
        "required_for": "credit",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def questions_data(questions, initial=0, existing=()):
    """The inline's POST: ``questions`` as dicts of position, kind, text, choices_text, explanation."""
    data = {
        "questions-TOTAL_FORMS": str(len(questions)),
        "questions-INITIAL_FORMS": str(initial),
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    for n, question in enumerate(questions):
        fields = {"explanation": "", "required": "on", "choices_text": "", **question}
        if n < len(existing):
            fields["id"] = str(existing[n].pk)
        for name, value in fields.items():
            if value is not None:
                data[f"questions-{n}-{name}"] = str(value)
    return data


QUESTIONS = [
    {
        "position": 1,
        "kind": "single",
        "text": "First-line vasopressor?",
        "choices_text": "*Norepinephrine\nDopamine\nVasopressin",
        "explanation": "Guidelines.",
    },
    {
        "position": 2,
        "kind": "multiple",
        "text": "Signs of shock?",
        "choices_text": "*Hypotension\n*Lactate > 2\nFever",
    },
    {"position": 3, "kind": "true_false", "text": "Fluids first.", "choices_text": "*True"},
]


def shape(assessment):
    return [
        (q.position, q.kind, q.text, [(c.text, c.is_correct) for c in q.choices.order_by("position")])
        for q in assessment.questions.order_by("position")
    ]


def counts():
    return (Assessment.objects.count(), Question.objects.count(), Choice.objects.count())


# --- the editor ------------------------------------------------------------------------------------------------


def test_editor_adds_a_post_test_with_questions(as_staff_a, staff_a, provider_a, activity_a):
    response = as_staff_a.post(ADD, {**settings_data(provider_a, activity_a), **questions_data(QUESTIONS)})

    assert response.status_code == 302, page_text(response)
    post_test = Assessment.objects.get()
    assert (post_test.activity, post_test.kind, post_test.passing_score, post_test.max_attempts) == (
        activity_a,
        "post_test",
        70,
        2,
    )
    assert shape(post_test) == [
        (
            1,
            "single",
            "First-line vasopressor?",
            [("Norepinephrine", True), ("Dopamine", False), ("Vasopressin", False)],
        ),
        (2, "multiple", "Signs of shock?", [("Hypotension", True), ("Lactate > 2", True), ("Fever", False)]),
        (3, "true_false", "Fluids first.", [("True", True), ("False", False)]),
    ]
    assert post_test.questions.get(position=1).explanation == "Guidelines."
    assert AuditEntry.objects.filter(
        action="assessment.added", actor=staff_a, object_id=str(post_test.pk)
    ).exists()


def test_editor_reorders_and_edits_answers_keeping_unchanged_choices(as_staff_a, provider_a, activity_a):
    post_test = make_assessment(activity_a, questions=2)
    first, second = post_test.questions.order_by("position")
    kept = first.choices.get(text="Wrong A").pk
    data = {
        **settings_data(provider_a, activity_a, title=post_test.title),
        **questions_data(
            [
                {
                    "position": 2,
                    "kind": "single",
                    "text": first.text,
                    "choices_text": "Right answer 1\n*Wrong A",
                },
                {
                    "position": 1,
                    "kind": "single",
                    "text": second.text,
                    "choices_text": "*Right answer 2\nWrong A",
                },
            ],
            initial=2,
            existing=[first, second],
        ),
    }
    data.pop("provider")  # read only once saved
    response = as_staff_a.post(change_url(post_test), data)

    assert response.status_code == 302, page_text(response)
    assert [q.text for q in post_test.questions.order_by("position")] == ["Question 2?", "Question 1?"]
    assert [(c.text, c.is_correct) for c in first.choices.order_by("position")] == [
        ("Right answer 1", False),
        ("Wrong A", True),
    ]
    assert first.choices.get(text="Wrong A").pk == kept


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ({"kind": "single", "choices_text": "Paris\nLyon"}, "exactly one correct answer"),
        ({"kind": "multiple", "choices_text": "A\nB"}, "at least one correct answer"),
        ({"kind": "true_false", "choices_text": "*Maybe"}, "“*True” or “*False”"),
        ({"kind": "single", "choices_text": "*Only one"}, "at least two answers"),
    ],
)
def test_answers_refused_on_their_field_and_nothing_written(
    as_staff_a, provider_a, activity_a, question, says
):
    data = {
        **settings_data(provider_a, activity_a),
        **questions_data([{"position": 1, "text": "Which?", **question}]),
    }
    response = as_staff_a.post(ADD, data)

    assert response.status_code == 200
    form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert list(form.errors) == ["choices_text"]
    assert says in form.errors["choices_text"][0]
    assert says in page_text(response)
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "question_kind", "field", "says"),
    [
        ({"passing_score": ""}, None, "passing_score", "needs a passing score"),
        ({"passing_score": "0"}, None, "passing_score", "greater than or equal to 1"),
        ({"passing_score": "101"}, None, "passing_score", "less than or equal to 100"),
        (
            {"kind": "evaluation", "max_attempts": ""},
            None,
            "passing_score",
            "Only a post-test has a passing score",
        ),
        ({"kind": "evaluation", "passing_score": ""}, None, "max_attempts", "Only a post-test allows"),
        (
            {"moc_boards": "ABIM"},
            None,
            "moc_boards",
            "only when the assessment is required for MOC points only",
        ),
        ({"required_for": "moc", "moc_boards": "XYZ"}, None, "moc_boards", "Select a valid choice"),
        ({}, "free_text", None, "Free-text questions belong in evaluations only"),
        ({}, "likert", None, "Likert items belong in evaluations"),
    ],
)
def test_settings_rules_name_their_field(
    as_staff_a, provider_a, activity_a, fields, question_kind, field, says
):
    question = {"position": 1, "kind": question_kind or "single", "text": "Q?", "choices_text": "*A\nB"}
    if question_kind:
        question["choices_text"] = ""
    response = as_staff_a.post(
        ADD, {**settings_data(provider_a, activity_a, **fields), **questions_data([question])}
    )

    assert response.status_code == 200
    if field:
        assert says in " ".join(response.context["adminform"].form.errors[field])
    else:
        assert says in response.context["inline_admin_formsets"][0].formset.forms[0].errors["kind"][0]
    assert counts() == (0, 0, 0)


def test_pre_test_is_never_required(as_staff_a, provider_a, activity_a):
    data = settings_data(
        provider_a, activity_a, kind="pre_test", passing_score="", max_attempts="", required_for="credit"
    )
    response = as_staff_a.post(ADD, {**data, **questions_data([])})
    assert response.status_code == 302, page_text(response)
    assert Assessment.objects.get().required_for == "nothing"


def test_a_second_post_test_on_one_activity_is_refused_on_the_activity(as_staff_a, provider_a, activity_a):
    make_assessment(activity_a, questions=1)
    response = as_staff_a.post(ADD, {**settings_data(provider_a, activity_a), **questions_data([])})
    assert response.status_code == 200
    assert "already has a post-test" in response.context["adminform"].form.errors["activity"][0]
    assert Assessment.objects.count() == 1


# --- who sees and writes ----------------------------------------------------------------------------------------


def test_viewer_reads_but_cannot_write(client, viewer_a, provider_a, activity_a):
    post_test = make_assessment(activity_a, questions=1)
    client.force_login(viewer_a)
    before = shape(post_test)

    assert client.get(change_url(post_test)).status_code == 200
    assert "Right answer 1" in page_text(client.get(change_url(post_test)))
    assert client.get(ADD).status_code == 403
    assert (
        client.post(
            ADD,
            {**settings_data(provider_a, ActivityFactory(provider=provider_a)), **questions_data(QUESTIONS)},
        ).status_code
        == 403
    )
    data = {
        **settings_data(provider_a, activity_a, title="Changed"),
        **questions_data([{"position": 1, "kind": "single", "text": "Hacked", "choices_text": "*A\nB"}]),
    }
    assert client.post(change_url(post_test), data).status_code == 403
    post_test.refresh_from_db()
    assert post_test.title != "Changed" and shape(post_test) == before
    assert Assessment.objects.count() == 1


def test_other_providers_staff_get_404(client, staff_b, activity_a):
    post_test = make_assessment(activity_a, questions=1, title="Provider A sepsis test")
    client.force_login(staff_b)
    assert client.get(change_url(post_test)).status_code == 404
    assert client.get(preview_url(post_test)).status_code == 404
    assert (
        client.post(
            reverse("admin:assessments_assessment_delete", args=[post_test.pk]), {"post": "yes"}
        ).status_code
        == 404
    )
    listing = client.get(LIST)
    assert post_test.title not in page_text(listing) and listing.context["cl"].result_count == 0
    assert Assessment.objects.filter(pk=post_test.pk).exists()


def test_mixed_role_cannot_write_to_provider_b(
    client, mixed_role, provider_a, provider_b, activity_a, activity_b
):
    b_test = make_assessment(activity_b, questions=1)
    before = (b_test.title, shape(b_test))
    client.force_login(mixed_role)

    assert client.get(change_url(b_test)).status_code == 200  # they view B
    data = {
        **settings_data(provider_b, activity_b, title="Changed"),
        **questions_data([{"position": 1, "kind": "single", "text": "Hacked", "choices_text": "*A\nB"}]),
    }
    assert client.post(change_url(b_test), data).status_code == 403
    b_test.refresh_from_db()
    assert (b_test.title, shape(b_test)) == before

    # Adding at B, or at A onto B's activity: the choices are A's only.
    for provider in (provider_b, provider_a):
        data = {
            **settings_data(provider, activity_b, kind="evaluation", passing_score="", max_attempts=""),
            **questions_data([]),
        }
        response = client.post(ADD, data)
        assert response.status_code == 200
        assert "activity" in response.context["adminform"].form.errors
    assert list(Assessment.objects.all()) == [b_test]
    # Nor can they start from B's template, which their add page does not offer.
    template = make_assessment(ActivityFactory(provider=provider_b), "evaluation", questions=1)
    Assessment.objects.filter(pk=template.pk).update(activity=None)
    response = client.post(
        ADD, {**settings_data(provider_a, activity_a, start_from=str(template.pk)), **questions_data([])}
    )
    assert "start_from" in response.context["adminform"].form.errors
    assert not activity_a.assessments.exists()


def test_accreditor_sees_every_providers_assessments(client, accreditor, activity_a, activity_b):
    a, b = make_assessment(activity_a, title="A test"), make_assessment(activity_b, title="B test")
    client.force_login(accreditor)
    text = page_text(client.get(LIST))
    assert "A test" in text and "B test" in text
    assert client.get(change_url(b)).status_code == 200 and client.get(preview_url(a)).status_code == 200


def test_activity_choices_are_the_editors_providers_only(as_staff_a, activity_a, activity_b):
    form = as_staff_a.get(ADD).context["adminform"].form
    assert list(form.fields["activity"].queryset) == [activity_a]


def test_changelist_filters_library_and_kind(as_staff_a, provider_a, activity_a):
    make_assessment(activity_a, "evaluation", title="On activity", questions=1)
    template = make_assessment(ActivityFactory(provider=provider_a), title="Library one", questions=1)
    Assessment.objects.filter(pk=template.pk).update(activity=None)
    text = page_text(as_staff_a.get(LIST, {"where": "library"}))
    assert "Library one" in text and "On activity" not in text
    text = page_text(as_staff_a.get(LIST, {"kind__exact": "evaluation"}))
    assert "On activity" in text and "Library one" not in text
    assert "Library one" in page_text(as_staff_a.get(LIST, {"q": "library"}))


def test_an_inline_claiming_thousands_of_questions_is_a_form_error(as_staff_a, provider_a, activity_a):
    data = {**settings_data(provider_a, activity_a), **questions_data(QUESTIONS)}
    data["questions-TOTAL_FORMS"] = "50000"
    response = as_staff_a.post(ADD, data)
    assert response.status_code == 200
    assert "Please submit at most 100 forms" in page_text(response)
    assert counts() == (0, 0, 0)


def test_accreditor_cannot_put_one_providers_assessment_on_anothers_activity(
    client, accreditor, provider_a, activity_b
):
    client.force_login(accreditor)
    response = client.post(ADD, {**settings_data(provider_a, activity_b), **questions_data(QUESTIONS)})
    assert response.status_code == 200
    assert "one of the assessment's provider's" in response.context["adminform"].form.errors["activity"][0]
    assert counts() == (0, 0, 0)


def test_accreditor_adds_a_library_template(client, accreditor, provider_b):
    client.force_login(accreditor)
    response = client.post(ADD, {**settings_data(provider_b, None), **questions_data(QUESTIONS[:1])})
    assert response.status_code == 302, page_text(response)
    template = Assessment.objects.get()
    assert template.is_template and template.provider == provider_b and template.questions.count() == 1


@pytest.mark.parametrize(
    ("fields", "question", "field"),
    [
        ({"start_from": "x"}, {}, "start_from"),
        ({"passing_score": "abc"}, {}, "passing_score"),
        ({"kind": "final_exam"}, {}, "kind"),
        ({"provider": "99999999999999999999999"}, {}, "provider"),
        ({"activity": "99999999999999999999999"}, {}, "activity"),
        ({}, {"position": "99999999999999999999"}, "position"),
        ({}, {"kind": "essay"}, "kind"),
        ({}, {"text": "x" * 2001}, "text"),
    ],
)
def test_hostile_values_are_form_errors(as_staff_a, provider_a, activity_a, fields, question, field):
    data = {
        **settings_data(provider_a, activity_a),
        **fields,
        **questions_data([{**QUESTIONS[0], **question}]),
    }
    response = as_staff_a.post(ADD, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    if question:
        errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert field in errors
    assert counts() == (0, 0, 0)
