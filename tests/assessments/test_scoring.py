"""Scoring an attempt and keeping it: each kind of question scored as the issue says, the attempt counted,
a pass final, a test edited after learners took it never changing their attempts, nothing written for an
answer sheet that is refused."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.models import Answer, Assessment, Attempt, Choice, Question
from assessments.services import attempts, versions
from learners import services
from portal.models import AuditEntry
from tests.factories import ActivityFactory, make_assessment
from tests.helpers import answers, attempt, make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrollment(physician, provider_a):
    activity = ActivityFactory(provider=provider_a)
    enrollment, _ = services.enroll(learner=physician, activity=activity)
    return enrollment


@pytest.fixture
def post_test(enrollment):
    return make_assessment(enrollment.activity, "post_test", questions=4, passing_score=70, max_attempts=2)


def add_question(assessment, kind, text, choices=(), position=10, **fields):
    question = Question.objects.create(
        assessment=assessment, kind=kind, text=text, position=position, **fields
    )
    for n, (choice, correct) in enumerate(choices, start=1):
        Choice.objects.create(question=question, position=n, text=choice, is_correct=correct)
    return question


def submit(enrollment, assessment, responses, version=None):
    return attempts.submit_attempt(
        enrollment=enrollment,
        assessment=assessment,
        version=version or versions.current_version(assessment),
        responses=responses,
    )


def field_of(version, text):
    return next(attempts.field_name(q) for q in version.content["questions"] if q["text"] == text)


def choice_ids(version, text, *names):
    question = next(q for q in version.content["questions"] if q["text"] == text)
    return [str(c["id"]) for c in question["choices"] if c["text"] in names]


# --- scores ----------------------------------------------------------------------------------------------------


def test_the_score_is_the_share_of_scored_questions_right_and_70_percent_passes_at_70(enrollment):
    post_test = make_assessment(enrollment.activity, "post_test", questions=10, passing_score=70)
    failed = attempt(enrollment, post_test, right=6)
    passed = attempt(enrollment, post_test, right=7)
    assert (failed.score, failed.correct, failed.scored, failed.passed) == (Decimal("60.00"), 6, 10, False)
    assert (passed.score, passed.correct, passed.scored, passed.passed) == (Decimal("70.00"), 7, 10, True)


def test_a_multiple_choice_question_needs_every_correct_answer_and_no_wrong_one(enrollment):
    post_test = make_assessment(enrollment.activity, "post_test", passing_score=90, max_attempts=None)
    add_question(
        post_test,
        "multiple",
        "Which are beta blockers?",
        [("Metoprolol", True), ("Atenolol", True), ("Amlodipine", False)],
    )
    version = versions.current_version(post_test)
    field = field_of(version, "Which are beta blockers?")

    def picked(*names):
        sheet = answers(version)
        sheet[field] = choice_ids(version, "Which are beta blockers?", *names)
        return sheet

    partial = submit(enrollment, post_test, picked("Metoprolol"))
    assert partial.correct == 4 and partial.score == Decimal("80.00")
    assert Answer.objects.get(attempt=partial, question_pk=int(field[1:])).correct is False
    too_many = submit(enrollment, post_test, picked("Metoprolol", "Atenolol", "Amlodipine"))
    assert too_many.correct == 4 and too_many.passed is False
    everything = submit(enrollment, post_test, picked("Metoprolol", "Atenolol"))
    assert everything.correct == 5 and everything.passed is True
    assert Answer.objects.get(attempt=too_many, question_pk=int(field[1:])).correct is False


def test_true_false_is_scored_and_likert_and_free_text_are_not(enrollment, physician):
    evaluation = make_assessment(enrollment.activity, "evaluation", questions=2)
    add_question(evaluation, "free_text", "What will you change?", required=False)
    version = versions.current_version(evaluation)
    sheet = answers(version, likert=5)
    sheet[field_of(version, "What will you change?")] = ["  Start statins earlier.\nReview doses.  "]
    response = submit(enrollment, evaluation, sheet)
    assert (response.score, response.passed, response.scored) == (None, None, None)
    stored = {a.question_pk: a for a in response.answers.all()}
    assert [a.value for a in stored.values() if a.value] == [5, 5]
    assert [a.text for a in stored.values() if a.text] == ["Start statins earlier.\nReview doses."]
    assert all(a.correct is None for a in stored.values())

    true_false = make_assessment(enrollment.activity, "pre_test", questions=0)
    add_question(true_false, "true_false", "Aspirin is an NSAID.", [("True", True), ("False", False)])
    version = versions.current_version(true_false)
    field = field_of(version, "Aspirin is an NSAID.")
    taken = submit(enrollment, true_false, {field: choice_ids(version, "Aspirin is an NSAID.", "False")})
    assert (taken.score, taken.passed) == (Decimal("0.00"), None)  # a pre-test is scored, never passed


@settings(max_examples=25, deadline=None)
@given(total=st.integers(min_value=1, max_value=12), data=st.data())
def test_any_number_right_scores_its_share_rounded_to_two_places(total, data, django_db_blocker):
    right = data.draw(st.integers(min_value=0, max_value=total))
    with django_db_blocker.unblock():
        learner = make_learner()
        activity = ActivityFactory()
        enrollment, _ = services.enroll(learner=learner, activity=activity)
        test = make_assessment(activity, "post_test", questions=total, passing_score=50, max_attempts=None)
        taken = attempt(enrollment, test, right=right)
    assert taken.correct == right and taken.scored == total
    assert taken.score == (Decimal(100) * right / total).quantize(Decimal("0.01"))
    assert taken.passed is (taken.score >= 50)


# --- what is refused writes nothing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda sheet, field: sheet.pop(field), id="unanswered"),
        pytest.param(lambda sheet, field: sheet.__setitem__(field, ["999999"]), id="unknown choice"),
        pytest.param(lambda sheet, field: sheet.__setitem__(field, ["one"]), id="not a number"),
        pytest.param(lambda sheet, field: sheet[field].append(sheet[field][0] + "0"), id="extra unknown"),
    ],
)
def test_a_refused_answer_names_its_question_and_nothing_is_written(enrollment, post_test, spoil):
    version = versions.current_version(post_test)
    sheet = answers(version)
    field = attempts.field_name(version.content["questions"][1])
    spoil(sheet, field)
    with pytest.raises(attempts.AttemptError) as refused:
        submit(enrollment, post_test, sheet)
    assert list(refused.value.errors) == [field]
    assert not Attempt.objects.exists() and not Answer.objects.exists()
    assert not AuditEntry.objects.filter(action="attempt.submitted").exists()


def test_two_answers_to_a_single_choice_question_are_refused(enrollment, post_test):
    version = versions.current_version(post_test)
    question = version.content["questions"][0]
    sheet = answers(version)
    sheet[attempts.field_name(question)] = [str(c["id"]) for c in question["choices"][:2]]
    with pytest.raises(attempts.AttemptError, match="Choose one answer"):
        submit(enrollment, post_test, sheet)
    assert not Attempt.objects.exists()


def test_free_text_longer_than_the_limit_is_refused(enrollment):
    evaluation = make_assessment(enrollment.activity, "evaluation", questions=0)
    question = add_question(evaluation, "free_text", "Barriers?")
    with pytest.raises(attempts.AttemptError, match="under 5000"):
        submit(enrollment, evaluation, {f"q{question.pk}": ["x" * 5001]})
    assert not Attempt.objects.exists()


def test_a_version_of_another_assessment_is_refused(enrollment, post_test):
    other = make_assessment(enrollment.activity, "pre_test")
    with pytest.raises(attempts.AttemptError, match="not of this assessment"):
        submit(
            enrollment,
            post_test,
            answers(versions.current_version(other)),
            version=versions.current_version(other),
        )
    assert not Attempt.objects.exists()


def test_an_assessment_of_another_activity_is_refused(enrollment, provider_a):
    elsewhere = make_assessment(ActivityFactory(provider=provider_a), "post_test")
    with pytest.raises(attempts.AttemptError, match="not part of your activity"):
        attempt(enrollment, elsewhere)
    assert not Attempt.objects.exists()


# --- attempts: counted, a pass final, once for a pre-test and an evaluation ------------------------------------


def test_attempts_run_out_and_the_best_score_stands(enrollment, post_test):
    attempt(enrollment, post_test, right=1)
    attempt(enrollment, post_test, right=2)
    with pytest.raises(attempts.AttemptError, match="used all 2 attempts"):
        attempt(enrollment, post_test, right=4)
    assert list(Attempt.objects.values_list("number", "score")) == [
        (1, Decimal("25.00")),
        (2, Decimal("50.00")),
    ]


def test_a_pass_is_final(enrollment, post_test):
    attempt(enrollment, post_test)
    with pytest.raises(attempts.AttemptError, match="A pass is final"):
        attempt(enrollment, post_test, right=4)
    assert Attempt.objects.count() == 1


def test_unlimited_attempts_are_unlimited(enrollment):
    test = make_assessment(enrollment.activity, "post_test", questions=2, max_attempts=None)
    for _ in range(6):
        attempt(enrollment, test, right=0)
    assert attempt(enrollment, test).number == 7


def test_a_pre_test_is_taken_once_and_before_the_post_test(enrollment, post_test):
    pre_test = make_assessment(enrollment.activity, "pre_test")
    attempt(enrollment, pre_test, right=1)
    with pytest.raises(attempts.AttemptError, match="taken this pre-test"):
        attempt(enrollment, pre_test)

    other, _ = services.enroll(learner=make_learner(), activity=enrollment.activity)
    attempt(other, post_test, right=0)
    with pytest.raises(attempts.AttemptError, match="before the post-test"):
        attempt(other, pre_test)


def test_an_evaluation_is_answered_once(enrollment):
    evaluation = make_assessment(enrollment.activity, "evaluation")
    attempt(enrollment, evaluation)
    with pytest.raises(attempts.AttemptError, match="completed this evaluation"):
        attempt(enrollment, evaluation)


def test_after_the_claim_the_assessments_are_closed(enrollment):
    evaluation = make_assessment(enrollment.activity, "evaluation", required_for="nothing")
    services.claim_credit(enrollment=enrollment, amounts={"ama_pra_1": Decimal("1.50")}, attested=True)
    with pytest.raises(attempts.AttemptError, match="claimed credit"):
        attempt(enrollment, evaluation)


def test_each_attempt_is_audited_with_its_learner_and_outcome(enrollment, post_test, physician):
    taken = attempt(enrollment, post_test, right=3)
    entry = AuditEntry.objects.get(action="attempt.submitted")
    assert entry.actor == physician and entry.provider_id == post_test.provider_id
    assert entry.object_id == str(taken.pk)
    assert entry.data == {
        "assessment": post_test.pk, "kind": "post_test", "version": 1, "number": 1, "score": "75.00", "passed": True,
    }  # fmt: skip


# --- versions --------------------------------------------------------------------------------------------------


def test_editing_a_test_after_learners_took_it_never_changes_their_attempts(enrollment, post_test, physician):
    first = attempt(enrollment, post_test, right=2)
    taken_on = first.version.content
    question = post_test.questions.order_by("position").first()
    question.text = "A reworded question?"
    question.save()
    question.choices.filter(is_correct=True).update(is_correct=False)
    question.choices.filter(text="Wrong A").update(is_correct=True)

    current = versions.current_version(post_test)
    assert current.number == 2 and current.content["questions"][0]["text"] == "A reworded question?"
    first.refresh_from_db()
    assert first.version.number == 1 and first.version.content == taken_on
    assert (first.score, first.correct) == (Decimal("50.00"), 2)
    assert first.version.content["questions"][0]["text"] == "Question 1?"


def test_an_unchanged_test_keeps_its_version_and_a_page_shown_before_an_edit_is_scored_as_shown(
    enrollment, post_test
):
    shown = versions.current_version(post_test)
    assert versions.current_version(post_test).pk == shown.pk
    sheet = answers(shown)  # all right, as the learner saw them
    post_test.questions.order_by("position").first().choices.update(is_correct=False)
    taken = submit(enrollment, post_test, sheet, version=shown)
    assert taken.version_id == shown.pk and taken.score == Decimal("100.00")
    assert versions.current_version(post_test).number == 2


def test_the_learner_sees_no_correct_answer_or_explanation(enrollment, post_test):
    version = versions.current_version(post_test)
    shown = attempts.learner_questions(version, enrollment=enrollment, number=1)
    assert [q.text for q in shown] == ["Question 1?", "Question 2?", "Question 3?", "Question 4?"]
    for question in shown:
        assert not hasattr(question, "explanation") and all(len(choice) == 2 for choice in question.choices)


def test_a_shuffled_test_shows_each_attempt_its_own_stable_order(enrollment):
    test = make_assessment(enrollment.activity, "post_test", questions=12, shuffle=True, max_attempts=None)
    version = versions.current_version(test)

    def order(number):
        return [q.id for q in attempts.learner_questions(version, enrollment=enrollment, number=number)]

    assert order(1) == order(1)
    assert sorted(order(1)) == sorted(order(2)) and order(1) != order(2)
    assert order(1) != [q["id"] for q in version.content["questions"]]
    # Scored on what was asked, whatever the order.
    assert attempt(enrollment, test).score == Decimal("100.00")


def test_a_deleted_assessment_with_attempts_is_kept(enrollment, post_test):
    from django.db.models import ProtectedError

    attempt(enrollment, post_test)
    with pytest.raises(ProtectedError):
        Assessment.objects.filter(pk=post_test.pk).delete()
    assert Attempt.objects.filter(assessment=post_test).count() == 1


# --- which version a submission may be scored on ----------------------------------------------------------------


def test_a_page_of_a_version_superseded_hours_ago_is_refused(enrollment):
    import time_machine
    from django.utils import timezone

    test = make_assessment(enrollment.activity, "post_test", passing_score=100, max_attempts=None)
    assert versions.current_version(test).number == 1
    test.passing_score = 50
    test.save()
    lenient = versions.current_version(test)  # 50 % to pass
    test.passing_score = 100
    test.save()
    strict = versions.current_version(test)
    assert strict.number == lenient.number + 1
    sheet = answers(lenient, right=2)
    later = timezone.now() + attempts.SUPERSEDED_GRACE + timedelta(minutes=1)
    with time_machine.travel(later), pytest.raises(attempts.AttemptError, match="out of date"):
        submit(enrollment, test, sheet, version=lenient)
    assert not Attempt.objects.exists()
    assert attempts.submittable_version(test, lenient.pk) == lenient  # still within the grace now
    assert submit(enrollment, test, sheet, version=lenient).passed is True


def test_a_version_of_another_kind_is_refused(enrollment):
    evaluation = make_assessment(enrollment.activity, "evaluation", questions=2)
    shown = versions.current_version(evaluation)
    evaluation.kind, evaluation.passing_score, evaluation.max_attempts = "post_test", 70, 2
    evaluation.required_for = "credit"
    evaluation.save()
    with pytest.raises(attempts.AttemptError, match="out of date"):
        submit(enrollment, evaluation, answers(shown), version=shown)
    assert not Attempt.objects.exists()


def test_a_test_with_no_scored_question_scores_nothing(enrollment):
    test = make_assessment(enrollment.activity, "post_test", questions=0)
    with pytest.raises(attempts.AttemptError, match="no scored questions"):
        submit(enrollment, test, {})
    assert not Attempt.objects.exists()


def test_the_tests_open_when_the_activity_starts(physician, provider_a):
    from django.utils import timezone

    activity = ActivityFactory(provider=provider_a, start=timezone.now() + timedelta(days=10))
    test = make_assessment(activity, "post_test")
    enrollment, _ = services.enroll(learner=physician, activity=activity)
    with pytest.raises(attempts.AttemptError, match="open when it starts"):
        attempt(enrollment, test)
    assert not Attempt.objects.exists()


def test_switching_shuffling_later_never_reorders_an_attempts_questions(enrollment):
    test = make_assessment(enrollment.activity, "post_test", questions=12, shuffle=True, max_attempts=None)
    taken = attempt(enrollment, test, right=0)
    shown = [q["id"] for q in attempts.question_order(taken.version, enrollment=enrollment, number=1)]
    test.shuffle_questions = False
    test.save()
    assert versions.current_version(test).number == 2
    taken.version.refresh_from_db()
    assert [q["id"] for q in attempts.question_order(taken.version, enrollment=enrollment, number=1)] == shown
