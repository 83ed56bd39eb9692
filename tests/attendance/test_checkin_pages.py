"""The learner's check-in page, ``/in/<slug>/``, by persona and by what the learner types: the anonymous
visitor sent to sign in with the scanned code kept, a check-in, a repeat, a walk-in enrolled (and refused
when the activity is full), a draft, the window's edges, stale, wrong and throttled codes, and the fixed
code."""

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse

from activities.models import Activity
from attendance import codes
from attendance.models import Attendance
from attendance.services.checkin import MAX_WRONG, WRONG_WINDOW
from learners.models import Enrollment
from learners.services import enroll
from portal.models import AuditEntry
from tests.attendance.conftest import START
from tests.helpers import messages_of, page_text

pytestmark = pytest.mark.django_db

DURING = START + dt.timedelta(minutes=10)  # 8:10 in Chicago


def code_at(point, at) -> str:
    return codes.current_code(point.secret, at)


def post_code(client, point, code, at=DURING, follow=False):
    with time_machine.travel(at, tick=False):
        return client.post(point.get_absolute_url(), {"code": code}, follow=follow)


@pytest.fixture
def enrolled(physician, course):
    enroll(learner=physician, activity=course, at=START - dt.timedelta(days=1))
    return physician


def test_the_address_is_short_and_named(point):
    assert reverse("attendance:checkin", kwargs={"slug": point.slug}) == f"/in/{point.slug}/"
    assert point.get_absolute_url() == f"/in/{point.slug}/"
    assert re.fullmatch(r"[a-z2-9]{6}", point.slug)


def test_an_anonymous_visitor_signs_in_first_and_comes_back_with_the_code(client, point):
    response = client.get(f"/in/{point.slug}/?c=123456")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("account_login")
    assert parse_qs(target.query)["next"] == [f"/in/{point.slug}/?c=123456"]
    # A post without signing in checks no one in.
    response = client.post(point.get_absolute_url(), {"code": code_at(point, DURING)})
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert not Attendance.objects.exists()


def test_a_scan_fills_the_code_and_the_page_says_what_and_where(client, enrolled, point):
    client.force_login(enrolled)
    with time_machine.travel(DURING, tick=False):
        response = client.get(f"/in/{point.slug.upper()}/?c={code_at(point, DURING)}")

    assert response.status_code == 200
    text = page_text(response)
    assert "Point-of-care ultrasound workshop" in text
    assert "Tuesday, Mar 3, 2026, 8:00–10:00 (America/Chicago)" in text
    assert "Room 4B" in text and "Provider A" in text
    field = re.search(r'<input[^>]*name="code"[^>]*>', response.content.decode()).group(0)
    assert f'value="{code_at(point, DURING)}"' in field
    assert 'inputmode="numeric"' in field and 'autocomplete="off"' in field
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()
    assert response["Cache-Control"].count("no-store") == 1
    assert not Attendance.objects.exists()  # a GET never checks in


def test_junk_in_the_query_string_fills_nothing(client, enrolled, point):
    client.force_login(enrolled)
    response = client.get(f"/in/{point.slug}/?c=%3Cscript%3E²")
    field = re.search(r'<input[^>]*name="code"[^>]*>', response.content.decode()).group(0)
    assert "value=" not in field or 'value=""' in field


def test_a_learner_checks_in_and_a_second_time_is_told_already(client, enrolled, point, session):
    client.force_login(enrolled)
    response = post_code(client, point, code_at(point, DURING))

    assert response.status_code == 302 and response["Location"] == point.get_absolute_url()
    attendance = Attendance.objects.get()
    assert attendance.session == session and attendance.enrollment.learner == enrolled
    assert attendance.source == Attendance.Source.SCREEN and attendance.checked_in_at == DURING
    assert messages_of(response) == ["You are checked in (Mar 3, 8:10)."]
    page = client.get(point.get_absolute_url())
    assert "Checked in at Mar 3, 8:10." in page_text(page)
    assert 'name="code"' not in page.content.decode()

    later = DURING + dt.timedelta(minutes=3)
    again = post_code(client, point, code_at(point, later), at=later)
    assert messages_of(again) == ["You had already checked in, at Mar 3, 8:10."]
    assert Attendance.objects.count() == 1
    assert AuditEntry.objects.filter(action="attendance.checked_in").count() == 1


def test_a_walk_in_is_enrolled_by_checking_in(client, physician_b, course, point):
    client.force_login(physician_b)
    response = post_code(client, point, f"{code_at(point, DURING)[:3]} {code_at(point, DURING)[3:]}")

    assert messages_of(response) == [
        "You are checked in (Mar 3, 8:10) and enrolled in this activity as a walk-in."
    ]
    enrollment = Enrollment.objects.get(learner=physician_b)
    assert enrollment.activity == course
    assert Attendance.objects.get().enrollment == enrollment


def test_a_full_activity_refuses_a_walk_in_but_not_the_enrolled(client, enrolled, physician_b, course, point):
    course.capacity = 1
    course.save()
    client.force_login(physician_b)
    response = post_code(client, point, code_at(point, DURING))

    assert response.status_code == 400
    assert "This activity is full." in page_text(response)
    assert not Enrollment.objects.filter(learner=physician_b).exists()
    assert not Attendance.objects.exists()

    client.force_login(enrolled)
    assert post_code(client, point, code_at(point, DURING)).status_code == 302
    assert Attendance.objects.get().enrollment.learner == enrolled


def test_a_draft_activitys_check_in_is_not_found(client, enrolled, course, point):
    Activity.objects.filter(pk=course.pk).update(status=Activity.Status.DRAFT)
    client.force_login(enrolled)

    assert client.get(point.get_absolute_url()).status_code == 404
    assert post_code(client, point, code_at(point, DURING)).status_code == 404
    assert not Attendance.objects.exists()


@pytest.mark.parametrize("slug", ["zzzzzz", "x" * 300, "-", "abc_23"])
def test_an_unknown_address_is_not_found(client, enrolled, point, slug):
    client.force_login(enrolled)
    assert client.get(f"/in/{slug}/").status_code == 404
    assert client.post(f"/in/{slug}/", {"code": "123456"}).status_code == 404


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (START - dt.timedelta(minutes=31), "Check-in for this session opens at Mar 3, 7:30."),
        (
            START + dt.timedelta(hours=2, minutes=31),
            "Check-in for this session closed at Mar 3, 10:30. If you attended, ask the organizers to record it.",
        ),
    ],
    ids=["before", "after"],
)
def test_outside_the_window_the_page_says_when(client, enrolled, point, at, message):
    client.force_login(enrolled)
    response = post_code(client, point, code_at(point, at), at=at)

    assert response.status_code == 400
    assert message in page_text(response)
    assert not Attendance.objects.exists()


def test_a_stale_code_is_refused_as_expired(client, enrolled, point):
    client.force_login(enrolled)
    old = code_at(point, DURING - dt.timedelta(seconds=2 * codes.STEP))
    assert old != code_at(point, DURING) and old != code_at(point, DURING - dt.timedelta(seconds=codes.STEP))
    response = post_code(client, point, old)

    assert response.status_code == 400
    assert "That code has expired. Scan or type the code on the screen now." in page_text(response)
    assert not Attendance.objects.exists()


@pytest.mark.parametrize("typed", ["000000", "12", "ABCDEFGHJKLM"])
def test_a_wrong_code_is_refused(client, enrolled, point, typed):
    if typed == code_at(point, DURING):
        pytest.skip("the random secret made this the right code")
    client.force_login(enrolled)
    response = post_code(client, point, typed)

    assert response.status_code == 400
    assert "That code is not right. Type the code on the screen now." in page_text(response)
    assert not Attendance.objects.exists()


@pytest.mark.parametrize("typed", ["", "   ", "12345²", "<b>1</b>", "1" * 13, "١٢٣٤٥٦"])
def test_junk_is_a_form_error_and_counts_for_nothing(client, enrolled, point, typed):
    client.force_login(enrolled)
    response = post_code(client, point, typed)

    assert response.status_code == 400
    assert "Type the code shown on the screen: 6 digits." in page_text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Attendance.objects.exists()
    # Junk is not a guess: the right code still goes through after many of them.
    for _ in range(MAX_WRONG + 1):
        post_code(client, point, typed)
    assert post_code(client, point, code_at(point, DURING)).status_code == 302


def test_five_wrong_codes_lock_the_learner_out_until_the_window_passes(client, enrolled, physician_b, point):
    client.force_login(enrolled)
    right = code_at(point, DURING)
    wrong = "999999" if right != "999999" else "888888"
    for _ in range(MAX_WRONG):
        assert "That code is not right." in page_text(post_code(client, point, wrong))

    locked = post_code(client, point, right)
    assert locked.status_code == 400
    assert "Too many wrong codes. Wait a few minutes and try again" in page_text(locked)
    assert not Attendance.objects.exists()

    # Only this learner is held back.
    client.force_login(physician_b)
    assert post_code(client, point, right).status_code == 302

    # Once the ten minutes have passed, the code on the screen then is accepted.
    client.force_login(enrolled)
    later = DURING + dt.timedelta(seconds=WRONG_WINDOW + 1)
    assert "Too many wrong codes" in page_text(
        post_code(
            client, point, code_at(point, later - dt.timedelta(seconds=2)), at=later - dt.timedelta(seconds=2)
        )
    )
    response = post_code(client, point, code_at(point, later), at=later)
    assert response.status_code == 302
    assert Attendance.objects.filter(enrollment__learner=enrolled).count() == 1


def test_the_fixed_code_staff_opened_is_accepted(client, enrolled, point):
    point.fixed_code = "4711"
    point.save()
    client.force_login(enrolled)
    response = post_code(client, point, " 47-11 ")

    assert response.status_code == 302
    assert Attendance.objects.get().source == Attendance.Source.FIXED


def test_other_methods_are_refused(client, enrolled, point):
    client.force_login(enrolled)
    assert client.put(point.get_absolute_url()).status_code == 405
    assert not Attendance.objects.exists()


def test_a_scanned_code_that_changed_while_the_learner_signed_in_asks_for_a_new_scan(client, enrolled, point):
    """The phone was not signed in: by the time the learner is back from signing in, the scanned code has
    left the screen. The page says so instead of filling in a code it would refuse."""
    scanned = code_at(point, DURING - dt.timedelta(minutes=2))
    client.force_login(enrolled)
    with time_machine.travel(DURING, tick=False):
        response = client.get(f"/in/{point.slug}/?c={scanned}")

    assert response.status_code == 200
    assert "The code you scanned has changed since. Scan the screen again" in page_text(response)
    field = re.search(r'<input[^>]*name="code"[^>]*>', response.content.decode()).group(0)
    assert scanned not in field
    # A wrong code in the address is filled in as it is (and judged only when posted).
    with time_machine.travel(DURING, tick=False):
        wrong = client.get(f"/in/{point.slug}/?c=000001")
    assert "has changed since" not in page_text(wrong)
    assert 'value="000001"' in wrong.content.decode()
