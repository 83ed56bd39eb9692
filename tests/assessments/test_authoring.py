"""Authoring services: copying templates and the starter evaluation, a pre-test from a post-test, and
answers written as text."""

import pytest

from assessments import starter
from assessments.models import Assessment, Choice, Question
from assessments.services import authoring
from assessments.services.authoring import AuthoringError
from portal.models import AuditEntry
from tests.factories import ActivityFactory, make_assessment


def _template(provider, kind="post_test", **kwargs):
    """A library template of ``provider``: made on a throwaway activity, then detached from it."""
    assessment = make_assessment(ActivityFactory(provider=provider), kind, **kwargs)
    assessment.activity = None
    assessment.save()
    return assessment


def _shape(assessment):
    return [
        (str(q.key), q.kind, q.text, q.explanation, [(c.text, c.is_correct) for c in q.choices.all()])
        for q in assessment.questions.order_by("position")
    ]


def test_copy_template_onto_activity_keeps_settings_keys_and_choices(staff_a, activity_a, provider_a):
    template = _template(provider_a, passing_score=80, max_attempts=3, shuffle=True)

    copy = authoring.copy_assessment(source=template, activity=activity_a, by=staff_a)

    copy.refresh_from_db()
    assert (copy.activity, copy.provider, copy.kind) == (activity_a, provider_a, "post_test")
    assert (copy.passing_score, copy.max_attempts, copy.shuffle_questions) == (80, 3, True)
    assert _shape(copy) == _shape(template)
    assert not set(copy.questions.values_list("pk", flat=True)) & set(
        template.questions.values_list("pk", flat=True)
    )
    entry = AuditEntry.objects.get(action="assessment.copied")
    assert (entry.actor, entry.object_id, entry.provider) == (staff_a, str(copy.pk), provider_a)
    assert entry.data["source"] == f"assessment {template.pk}"


def test_copy_into_library(staff_a, activity_a, provider_a):
    source = make_assessment(activity_a, "evaluation", questions=3)
    copy = authoring.copy_assessment(source=source, activity=None, provider=provider_a, by=staff_a)
    assert copy.is_template and copy.provider == provider_a
    assert [str(q.key) for q in copy.questions.all()] == [str(q.key) for q in source.questions.all()]


def test_copy_of_another_providers_template_is_refused(staff_ab, activity_a, provider_b):
    template = _template(provider_b)
    with pytest.raises(AuthoringError) as refused:
        authoring.copy_assessment(source=template, activity=activity_a, by=staff_ab)
    assert refused.value.field == "source" and "another provider" in refused.value.message
    assert not activity_a.assessments.exists()
    assert not AuditEntry.objects.filter(action="assessment.copied").exists()


def test_copy_onto_an_activity_with_that_kind_is_refused_and_nothing_written(staff_a, activity_a, provider_a):
    make_assessment(activity_a, "post_test", questions=2)
    template = _template(provider_a)
    before = (Assessment.objects.count(), Question.objects.count(), Choice.objects.count())
    with pytest.raises(AuthoringError) as refused:
        authoring.copy_assessment(source=template, activity=activity_a, by=staff_a)
    assert refused.value.field == "activity" and "already has a post-test" in refused.value.message
    assert (Assessment.objects.count(), Question.objects.count(), Choice.objects.count()) == before


def test_copy_with_provider_mismatch_is_refused(staff_ab, activity_a, provider_a, provider_b):
    template = _template(provider_a)
    with pytest.raises(AuthoringError) as refused:
        authoring.copy_assessment(source=template, activity=activity_a, provider=provider_b, by=staff_ab)
    assert refused.value.field == "activity"
    assert not activity_a.assessments.exists()


def test_copy_by_a_viewer_of_the_target_is_refused(mixed_role, provider_b, activity_b):
    template = _template(provider_b)
    with pytest.raises(AuthoringError) as refused:
        authoring.copy_assessment(source=template, activity=activity_b, by=mixed_role)
    assert "not an editor" in refused.value.message
    assert not activity_b.assessments.exists()


def test_starter_evaluation_has_the_audited_items_and_copies_with_its_keys(staff_a, activity_a, provider_a):
    evaluation = authoring.add_starter_evaluation(activity=activity_a, by=staff_a)

    assert (evaluation.kind, evaluation.required_for, evaluation.provider) == (
        "evaluation",
        "credit",
        provider_a,
    )
    texts = " ".join(q.text for q in evaluation.questions.all()).lower()
    for item in (
        "objectives",
        "relevant to my practice",
        "commercial bias",
        "change my practice",
        "barriers",
    ):
        assert item in texts
    assert [str(q.key) for q in evaluation.questions.all()] == [
        q.key for q in starter.STARTER_EVALUATION.questions
    ]
    kinds = {q.kind for q in evaluation.questions.all()}
    assert kinds == {"likert", "free_text"}
    assert not Choice.objects.filter(question__assessment=evaluation).exists()
    assert AuditEntry.objects.get(action="assessment.copied").data["source"] == "starter evaluation"
    # Another activity's copy shares the keys, so evaluations compare across activities.
    other = authoring.add_starter_evaluation(activity=ActivityFactory(provider=provider_a), by=staff_a)
    assert sorted(other.questions.values_list("key", flat=True)) == sorted(
        evaluation.questions.values_list("key", flat=True)
    )


def test_starter_into_library_and_twice_on_one_activity_refused(staff_a, activity_a, provider_a):
    template = authoring.add_starter_evaluation(activity=None, provider=provider_a, by=staff_a)
    assert template.is_template
    authoring.add_starter_evaluation(activity=activity_a, by=staff_a)
    with pytest.raises(AuthoringError):
        authoring.add_starter_evaluation(activity=activity_a, by=staff_a)
    assert activity_a.assessments.count() == 1


def test_pre_test_from_post_test_asks_the_same_questions(staff_a, activity_a):
    post = make_assessment(activity_a, "post_test", questions=3)
    pre = authoring.create_pre_test_from_post_test(post_test=post, by=staff_a)
    assert (pre.kind, pre.required_for, pre.passing_score, pre.max_attempts) == (
        "pre_test",
        "nothing",
        None,
        None,
    )
    assert [s[0] for s in _shape(pre)] == [s[0] for s in _shape(post)]
    assert _shape(pre) == _shape(post)
    with pytest.raises(AuthoringError):
        authoring.create_pre_test_from_post_test(post_test=post, by=staff_a)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("*Paris\nLyon\n\n  Nice ", "single", [("Paris", True), ("Lyon", False), ("Nice", False)]),
        ("*A\n* B\nC", "multiple", [("A", True), ("B", True), ("C", False)]),
        ("*false", "true_false", [("True", False), ("False", True)]),
        ("True\n*False", "true_false", [("True", False), ("False", True)]),
        ("", "likert", []),
        ("", "free_text", []),
    ],
)
def test_parse_choices(text, kind, expected):
    assert authoring.parse_choices(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind", "says"),
    [
        ("Paris\nLyon", "single", "exactly one correct"),
        ("*Paris\n*Lyon", "single", "exactly one correct"),
        ("A\nB", "multiple", "at least one correct"),
        ("*Only", "single", "at least two"),
        ("*A\na", "single", "the same"),
        ("*\nB", "single", "only “*”"),
        ("*Yes", "true_false", "“*True” or “*False”"),
        ("*True\n*False", "true_false", "“*True” or “*False”"),
        ("", "true_false", "“*True” or “*False”"),
        ("1\n2", "likert", "no answers"),
    ],
)
def test_parse_choices_refusals_name_the_field(text, kind, says):
    with pytest.raises(AuthoringError) as refused:
        authoring.parse_choices(text, kind)
    assert refused.value.field == "choices_text"
    assert says in refused.value.message


def test_set_choices_keeps_rows_whose_text_is_unchanged(activity_a):
    question = make_assessment(activity_a, questions=1).questions.get()
    by_text = {c.text: c.pk for c in question.choices.all()}

    authoring.set_choices(question, [("Wrong A", True), ("Right answer 1", False), ("New", False)])

    rows = list(question.choices.order_by("position"))
    assert [(c.text, c.is_correct) for c in rows] == [
        ("Wrong A", True),
        ("Right answer 1", False),
        ("New", False),
    ]
    assert rows[0].pk == by_text["Wrong A"] and rows[1].pk == by_text["Right answer 1"]
    assert not question.choices.filter(text__in=["Wrong B", "Wrong C"]).exists()
