"""The outcomes report of one activity: every figure on the page and in its CSVs, counted by hand from the
world in ``outcomes_world`` (read its docstring first)."""

import csv
import io
import re

import pytest
from django.core.cache import caches
from django.urls import reverse

from assessments.models import Choice
from assessments.selectors import outcomes_free_text
from assessments.selectors.outcomes import activity_outcomes
from assessments.selectors.outcomes_catalog import catalog_of
from learners import services
from tests.assessments.outcomes_world import build, evaluate
from tests.factories import UserFactory
from tests.helpers import attempt, complete, make_learner, page_text


@pytest.fixture(autouse=True)
def _fresh_fragments():
    """The report keeps its answer counts in the per-process ``fragments`` cache; each test starts cold."""
    caches["fragments"].clear()


@pytest.fixture
def world(activity_a, physician, nurse, pharmacist, physician_b):
    return build(activity_a, physician=physician, nurse=nurse, pharmacist=pharmacist, physician_b=physician_b)


def url(activity) -> str:
    return reverse("admin:assessments_outcomes", args=[activity.pk])


def csv_of(client, activity, table: str, **params) -> list[list[str]]:
    response = client.get(
        reverse("admin:assessments_outcomes_csv", args=[activity.pk]), {"table": table, **params}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def figure(html: str, container: str, name: str) -> str:
    """The text of ``data-figure="name"`` inside the element whose attribute is ``container``."""
    block = html.split(container, 1)[1]
    match = re.search(rf'data-figure="{name}">(.*?)</', block, re.S)
    assert match, f"{name} not found after {container}"
    return " ".join(match.group(1).split())


def test_figures_of_the_hand_counted_world(world):
    report = activity_outcomes(activity=world.activity)

    assert [(s.code, s.learners, s.share) for s in report.funnel.steps] == [
        ("enrolled", 4, 100),
        ("pre_test", 2, 50),
        ("post_test_passed", 2, 50),
        ("evaluated", 2, 50),
        ("claimed", 1, 25),
    ]
    rates = report.pass_rates
    assert (rates.attempted, rates.passed, rates.first_attempt_passed, rates.attempts) == (3, 2, 1, 4)
    assert (str(rates.pass_rate), str(rates.first_attempt_rate)) == ("66.7", "33.3")
    # Best scores: the physician's 100, the nurse's 75, the pharmacist's 25.
    assert {b.label: b.learners for b in report.scores if b.learners} == {"90–100": 1, "70–79": 1, "20–29": 1}

    assert [(q.answered, q.correct, str(q.share_correct)) for q in report.questions] == [
        (4, 4, "100.0"),
        (4, 3, "75.0"),
        (4, 2, "50.0"),
        (4, 1, "25.0"),
    ]
    q4 = report.questions[3]
    assert [(c.text, c.correct, c.picked) for c in q4.choices] == [
        ("Right answer 4", True, 1),
        ("Wrong A", False, 3),
        ("Wrong B", False, 0),
        ("Wrong C", False, 0),
    ]

    knowledge = report.knowledge
    assert knowledge.matched == 2  # the pharmacist took no pre-test
    assert (str(knowledge.pre_mean), str(knowledge.post_mean), str(knowledge.change)) == (
        "37.5",
        "87.5",
        "50.0",
    )
    assert (knowledge.improved, knowledge.unchanged, knowledge.declined) == (2, 0, 0)
    assert [(str(q.pre_share), str(q.post_share), str(q.change)) for q in knowledge.questions] == [
        ("100.0", "100.0", "0.0"),
        ("50.0", "100.0", "50.0"),
        ("0.0", "100.0", "100.0"),
        ("0.0", "50.0", "50.0"),
    ]

    likert, _second, choice, free = report.evaluation_items
    assert [count for _value, _label, count in likert.likert] == [0, 0, 1, 0, 1]
    assert str(likert.mean) == "4.00"
    assert [(c.text, c.picked) for c in choice.choices] == [("Yes", 1), ("No", 1)]
    assert free.is_free_text and free.answered == 2


def test_the_page_shows_the_figures_and_charts(client, viewer_a, world):
    client.force_login(viewer_a)
    response = client.get(url(world.activity))
    assert response.status_code == 200
    html = response.content.decode()
    assert figure(html, 'data-step="post_test_passed"', "learners") == "2"
    assert figure(html, 'data-step="claimed"', "share") == "25.0%"
    assert figure(html, 'id="pass-rates"', "pass_rate") == "66.7%"
    assert figure(html, 'id="pass-rates"', "first_attempt_rate") == "33.3%"
    assert figure(html, 'id="knowledge-totals"', "change") == "+50.0 points"
    assert figure(html, 'id="knowledge-table"', "change") == "+0.0"
    assert figure(html, 'class="dashboard-table question-table" data-question="4"', "share_correct") == (
        "25.0% correct (1 of 4)"
    )
    # Charts are server-rendered SVG that read out their values, with a table beside each.
    for chart in ("funnel-chart", "scores-chart", "knowledge-chart", "likert-chart-1"):
        assert f'id="{chart}"' in html
    assert "<desc" in html and "Pre-test % correct: Question 1 100" in html
    text = page_text(response)
    assert "Great dosing tables." in text and "Too long for a lunch break." in text
    assert "2 answers" in text


def test_every_csv_matches_the_page(client, viewer_a, world):
    client.force_login(viewer_a)
    funnel = csv_of(client, world.activity, "funnel")
    assert funnel[0] == ["Step", "Learners", "Share of enrolled (%)"]
    assert ["Passed the post-test", "2", "50.0"] in funnel
    assert ["Post-test pass rate (%)", "66.7", ""] in funnel
    assert ["First-attempt pass rate (%)", "33.3", ""] in funnel

    scores = csv_of(client, world.activity, "scores")
    assert ["90–100", "1"] in scores and ["70–79", "1"] in scores and ["0–9", "0"] in scores

    questions = csv_of(client, world.activity, "questions")
    assert ["4", "Question 4?", "4", "1", "25.0", "Wrong A", "No", "3", "75.0"] in questions
    assert ["4", "Question 4?", "4", "1", "25.0", "Right answer 4", "Yes", "1", "25.0"] in questions
    assert len(questions) == 1 + 4 * 4

    knowledge = csv_of(client, world.activity, "knowledge")
    assert knowledge[1] == [
        "All questions",
        "Mean score of 2 matched learners",
        "2",
        "37.5",
        "2",
        "87.5",
        "50.0",
    ]
    assert knowledge[4] == ["3", "Question 3?", "2", "0.0", "2", "100.0", "100.0"]

    evaluation = csv_of(client, world.activity, "evaluation")
    assert ["1", "Statement 1.", "likert", "2", "5 · Strongly agree", "1", "4.00"] in evaluation
    assert ["3", "Will you change your practice?", "single", "2", "Yes", "1", ""] in evaluation

    free_text = csv_of(client, world.activity, "free_text")
    assert sorted(row[3] for row in free_text[1:]) == ["Great dosing tables.", "Too long for a lunch break."]
    assert {row[2] for row in free_text[1:]} == {"What will you change?"}


def test_free_text_search_narrows_the_page_and_its_csv(client, viewer_a, world):
    client.force_login(viewer_a)
    text = page_text(client.get(url(world.activity), {"q": "LUNCH"}))
    assert "Too long for a lunch break." in text
    assert "Great dosing tables." not in text
    assert "1 answer containing “LUNCH”" in text
    rows = csv_of(client, world.activity, "free_text", q="lunch")
    assert [row[3] for row in rows[1:]] == ["Too long for a lunch break."]

    text = page_text(client.get(url(world.activity), {"q": "nothing like this"}))
    assert "No answer contains “nothing like this”." in text


def test_free_text_is_paginated(client, viewer_a, world, monkeypatch):
    monkeypatch.setattr(outcomes_free_text, "FREE_TEXT_PAGE", 1)
    client.force_login(viewer_a)
    first = page_text(client.get(url(world.activity)))
    second = page_text(client.get(url(world.activity), {"page": "2"}))
    beyond = page_text(client.get(url(world.activity), {"page": "x"}))
    # Newest first: the nurse evaluated after the physician.
    assert "Too long for a lunch break." in first and "Great dosing tables." not in first
    assert "Great dosing tables." in second and "Page 2 of 2" in second
    assert "Too long for a lunch break." in beyond  # a page that is not a number is the first


def test_bad_parameters_are_a_400_naming_them(client, viewer_a, world):
    client.force_login(viewer_a)
    export = reverse("admin:assessments_outcomes_csv", args=[world.activity.pk])
    for params in ({}, {"table": "everything"}):
        assert client.get(export, params).status_code == 400
    assert client.get(url(world.activity), {"q": "x" * 201}).status_code == 400
    assert client.get(export, {"table": "free_text", "q": "x" * 201}).status_code == 400


def test_csv_cells_are_spreadsheet_safe(client, viewer_a, world):
    learner = make_learner(UserFactory(), first_name="Eve", last_name="Formula")
    enrollment, _ = services.enroll(learner=learner, activity=world.activity)
    evaluate(enrollment, world.evaluation, likert=4, choice="Yes", text='=HYPERLINK("http://x")')
    client.force_login(viewer_a)
    rows = csv_of(client, world.activity, "free_text")
    assert '\'=HYPERLINK("http://x")' in [row[3] for row in rows]


def test_labels_follow_the_newest_version_and_old_picks_stay_counted(world):
    """After learners took the post-test, its editor rewords a wrong answer of question 4 and replaces
    another with a new choice of the same text: the difficulty table shows the new words, with the picks
    made on the old version counted against them."""
    q4 = world.post.questions.get(position=4)
    wrong_a = q4.choices.get(text="Wrong A")
    wrong_a.text = "Wrong A, reworded"
    wrong_a.save()
    q4.choices.filter(text="Wrong B").delete()
    Choice.objects.create(question=q4, position=3, text="Wrong B")
    q4.text = "Question 4, reworded?"
    q4.save()
    enrollment = world.activity.enrollments.get(learner__email="learner-b@example.com")
    attempt(enrollment, world.post, right=4)  # on the new version

    report = activity_outcomes(activity=world.activity)
    q4_stats = report.questions[3]
    assert q4_stats.text == "Question 4, reworded?"
    assert [(c.text, c.picked, c.removed) for c in q4_stats.choices] == [
        ("Right answer 4", 2, False),
        ("Wrong A, reworded", 3, False),
        ("Wrong B", 0, False),  # the old "Wrong B", matched by its text
        ("Wrong C", 0, False),
    ]
    assert world.post.versions.count() == 2


def test_a_choice_only_in_an_old_version_is_listed_as_removed():
    class Version:
        def __init__(self, number, choices):
            self.number = number
            self.content = {
                "questions": [
                    {"id": number, "key": "k", "text": f"v{number}", "kind": "single", "choices": choices}
                ]
            }

    old = Version(
        1, [{"id": 1, "text": "Right", "correct": True}, {"id": 2, "text": "Gone", "correct": False}]
    )
    new = Version(
        2, [{"id": 1, "text": "Right!", "correct": True}, {"id": 3, "text": "  right ", "correct": False}]
    )
    catalog = catalog_of([old, new])
    (question,) = catalog.questions
    assert question["text"] == "v2"
    assert [(c["text"], c["removed"]) for c in question["choices"]] == [
        ("Right!", False),
        ("  right ", False),
        ("Gone", True),
    ]
    assert catalog.slots == {("k", 1): 0, ("k", 3): 1, ("k", 2): 2}
    assert catalog.keys == {1: "k", 2: "k"}


def test_an_activity_without_assessments_shows_its_funnel_only(client, viewer_a, activity_a, physician):
    complete(physician, activity_a)
    client.force_login(viewer_a)
    response = client.get(url(activity_a))
    assert response.status_code == 200
    text = page_text(response)
    assert "This activity has no pre-test, post-test or evaluation" in text
    report = activity_outcomes(activity=activity_a)
    assert [(s.code, s.learners) for s in report.funnel.steps] == [("enrolled", 1), ("claimed", 1)]
    assert report.knowledge is None and report.pass_rates is None
    assert csv_of(client, activity_a, "knowledge") == [
        ["Question", "Text", "Pre-test answers", "Pre-test correct (%)", "Post-test answers",
         "Post-test correct (%)", "Change (points)"]
    ]  # fmt: skip
