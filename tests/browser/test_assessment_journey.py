"""A learner earns credit through a real browser: enrolls, fails the post-test once, passes it, completes the
evaluation, claims the credit and receives the certificate through a real SMTP server. axe-core checks the
take page, the result page, the evaluation, the steps on /me/ and on the activity page, and the take page
at a phone's width once.

Transactional (the live server runs in another thread and must see committed rows), with
``serialized_rollback`` as in test_learner_journey.py.
"""

import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from assessments.models import Question
from tests.factories import ActivityFactory, ProviderFactory, make_assessment
from tests.helpers import make_learner

TITLE = "Sepsis in the first hour: bundles that save lives"
AMA = "AMA PRA Category 1 Credit™"
PHONE = {"width": 375, "height": 740}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def journey(transactional_db, learner_a):
    """An activity with a post-test (four questions, 70 % to pass, two attempts, feedback on) and an
    evaluation (two Likert items and a free-text question), and a physician's session, made before the
    browser starts."""
    provider = ProviderFactory(name="Northwind Critical Care Education")
    activity = ActivityFactory(provider=provider, title=TITLE, credits={"ama_pra_1": "1.50"})
    make_assessment(activity, "post_test", questions=4, passing_score=70, max_attempts=2)
    evaluation = make_assessment(activity, "evaluation", questions=2)
    Question.objects.create(
        assessment=evaluation, position=9, kind="free_text", text="What will you change in your practice?"
    )
    make_learner(learner_a, first_name="Ada", last_name="Okafor")
    client = Client()
    client.force_login(learner_a)
    return {"activity": activity, "session": client.cookies["sessionid"].value, "email": learner_a.email}


def answer_post_test(page, *, right: int) -> None:
    """Answer the four questions, the first ``right`` correctly."""
    for n in range(1, 5):
        question = page.get_by_role("group", name=re.compile(rf"^Question {n} Question {n}\?"))
        question.get_by_label(f"Right answer {n}" if n <= right else "Wrong B").check()


def steps_text(page, name: str) -> list[str]:
    return [
        " ".join(t.split())
        for t in page.get_by_role("list", name=name).get_by_role("listitem").all_text_contents()
    ]


# ``journey`` before ``page``: the rows are written before Playwright starts (see tests/browser/conftest.py).
def test_a_learner_fails_the_post_test_passes_evaluates_and_claims(
    journey, smtp_sink, live_server, page, assert_accessible
):
    page.context.add_cookies([{"name": "sessionid", "value": journey["session"], "url": live_server.url}])
    page.goto(journey["activity"].get_absolute_url())
    assert page.get_by_role("heading", level=1, name=TITLE).is_visible()
    assert steps_text(page, "Steps to credit")[1].startswith("To do: Post-test 70 % needed to pass")
    page.get_by_role("button", name="Enroll").click()

    # Enrolled: the claim page names what is unmet and has no claim form yet.
    page.wait_for_url(re.compile(r"/me/enrollments/[0-9a-f-]+/$"))
    unmet = page.get_by_role("status").filter(has_text="once you have met this activity's requirements")
    assert unmet.get_by_text("Pass the post-test (70 % needed; 2 attempts left).").is_visible()
    assert page.get_by_role("button", name="Claim credit").count() == 0

    # The activity page shows where the learner stands, and so does /me/.
    page.goto(journey["activity"].get_absolute_url())
    steps = page.get_by_role("list", name="Your steps to credit")
    assert steps.locator('[aria-current="step"]').text_content().split()[:3] == ["Next:", "Post-test", "70"]
    assert_accessible(page, "the activity page's steps")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    card = page.get_by_role("list", name=f"Your steps to credit in {TITLE}")
    assert card.get_by_role("link", name="Take the post-test").is_visible()
    assert_accessible(page, "the steps on /me/")
    card.get_by_role("link", name="Take the post-test").click()

    # The take page: one group per question, the passing score and the attempts stated.
    assert page.get_by_role("heading", level=1, name="Post-test").is_visible()
    assert page.get_by_text("70 % of the scored questions answered correctly").is_visible()
    assert page.get_by_text("Attempt 1; 2 attempts left, this one included").is_visible()
    assert page.get_by_role("group").count() == 4
    assert_accessible(page, "the post-test")
    page.get_by_role("button", name="Submit your answers").click()  # nothing answered
    alert = page.get_by_role("alert")
    assert alert.get_by_role("heading", name="Your answers were not recorded").is_visible()
    assert alert.get_by_role("link", name="Question 1").is_visible()
    assert_accessible(page, "the post-test with its errors")

    answer_post_test(page, right=2)
    page.get_by_role("button", name="Submit your answers").click()
    page.wait_for_url(re.compile(r"/post-test/attempts/1/$"))
    outcome = page.get_by_role("region", name="Result")
    assert outcome.get_by_text("Not passed (70 % needed)").is_visible()
    assert outcome.get_by_text("50 %").is_visible()
    review = page.get_by_role("region", name="Your answers, with the correct ones")
    assert review.get_by_text("Because of reason 3.").is_visible()
    assert_accessible(page, "the failed attempt's result")
    outcome.get_by_role("link", name="Try the post-test again").click()

    assert page.get_by_text("Attempt 2; this is your last attempt").is_visible()
    answer_post_test(page, right=4)
    page.get_by_role("button", name="Submit your answers").click()
    page.wait_for_url(re.compile(r"/post-test/attempts/2/$"))
    outcome = page.get_by_role("region", name="Result")
    assert outcome.get_by_text("Passed (70 % needed)").is_visible()
    assert_accessible(page, "the passed attempt's result")
    outcome.get_by_role("link", name="Complete the evaluation").click()

    # The evaluation, at a phone's width: the Likert scale by keyboard, the free text typed.
    page.set_viewport_size(PHONE)
    assert page.get_by_role("heading", level=1, name="Evaluation").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page, "the evaluation at a phone's width")
    first = page.get_by_role("group", name=re.compile(r"^Question 1 Statement 1\."))
    first.get_by_label("5 · Strongly agree").focus()
    page.keyboard.press("Space")
    assert first.get_by_label("5 · Strongly agree").is_checked()
    page.get_by_role("group", name=re.compile(r"^Question 2 ")).get_by_label("4 · Agree").check()
    page.get_by_label("Your answer to question 3").fill("Lactate on arrival, antibiotics within the hour.")
    page.get_by_role("button", name="Submit the evaluation").click()
    page.wait_for_url(re.compile(r"/evaluation/attempts/1/$"))
    assert page.get_by_text("Thank you: your evaluation is recorded.").is_visible()
    assert page.get_by_text("Lactate on arrival, antibiotics within the hour.").is_visible()
    assert_accessible(page, "the evaluation's result at a phone's width")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Every requirement met: the claim.
    page.get_by_role("region", name="Result").get_by_role("link", name="Claim credit").click()
    page.wait_for_url(re.compile(r"/me/enrollments/[0-9a-f-]+/$"))
    page.get_by_label(AMA).fill("1.5")
    page.get_by_label(re.compile(r"^I attest that I am claiming only the credit")).check()
    page.get_by_role("button", name="Claim credit").click()
    page.wait_for_url(re.compile(r"/me/$"))
    assert page.get_by_role("status").get_by_text("Your credit is recorded.").is_visible()

    # The certificate arrived by email, PDF attached; its completion date is the day the evaluation was done.
    messages = smtp_sink.messages
    assert len(messages) == 1, [m["Subject"] for m in messages]
    certificate = messages[0]
    assert certificate["To"] == journey["email"] and TITLE in certificate["Subject"]
    (attachment,) = list(certificate.iter_attachments())
    text = " ".join(PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text().split())
    assert "Ada Okafor" in text and f"1.50 {AMA}" in text
    completed = page.get_by_role("region", name="Completed")
    assert completed.get_by_role(
        "link", name=f"Download certificate {certificate['X-CME-Certificate']}"
    ).is_visible()
    completed.get_by_role("link", name="Your tests and evaluation").click()
    assert page.get_by_role("heading", level=1, name="Your attempts").is_visible()
    assert page.get_by_role("link", name="See attempt 2 at the Post-test").is_visible()
    assert_accessible(page, "the learner's attempts")
