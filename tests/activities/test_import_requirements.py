"""Importing a listing's ``Completion Requirements``: the post-test and evaluation it names are added once, to
an activity that lacks them; what the activity has (and its learners' attempts) is never changed or removed by
a re-import; the report, the command and the JSON API say what each activity has."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from activities.listing import parse_listing
from activities.models import Activity
from activities.services import import_listing, import_listings
from assessments.models import Assessment, Attempt, Question
from assessments.services.requirements import progress
from learners.models import CreditClaim
from learners.services import enroll
from portal.models import AuditEntry
from tests.conftest import SEED
from tests.factories import SpecialtyFactory
from tests.helpers import attempt, complete

pytestmark = pytest.mark.django_db

SEED_TEXT = SEED.read_text(encoding="utf-8")
SEED_SPECIALTIES = [
    "All Practice Areas (e.g. ethics)",
    "General Surgery",
    "Pain Medicine",
    "Surgery of the Spine",
]


def listing_text(requirements: str | None, *, n: int = 1, provider: str = "StatPearls, LLC") -> str:
    """The seed as listing ``n`` of ``provider``, with a Completion Requirements line unless None."""
    text = SEED_TEXT.replace("viewarticle/23719", f"viewarticle/{n}").replace(
        "Provider:StatPearls, LLC", f"Provider:{provider}"
    )
    if requirements is not None:
        text += f"\n- Completion Requirements: {requirements}"
    return text


def imported(requirements: str | None, **kwargs):
    result = import_listing(listing=parse_listing(listing_text(requirements, **kwargs)), source="x.txt")
    assert result.status != "failed", result.errors
    return result


def kinds(activity) -> dict[str, Assessment]:
    return {a.kind: a for a in Assessment.objects.filter(activity=activity)}


def api_assessments(client, activity) -> dict:
    return client.get(f"/api/activities/{activity.slug}/").json()["assessments"]


def test_a_named_post_test_is_added_with_its_score_and_attempts_and_no_questions(client):
    result = imported("Post-test 70 % (3 attempts)")

    activity = result.activity
    post_test = kinds(activity)["post_test"]
    assert set(kinds(activity)) == {"post_test"}
    assert (post_test.passing_score, post_test.max_attempts) == (70, 3)
    assert post_test.provider_id == activity.provider_id
    assert post_test.required_for == "credit"
    assert not post_test.questions.exists()
    assert result.status == "created"
    assert result.changes == ["post-test added"]
    assert result.requirements.describe() == "post-test 70 %, 3 attempts (no questions yet); no evaluation"
    # No questions yet: learners are not offered it, so the API states none.
    assert api_assessments(client, activity) == {"pre_test": False, "post_test": None, "evaluation": False}


def test_a_post_test_without_questions_gates_nothing(physician):
    activity = imported("Post-test 80 %").activity
    Activity.objects.filter(pk=activity.pk).update(end=activity.start.replace(year=2099))
    activity.refresh_from_db()

    enrollment = complete(physician, activity)

    assert CreditClaim.objects.filter(enrollment=enrollment).exists()
    assert progress(enrollment).may_claim()


def test_a_named_evaluation_is_the_starter_evaluation(client):
    result = imported("Evaluation")

    evaluation = kinds(result.activity)["evaluation"]
    questions = list(evaluation.questions.values_list("kind", flat=True))
    assert set(kinds(result.activity)) == {"evaluation"}
    assert len(questions) >= 5 and "likert" in questions and "free_text" in questions
    assert evaluation.provider_id == result.activity.provider_id
    assert result.requirements.describe() == f"no post-test; evaluation ({len(questions)} questions)"
    assert api_assessments(client, result.activity) == {
        "pre_test": False,
        "post_test": None,
        "evaluation": True,
    }


def test_reimporting_the_same_listing_adds_nothing_and_changes_nothing():
    first = imported("Post-test 70 %, Evaluation")
    before = list(Assessment.objects.order_by("pk").values())
    questions, entries = Question.objects.count(), AuditEntry.objects.count()

    again = imported("Post-test 70 %, Evaluation")

    assert again.activity == first.activity
    assert again.status == "unchanged" and again.changes == []
    assert list(Assessment.objects.order_by("pk").values()) == before
    assert Question.objects.count() == questions
    assert AuditEntry.objects.count() == entries
    assert again.requirements.describe() == first.requirements.describe()


def test_a_reimport_keeps_what_staff_wrote_and_learners_did_whatever_the_listing_says(physician):
    activity = imported("Post-test 70 % (2 attempts), Evaluation").activity
    post_test = kinds(activity)["post_test"]
    Assessment.objects.filter(pk=post_test.pk).update(
        passing_score=80, max_attempts=None, title="Staff's test"
    )
    question = Question.objects.create(assessment=post_test, position=1, text="Which drug?", kind="single")
    question.choices.create(position=1, text="Baclofen", is_correct=True)
    question.choices.create(position=2, text="Aspirin", is_correct=False)
    Activity.objects.filter(pk=activity.pk).update(end=activity.start.replace(year=2099))
    enrollment, _ = enroll(learner=physician, activity=Activity.objects.get(pk=activity.pk))
    attempt(enrollment, kinds(activity)["post_test"], right=0)
    kept = list(Assessment.objects.order_by("pk").values())
    attempts = list(Attempt.objects.values())

    for requirements in ("Post-test 60 % (5 attempts)", "Evaluation", "None", None):
        result = imported(requirements)
        assert list(Assessment.objects.order_by("pk").values()) == kept
        assert list(Attempt.objects.values()) == attempts
        assert result.requirements.describe() == (
            "post-test 80 %, unlimited attempts (1 question); evaluation ("
            f"{kinds(activity)['evaluation'].questions.count()} questions)"
        )

    warned = imported("Post-test 60 % (5 attempts)")
    assert warned.warnings == [
        "Completion Requirements: the post-test keeps its passing score of 80 % (the listing says 60 %); "
        "change it in the portal",
        "Completion Requirements: the post-test keeps its attempts allowed, unlimited (the listing says 5); "
        "change them in the portal",
    ]


def test_naming_them_later_adds_them_to_the_existing_activity_and_audits_it():
    activity = imported(None).activity
    assert kinds(activity) == {}

    result = imported("Post-test 75 %, Evaluation")

    assert result.activity == activity
    assert result.status == "updated"
    assert result.changes == ["post-test added", "evaluation added"]
    assert set(kinds(activity)) == {"post_test", "evaluation"}
    entry = AuditEntry.objects.filter(action="activity.updated").get()
    assert entry.data["changed"] == ["post-test added", "evaluation added"]
    assert entry.provider_id == activity.provider_id


def test_a_bad_value_refuses_the_whole_file_and_the_others_land():
    report = import_listings(
        sources=[
            ("bad.txt", listing_text("Post-test 170 %, Evaluation", n=1)),
            ("good.txt", listing_text("Post-test 70 %", n=2)),
        ]
    )

    assert [(r.source, r.status) for r in report.results] == [("bad.txt", "failed"), ("good.txt", "created")]
    assert (
        "bad.txt: Completion Requirements: the post-test's passing score, 170 %, is not between 1 and 100 %"
        in list(report.lines())
    )
    assert list(Activity.objects.values_list("activity_link", flat=True)) == [
        "https://www.statpearls.com/ArticleLibrary/viewarticle/2"
    ]
    assert list(Assessment.objects.values_list("activity__activity_link", "kind")) == [
        ("https://www.statpearls.com/ArticleLibrary/viewarticle/2", "post_test")
    ]


def test_the_command_reports_each_activitys_post_test_and_evaluation(tmp_path):
    (tmp_path / "a.txt").write_text(listing_text("Post-test 70 % (2 attempts), Evaluation", n=1))
    (tmp_path / "b.txt").write_text(listing_text(None, n=2))
    (tmp_path / "c.txt").write_text(listing_text("Evaluation", n=3))
    out = StringIO()

    call_command("import_activities", str(tmp_path), stdout=out)

    lines = out.getvalue().splitlines()
    evaluation_questions = Assessment.objects.filter(kind="evaluation").first().questions.count()
    assert f"{tmp_path / 'a.txt'}: post-test 70 %, 2 attempts (no questions yet); evaluation " in lines[0]
    assert lines[:3] == [
        f"{tmp_path / 'a.txt'}: post-test 70 %, 2 attempts (no questions yet); "
        f"evaluation ({evaluation_questions} questions)",
        f"{tmp_path / 'b.txt'}: no post-test; no evaluation",
        f"{tmp_path / 'c.txt'}: no post-test; evaluation ({evaluation_questions} questions)",
    ]
    assert lines[3] == (
        "Imported 3 files: 3 created, 0 updated, 0 unchanged, 0 failed; "
        "1 with a post-test (1 with no questions yet), 2 with an evaluation."
    )


# --- provider staff importing in the admin -------------------------------------------------------------------


def upload(client, **files: str):
    return client.post(
        reverse("admin:activities_activity_import"),
        {
            "files": [
                SimpleUploadedFile(name, text.encode(), content_type="text/plain")
                for name, text in files.items()
            ]
        },
    )


@pytest.fixture
def catalog_specialties(db):
    return [SpecialtyFactory(name=name) for name in SEED_SPECIALTIES]


def test_an_editor_imports_them_for_their_provider_and_sees_the_report(client, staff_a, catalog_specialties):
    client.force_login(staff_a)

    response = upload(client, **{"a.txt": listing_text("Post-test 70 %", provider="Provider A")})

    activity = Activity.objects.get()
    assert activity.provider.name == "Provider A"
    assert set(kinds(activity)) == {"post_test"}
    assert "Post-test 70 %, unlimited attempts (no questions yet); no evaluation" in response.text
    assert "1 with a post-test (1 with no questions yet), 0 with an evaluation" in response.text


def test_the_mixed_role_user_cannot_import_them_where_they_only_view(client, mixed_role, catalog_specialties):
    client.force_login(mixed_role)

    response = upload(
        client,
        **{
            "b.txt": listing_text("Post-test 70 %, Evaluation", n=1, provider="Provider B"),
            "a.txt": listing_text("Evaluation", n=2, provider="Provider A"),
        },
    )

    assert "b.txt: Provider: Provider B is not one of your providers" in response.text
    assert list(Activity.objects.values_list("provider__name", flat=True)) == ["Provider A"]
    assert list(Assessment.objects.values_list("provider__name", "kind")) == [("Provider A", "evaluation")]
