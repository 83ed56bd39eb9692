"""Taking a pre-test, post-test or evaluation through the learner's pages: failing, retrying, running out of
attempts, passing, evaluating once, what is stored, every refusal of bad input, and two tabs racing for the
last attempt."""

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from assessments.models import Answer, Assessment, AssessmentVersion, Attempt, Choice, Question
from assessments.services import versions
from learners import services
from portal.models import AuditEntry
from tests.factories import make_assessment
from tests.helpers import answers, attempt, page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, physician):
    client.force_login(physician)
    return client


def take_url(enrollment, kind="post_test") -> str:
    return reverse("assessments:take", kwargs={"public_id": enrollment.public_id, "kind": kind})


def result_url(enrollment, kind, number) -> str:
    return reverse(
        "assessments:result", kwargs={"public_id": enrollment.public_id, "kind": kind, "number": number}
    )


def submit(client, enrollment, assessment, *, right=None, responses=None, version=None, **kwargs):
    version = version or versions.current_version(assessment)
    data = responses if responses is not None else answers(version, right=right, **kwargs)
    return client.post(take_url(enrollment, assessment.kind), {**data, "version": str(version.pk)})


def question_errors(response) -> dict[str, str]:
    """The errors shown beside the questions, by question field."""
    found = re.findall(r'<p class="field-error" id="(q\d+)_error">(.*?)</p>', response.content.decode(), re.S)
    return {field: text.strip() for field, text in found}


def checked_values(response, field) -> list[str]:
    html = response.content.decode()
    return re.findall(
        rf'<input type="(?:radio|checkbox)" name="{field}" id="[^"]+" value="(\d+)" checked', html
    )


# The take page


def test_the_take_page_shows_the_questions_as_a_form_with_attempts_left_and_the_passing_score(
    signed_in, enrollment, post_test
):
    response = signed_in.get(take_url(enrollment))

    assert response.status_code == 200
    html = response.content.decode()
    text = page_text(response)
    version = AssessmentVersion.objects.get(assessment=post_test)
    assert f'<input type="hidden" name="version" value="{version.pk}">' in html
    assert html.count('<fieldset class="question"') == 4
    assert len(re.findall(r"<legend>", html)) == 4
    for question in version.content["questions"]:
        assert html.count(f'type="radio" name="q{question["id"]}"') == 4
    assert "70 % of the scored questions answered correctly" in text
    assert "Attempt 1; 2 attempts left, this one included" in text
    assert "Question 1 Question 1?" in text


def test_correct_answers_and_explanations_never_reach_the_browser_before_submitting(
    signed_in, enrollment, post_test
):
    question = post_test.questions.first()
    question.explanation = "Lactate above 4 mmol/L means hypoperfusion."
    question.save()

    html = signed_in.get(take_url(enrollment)).content.decode()

    assert "Lactate above 4 mmol/L" not in html
    assert "Because of reason" not in html
    assert "is_correct" not in html and '"correct"' not in html and "data-correct" not in html
    assert "Right answer 1" in html  # the choices are there, only not which is right


def test_the_evaluation_shows_a_labelled_likert_scale_and_a_text_box(signed_in, enrollment, activity):
    evaluation = make_assessment(activity, "evaluation", questions=1)
    Question.objects.create(
        assessment=evaluation, position=9, kind="free_text", text="What will you change?", required=False
    )

    response = signed_in.get(take_url(enrollment, "evaluation"))

    html = response.content.decode()
    text = page_text(response)
    for n, label in enumerate(
        ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"], start=1
    ):
        assert f"{n} · {label}" in text
    assert re.search(r'<textarea name="q\d+" id="id_q\d+" rows="5" maxlength="5000"', html)
    assert "Question 2 (optional)" in text
    assert "No: there are no right or wrong answers." in text


def test_a_multiple_choice_question_has_checkboxes_and_needs_every_correct_answer(
    signed_in, enrollment, activity
):
    test = make_assessment(activity, "post_test", questions=0, passing_score=100, max_attempts=None)
    question = Question.objects.create(assessment=test, kind="multiple", text="Which are vasopressors?")
    noradrenaline, vasopressin, saline = (
        Choice.objects.create(question=question, position=n, text=t, is_correct=c)
        for n, (t, c) in enumerate([("Noradrenaline", True), ("Vasopressin", True), ("Saline", False)])
    )

    page = signed_in.get(take_url(enrollment)).content.decode()
    assert page.count(f'type="checkbox" name="q{question.pk}"') == 3
    one = submit(signed_in, enrollment, test, responses={f"q{question.pk}": [str(noradrenaline.pk)]})
    both = submit(
        signed_in,
        enrollment,
        test,
        responses={f"q{question.pk}": [str(vasopressin.pk), str(noradrenaline.pk)]},
    )

    assert one.status_code == both.status_code == 302
    first, second = Attempt.objects.filter(assessment=test).order_by("number")
    assert (first.passed, second.passed) == (False, True)
    assert Answer.objects.get(attempt=second).choice_ids == sorted([noradrenaline.pk, vasopressin.pk])
    assert saline.pk not in Answer.objects.get(attempt=first).choice_ids


# Failing, retrying, running out, passing


def test_a_learner_fails_sees_the_feedback_retries_and_passes(signed_in, enrollment, post_test):
    failed = submit(signed_in, enrollment, post_test, right=2)

    assert failed.status_code == 302 and failed["Location"] == result_url(enrollment, "post_test", 1)
    result = signed_in.get(failed["Location"])
    text = page_text(result)
    assert "Score 50 % (2 of 4 correct)" in text
    assert "Not passed (70 % needed)" in text
    assert "Attempts left 1" in text
    assert "Question 3 Wrong Question 3?" in text
    assert "Your answer Wrong A Correct answer Right answer 3 Explanation Because of reason 3." in text
    assert "Try the post-test again" in text
    assert take_url(enrollment) in result.content.decode()

    assert "Attempt 2; this is your last attempt" in page_text(signed_in.get(take_url(enrollment)))
    passed = submit(signed_in, enrollment, post_test, right=4)

    assert passed["Location"] == result_url(enrollment, "post_test", 2)
    text = page_text(signed_in.get(passed["Location"]))
    assert "Score 100 % (4 of 4 correct)" in text and "Passed (70 % needed)" in text
    assert "None needed: a pass is final." in text
    assert "Your best score 100 %" in text
    rows = list(
        Attempt.objects.filter(enrollment=enrollment).order_by("number").values_list("score", "passed")
    )
    assert [(float(s), p) for s, p in rows] == [(50.0, False), (100.0, True)]
    assert AuditEntry.objects.filter(action="attempt.submitted").count() == 2


def test_after_a_pass_a_new_attempt_is_refused_with_the_reason(signed_in, enrollment, post_test):
    attempt(enrollment, post_test, right=4)

    page = signed_in.get(take_url(enrollment))
    again = submit(signed_in, enrollment, post_test, right=4)

    assert page.status_code == 200
    assert "You passed this post-test. A pass is final." in page_text(page)
    assert "<fieldset" not in page.content.decode()
    assert again.status_code == 400
    assert "You passed this post-test. A pass is final." in page_text(again)
    assert Attempt.objects.filter(enrollment=enrollment).count() == 1


def test_a_learner_who_runs_out_of_attempts_is_told_and_cannot_claim(signed_in, enrollment, post_test):
    submit(signed_in, enrollment, post_test, right=1)
    submit(signed_in, enrollment, post_test, right=2)

    page = signed_in.get(take_url(enrollment))
    third = submit(signed_in, enrollment, post_test, right=4)
    claim = signed_in.get(reverse("learners:claim", kwargs={"public_id": enrollment.public_id}))

    assert "You have used all 2 attempts at this post-test." in page_text(page)
    assert third.status_code == 400
    assert Attempt.objects.filter(enrollment=enrollment).count() == 2
    assert (
        "Pass the post-test (70 % needed; your best is 50 %, no attempts left: ask the provider)."
        in page_text(claim)
    )
    assert 'class="claim-form"' not in claim.content.decode()


def test_unlimited_attempts_keep_counting(signed_in, enrollment, activity):
    test = make_assessment(activity, "post_test", questions=2, passing_score=100, max_attempts=None)
    for _ in range(4):
        assert submit(signed_in, enrollment, test, right=1).status_code == 302

    text = page_text(signed_in.get(take_url(enrollment)))

    assert "Attempt 5; unlimited attempts" in text
    assert Attempt.objects.filter(assessment=test).count() == 4


def test_the_evaluation_is_taken_once_and_its_answers_are_stored_as_given(signed_in, enrollment, activity):
    evaluation = make_assessment(activity, "evaluation", questions=2)
    change = Question.objects.create(
        assessment=evaluation, position=9, kind="free_text", text="What will you change?", required=False
    )
    version = versions.current_version(evaluation)
    likert = [q for q in version.content["questions"] if q["kind"] == "likert"]
    given = "Start antibiotics within the hour.\nMeasure lactate — twice, in mmol/L <4>."
    responses = {f"q{likert[0]['id']}": ["5"], f"q{likert[1]['id']}": ["2"], f"q{change.pk}": [given]}

    response = submit(signed_in, enrollment, evaluation, responses=responses)

    assert response.status_code == 302
    stored = {a.question_pk: a for a in Answer.objects.filter(attempt__enrollment=enrollment)}
    assert (stored[likert[0]["id"]].value, stored[likert[1]["id"]].value) == (5, 2)
    assert stored[change.pk].text == given
    assert stored[change.pk].question_key == change.key
    (recorded,) = Attempt.objects.filter(enrollment=enrollment)
    assert recorded.score is None and recorded.passed is None
    result = page_text(signed_in.get(response["Location"]))
    assert "Thank you: your evaluation is recorded." in result
    assert "5 · Strongly agree" in result and "2 · Disagree" in result
    assert "Measure lactate — twice, in mmol/L <4>." in result
    again = signed_in.get(take_url(enrollment, "evaluation"))
    assert "You have completed this evaluation." in page_text(again)
    assert submit(signed_in, enrollment, evaluation, responses=responses).status_code == 400
    assert Attempt.objects.filter(enrollment=enrollment).count() == 1


def test_the_pre_test_is_refused_after_the_post_test_and_its_answers_wait_for_the_post_test(
    signed_in, enrollment, activity, post_test
):
    pre_test = make_assessment(activity, "pre_test", questions=4)
    taken = submit(signed_in, enrollment, pre_test, right=1)
    held = page_text(signed_in.get(taken["Location"]))

    assert "Score 25 % (1 of 4 correct)" in held
    assert "The correct answers and explanations are shown once you have finished the post-test" in held
    assert "Because of reason" not in held

    attempt(enrollment, post_test, right=4)
    shown = page_text(signed_in.get(taken["Location"]))
    refused = signed_in.get(take_url(enrollment, "pre_test"))

    assert "Because of reason 1." in shown
    assert "You have taken this pre-test." in page_text(refused)


def test_a_pre_test_not_taken_before_the_post_test_is_closed(signed_in, enrollment, activity, post_test):
    pre_test = make_assessment(activity, "pre_test", questions=4)
    attempt(enrollment, post_test, right=1)

    response = signed_in.get(take_url(enrollment, "pre_test"))

    assert "The pre-test is taken before the post-test." in page_text(response)
    assert submit(signed_in, enrollment, pre_test, right=4).status_code == 400
    assert not Attempt.objects.filter(assessment=pre_test).exists()


def test_without_feedback_the_result_shows_only_the_score(signed_in, enrollment, activity):
    test = make_assessment(activity, "post_test", questions=2, show_feedback=False)

    response = submit(signed_in, enrollment, test, right=1)

    text = page_text(signed_in.get(response["Location"]))
    assert "Score 50 % (1 of 2 correct)" in text
    assert "The provider does not show the correct answers for this test." in text
    assert "Because of reason" not in text and "Right answer 2" not in text


def test_shuffled_questions_are_shown_and_reviewed_in_the_attempts_own_order(signed_in, enrollment, activity):
    test = make_assessment(activity, "post_test", questions=8, shuffle=True, max_attempts=None)

    def order(response):
        return re.findall(r"Question \d+ (Question \d+)\?", page_text(response))

    first = order(signed_in.get(take_url(enrollment)))
    response = submit(signed_in, enrollment, test, right=0)
    reviewed = re.findall(
        r"Question \d+ Wrong (Question \d+)\?", page_text(signed_in.get(response["Location"]))
    )
    second = order(signed_in.get(take_url(enrollment)))

    assert sorted(first) == sorted(f"Question {n}" for n in range(1, 9))
    assert first != [f"Question {n}" for n in range(1, 9)] or second != first
    assert reviewed == first


def test_an_attempt_is_scored_on_the_version_the_learner_was_shown(signed_in, enrollment, post_test):
    shown = versions.current_version(post_test)
    Question.objects.filter(assessment=post_test).update(text="Edited while the learner was answering?")
    data = answers(shown, right=4)

    response = signed_in.post(take_url(enrollment), {**data, "version": str(shown.pk)})

    assert response.status_code == 302
    recorded = Attempt.objects.get(enrollment=enrollment)
    assert recorded.version_id == shown.pk and recorded.passed is True
    assert "Question 1?" in page_text(signed_in.get(response["Location"]))


# Bad input: a 400 naming the question, the answers kept, nothing written


def _first_field(version):
    return f"q{version.content['questions'][0]['id']}"


def unknown_choice(version, data):
    data[_first_field(version)] = ["999999"]


def not_a_number(version, data):
    data[_first_field(version)] = ["first"]


def another_scripts_digit(version, data):
    data[_first_field(version)] = ["١"]


def two_answers_to_a_single_choice(version, data):
    data[_first_field(version)] = [str(c["id"]) for c in version.content["questions"][0]["choices"][:2]]


def missing(version, data):
    del data[_first_field(version)]


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (unknown_choice, "Choose from the answers given."),
        (not_a_number, "Choose from the answers given."),
        (another_scripts_digit, "Choose from the answers given."),
        (two_answers_to_a_single_choice, "Choose one answer."),
        (missing, "Answer this question."),
    ],
)
def test_bad_answers_are_refused_naming_the_question_and_nothing_is_written(
    signed_in, enrollment, post_test, spoil, message
):
    version = versions.current_version(post_test)
    data = answers(version, right=4)
    kept_field = f"q{version.content['questions'][1]['id']}"
    spoil(version, data)

    response = signed_in.post(take_url(enrollment), {**data, "version": str(version.pk)})

    assert response.status_code == 400
    assert question_errors(response) == {_first_field(version): message}
    assert f"Question 1 : {message}" in page_text(response)  # the list of errors links each question
    assert checked_values(response, kept_field) == data[kept_field]
    assert not Attempt.objects.exists() and not Answer.objects.exists()
    assert not AuditEntry.objects.filter(action="attempt.submitted").exists()


def test_a_likert_value_outside_1_to_5_is_refused(signed_in, enrollment, activity):
    evaluation = make_assessment(activity, "evaluation", questions=2)
    version = versions.current_version(evaluation)
    data = answers(version, likert=4)
    field = _first_field(version)
    data[field] = ["6"]

    response = signed_in.post(take_url(enrollment, "evaluation"), {**data, "version": str(version.pk)})

    assert response.status_code == 400
    assert question_errors(response) == {field: "Choose a value from 1 to 5."}
    assert not Attempt.objects.exists()


def test_a_huge_free_text_answer_is_refused_and_kept_on_the_page(signed_in, enrollment, activity):
    evaluation = make_assessment(activity, "evaluation", questions=1)
    text = Question.objects.create(assessment=evaluation, position=9, kind="free_text", text="Barriers?")
    version = versions.current_version(evaluation)
    data = answers(version, likert=3)
    data[f"q{text.pk}"] = ["x" * 5001]

    response = signed_in.post(take_url(enrollment, "evaluation"), {**data, "version": str(version.pk)})

    assert response.status_code == 400
    assert question_errors(response) == {f"q{text.pk}": "Keep the answer under 5000 characters."}
    assert "x" * 5001 in response.content.decode()
    assert not Attempt.objects.exists() and not Answer.objects.exists()


@pytest.mark.parametrize("version_value", ["other", "", "abc", "-1", "99999999999999999999", "²", "١"])
def test_a_version_of_another_assessment_or_none_is_refused(
    signed_in, enrollment, post_test, activity_b, version_value
):
    other = versions.current_version(make_assessment(activity_b, "post_test"))
    version = versions.current_version(post_test)
    data = answers(version, right=4)
    sent = str(other.pk) if version_value == "other" else version_value

    response = signed_in.post(take_url(enrollment), {**data, "version": sent})

    assert response.status_code == 400
    assert "This page was out of date: answer the questions again." in page_text(response)
    assert f'name="version" value="{version.pk}"' in response.content.decode()
    assert not Attempt.objects.exists() and not Answer.objects.exists()


def test_an_assessment_without_questions_or_of_another_kind_is_not_found(signed_in, enrollment, activity):
    Assessment.objects.create(provider=activity.provider, activity=activity, kind="evaluation", title="Empty")

    assert signed_in.get(take_url(enrollment, "evaluation")).status_code == 404
    assert signed_in.get(take_url(enrollment, "post_test")).status_code == 404
    assert signed_in.get(f"/me/enrollments/{enrollment.public_id}/quiz/").status_code == 404


def test_after_the_claim_the_tests_are_closed(signed_in, enrollment, activity):
    evaluation = make_assessment(activity, "evaluation", questions=2, required_for="nothing")
    services.claim_credit(enrollment=enrollment, amounts={"ama_pra_1": Decimal("1.50")}, attested=True)

    response = signed_in.get(take_url(enrollment, "evaluation"))

    assert "You have claimed credit for this activity; its assessments are closed." in page_text(response)
    assert submit(signed_in, enrollment, evaluation).status_code == 400
    assert not Attempt.objects.exists()


# Two tabs, one last attempt


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_tabs_submitting_the_last_attempt_at_once_record_one(physician, activity):
    enrollment = services.enroll(learner=physician, activity=activity)[0]
    test = make_assessment(activity, "post_test", questions=4, max_attempts=2)
    attempt(enrollment, test, right=1)
    version = versions.current_version(test)
    data = {**answers(version, right=2), "version": str(version.pk)}
    clients = [Client() for _ in range(2)]
    for tab in clients:
        tab.force_login(physician)
    barrier = threading.Barrier(2)
    statuses, unexpected = [], []

    def run(tab):
        try:
            barrier.wait()
            statuses.append(tab.post(take_url(enrollment), data).status_code)
        except Exception as exc:  # a deadlock or integrity error would land here and fail the test
            unexpected.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(tab,)) for tab in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert sorted(statuses) == [302, 400]
    assert list(
        Attempt.objects.filter(enrollment=enrollment).order_by("number").values_list("number", flat=True)
    ) == [
        1,
        2,
    ]
    assert Answer.objects.filter(attempt__number=2).count() == 4
    assert AuditEntry.objects.filter(action="attempt.submitted").count() == 2


def test_a_pre_test_never_gives_away_the_answers_a_post_test_keeps_to_itself(signed_in, enrollment, activity):
    post_test = make_assessment(activity, "post_test", questions=4, max_attempts=1, show_feedback=False)
    pre_test = make_assessment(activity, "pre_test", questions=4)
    taken = submit(signed_in, enrollment, pre_test, right=1)
    attempt(enrollment, post_test, right=1)  # failed, and no attempt left: the post-test is over

    text = page_text(signed_in.get(taken["Location"]))
    assert "Score 25 % (1 of 4 correct)" in text
    assert "The provider does not show the correct answers for this test." in text
    assert "Because of reason" not in text and "Right answer 2" not in text


def test_a_pre_test_holds_its_answers_while_the_post_test_has_no_questions_yet(
    signed_in, enrollment, activity
):
    make_assessment(activity, "post_test", questions=0)
    pre_test = make_assessment(activity, "pre_test", questions=4)
    taken = submit(signed_in, enrollment, pre_test, right=1)
    text = page_text(signed_in.get(taken["Location"]))
    assert "shown once you have finished the post-test" in text and "Because of reason" not in text


def test_a_result_states_the_passing_score_it_was_judged_on(signed_in, enrollment, activity):
    test = make_assessment(activity, "post_test", questions=4, passing_score=50)
    taken = submit(signed_in, enrollment, test, right=2)
    test.passing_score = 100
    test.save()
    text = page_text(signed_in.get(taken["Location"]))
    assert "Passed (50 % needed)" in text
