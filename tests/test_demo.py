from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from portal.models import User
from tests.conftest import SEED

pytestmark = pytest.mark.django_db


def test_demo_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("demo")
    assert not User.objects.exists()


def test_demo_accounts_log_in_and_see_what_their_role_allows(settings, client, capsys):
    settings.DEBUG = True
    call_command("import_activities", str(SEED))
    call_command("demo")
    call_command("demo")  # a second run is harmless
    out = capsys.readouterr().out
    assert "accreditor@example.com  password: demo-accreditor-2026" in out

    assert client.login(username="staff@statpearls.example.com", password="demo-provider-2026")
    changelist = client.get(reverse("admin:activities_activity_changelist"))
    assert "Chronic pain is a complex condition" in changelist.text
    client.logout()

    assert client.login(username="accreditor@example.com", password="demo-accreditor-2026")
    assert client.get(reverse("admin:activities_membership_add")).status_code == 200
    client.logout()

    assert client.login(username="learner@example.com", password="demo-learner-2026")
    assert client.get(reverse("admin:index")).status_code == 302  # learners are not staff
    assert User.objects.count() == 3


def test_demo_prints_the_address_make_run_serves(settings, capsys):
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:8000"

    # as `make run HOST=localhost PORT=9000` calls it
    call_command("demo", "--host", "localhost", "--port", "9000")
    call_command("demo", "--port", "8001")
    call_command("demo", "--host", "::1", "--port", "8002")
    call_command("demo")

    portal_lines = [line.split() for line in capsys.readouterr().out.splitlines() if "Portal:" in line]
    assert [(words[1], words[3]) for words in portal_lines] == [
        ("http://localhost:9000/", "http://localhost:9000/admin/"),
        ("http://127.0.0.1:8001/", "http://127.0.0.1:8001/admin/"),
        ("http://[::1]:8002/", "http://[::1]:8002/admin/"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/admin/"),  # no address given: SITE_URL
    ]


# --- the demo's courses and the demo learner's history -------------------------------------------------------


def demo_rows() -> dict[str, int]:
    from activities.models import Activity
    from assessments.models import Answer, Assessment, AssessmentVersion, Attempt, Choice, Question
    from learners.models import Certificate, CreditClaim, Enrollment
    from portal.models import AuditEntry

    models = [Activity, Assessment, Question, Choice, AssessmentVersion, Attempt, Answer, Enrollment]
    models += [CreditClaim, Certificate, AuditEntry, User]
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def demo(settings, capsys):
    settings.DEBUG = True
    call_command("import_activities", str(SEED))
    call_command("demo")
    return capsys.readouterr().out


def test_demo_courses_have_a_pre_test_a_post_test_and_the_starter_evaluation(demo, client):
    from activities import demo_courses
    from activities.models import Activity
    from assessments.models import Assessment

    for course in demo_courses.DEMO_COURSES:
        activity = Activity.objects.get(activity_link=demo_courses.DEMO_LINK + course.key)
        assert activity.title == course.title
        assert activity.provider.name == "StatPearls, LLC"  # the demo staff member's provider
        tests = {a.kind: a for a in Assessment.objects.filter(activity=activity)}
        assert set(tests) == {"pre_test", "post_test", "evaluation"}
        post_test = tests["post_test"]
        assert (post_test.passing_score, post_test.max_attempts) == (70, 3)
        questions = list(post_test.questions.all())
        assert [q.text for q in questions] == [q.text for q in course.questions]
        assert all(q.explanation for q in questions)
        assert all(sum(c.is_correct for c in q.choices.all()) == 1 for q in questions)
        assert list(tests["pre_test"].questions.values_list("key", flat=True)) == [q.key for q in questions]
        assert tests["pre_test"].required_for == "nothing"
        evaluation_items = list(tests["evaluation"].questions.values_list("kind", flat=True))
        assert "likert" in evaluation_items and "free_text" in evaluation_items

        api = client.get(f"/api/activities/{activity.slug}/").json()["assessments"]
        assert api == {
            "pre_test": True,
            "post_test": {"passing_score": 70, "attempts_allowed": 3},
            "evaluation": True,
        }


def test_the_demo_learner_has_completed_one_course_and_is_partway_through_another(demo, client):
    from activities import demo_courses
    from assessments.services.requirements import progress
    from learners.models import Certificate, Enrollment

    learner = User.objects.get(email="learner@example.com")
    enrollments = {e.activity.activity_link: e for e in Enrollment.objects.filter(learner=learner)}
    rounds = enrollments.pop(demo_courses.DEMO_LINK + "grand-rounds")
    done_course, partway_course, fresh_course = demo_courses.DEMO_COURSES
    assert set(enrollments) == {demo_courses.DEMO_LINK + c.key for c in (done_course, partway_course)}
    # The series: three sessions attended, the first two claimed one by one (a certificate of two credits).
    assert rounds.attendances.count() == 3
    assert rounds.claim.claimed_sessions.count() == 2
    assert rounds.claim.credits.get().amount == 2
    assert Certificate.objects.get(enrollment=rounds).versions.count() == 1

    done = enrollments[demo_courses.DEMO_LINK + done_course.key]
    standing = progress(done)
    assert done.status == Enrollment.Status.COMPLETED
    assert standing.of("pre_test").used == 1 and standing.of("pre_test").best_score < 70
    assert standing.of("post_test").passed_attempt.number == 1
    assert standing.of("post_test").best_score == 100
    assert standing.of("evaluation").is_met
    # Completed three weeks ago, when the evaluation (the last requirement) was submitted.
    assert done.completed_at == standing.of("evaluation").met_at
    assert 20 <= (timezone.now() - done.completed_at).days <= 21
    certificate = Certificate.objects.get(enrollment=done)
    assert ("ama_pra_1", Decimal("1.00")) in done.claim.credits.values_list("credit_type_id", "amount")
    assert certificate.versions.count() == 1

    partway = enrollments[demo_courses.DEMO_LINK + partway_course.key]
    post_test = progress(partway).of("post_test")
    assert partway.status == Enrollment.Status.ENROLLED
    assert [(a.number, a.passed, a.score) for a in post_test.attempts] == [(1, False, 40)]
    assert post_test.left == 2
    assert not progress(partway).may_claim()

    lines = demo.splitlines()
    assert f"    {done_course.title}: completed, certificate {certificate.code}" in lines
    assert (
        f"    {partway_course.title}: enrolled, post-test not passed yet (1 tried, 2 attempts left)" in lines
    )
    assert f"    {fresh_course.title}: not started" in lines
    assert f"      http://testserver/activities/{fresh_slug(fresh_course)}/" in lines

    assert client.login(username="learner@example.com", password="demo-learner-2026")
    dashboard = client.get(reverse("learners:dashboard"))
    assert done_course.title in dashboard.text and partway_course.title in dashboard.text
    pdf = client.get(reverse("learners:certificate_pdf", args=[certificate.verification_id]))
    assert pdf["Content-Type"] == "application/pdf"


def fresh_slug(course) -> str:
    from activities import demo_courses
    from activities.models import Activity

    return Activity.objects.get(activity_link=demo_courses.DEMO_LINK + course.key).slug


def test_running_the_demo_again_adds_and_changes_nothing(demo, settings):
    before = demo_rows()

    call_command("demo")

    assert demo_rows() == before


def test_the_printed_check_in_screen_and_attendance_page_open_for_the_demo_staff(demo, client):
    from learners.management.commands.demo import ACCOUNTS

    printed = dict(
        line.strip().split(": ", 1)
        for line in demo.splitlines()
        if "check-in screen (as staff)" in line or "attendance and fixes (as staff)" in line
    )
    screen = printed["check-in screen (as staff)"].removeprefix("http://testserver")
    attendance = printed["attendance and fixes (as staff)"].removeprefix("http://testserver")
    staff_email, staff_password = ACCOUNTS[1][:2]
    assert client.login(email=staff_email, password=staff_password)

    assert client.get(screen).status_code == 200
    page = client.get(attendance)
    assert page.status_code == 200
    assert "Open the check-in screen" in page.content.decode()
