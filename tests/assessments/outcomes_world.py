"""A hand-counted activity for the outcomes tests: provider A's activity with a pre-test and a post-test of
the same four questions (the first choice of each is right), an evaluation of two Likert items, one choice
item and one free-text item, and four learners, everything submitted through the attempt service.

                 pre-test          post-test (75 % passes, 2 attempts)        evaluation
  physician      1 of 4 (25 %)     2 of 4 (50 %, fail), then 4 of 4 (100 %)   Likert 5, "Yes", "Great dosing tables."
  nurse          2 of 4 (50 %)     3 of 4 (75 %, pass)                        Likert 3, "No",  "Too long for a lunch break."
  pharmacist     —                 1 of 4 (25 %, fail)                        —
  physician_b    (enrolled only)

``right=k`` answers the first k questions correctly and picks "Wrong A" for the rest. The physician then
claims credit.
"""

from dataclasses import dataclass

from assessments.models import Assessment, Choice, Question
from assessments.services import attempts, versions
from learners import services
from tests.factories import make_assessment
from tests.helpers import attempt, complete


@dataclass
class World:
    activity: object
    pre: Assessment
    post: Assessment
    evaluation: Assessment


def make_evaluation(activity) -> Assessment:
    evaluation = make_assessment(activity, "evaluation", questions=2)
    change = Question.objects.create(
        assessment=evaluation, position=3, kind="single", text="Will you change your practice?"
    )
    Choice.objects.create(question=change, position=1, text="Yes")
    Choice.objects.create(question=change, position=2, text="No")
    Question.objects.create(
        assessment=evaluation, position=4, kind="free_text", text="What will you change?", required=False
    )
    return evaluation


def evaluate(enrollment, evaluation: Assessment, *, likert: int, choice: str, text: str):
    version = versions.current_version(evaluation)
    responses = {}
    for question in version.content["questions"]:
        field = attempts.field_name(question)
        if question["kind"] == "likert":
            responses[field] = [str(likert)]
        elif question["kind"] == "single":
            responses[field] = [str(next(c["id"] for c in question["choices"] if c["text"] == choice))]
        else:
            responses[field] = [text]
    return attempts.submit_attempt(
        enrollment=enrollment, assessment=evaluation, version=version, responses=responses
    )


def build(activity, *, physician, nurse, pharmacist, physician_b) -> World:
    pre = make_assessment(activity, "pre_test", questions=4)
    post = make_assessment(activity, "post_test", questions=4, passing_score=75, max_attempts=2)
    evaluation = make_evaluation(activity)
    enrolled = {}
    for user in (physician, nurse, pharmacist, physician_b):
        enrolled[user.pk], _created = services.enroll(learner=user, activity=activity)
    attempt(enrolled[physician.pk], pre, right=1)
    attempt(enrolled[physician.pk], post, right=2)
    attempt(enrolled[physician.pk], post, right=4)
    evaluate(enrolled[physician.pk], evaluation, likert=5, choice="Yes", text="Great dosing tables.")
    attempt(enrolled[nurse.pk], pre, right=2)
    attempt(enrolled[nurse.pk], post, right=3)
    evaluate(enrolled[nurse.pk], evaluation, likert=3, choice="No", text="Too long for a lunch break.")
    attempt(enrolled[pharmacist.pk], post, right=1)
    complete(physician, activity)
    return World(activity, pre, post, evaluation)
