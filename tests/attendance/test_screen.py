"""The projector screen and the JSON its script polls: who may open them (any role at the session's
provider, or accreditation staff; everyone else 404, anonymous visitors to sign in), and what they show:
the current code, the seconds until it changes, the count, and a QR code of the learner's page with that
code."""

import datetime as dt
import json
import re

import pytest
import segno
import time_machine
from django.urls import reverse

from attendance import codes
from attendance.models import SessionCheckin
from portal.lib import qr
from tests.attendance.conftest import START
from tests.helpers import attend, page_text

pytestmark = pytest.mark.django_db

DURING = START + dt.timedelta(minutes=10, seconds=7)  # 23 s before the code changes


def screen_url(session) -> str:
    return reverse("attendance:screen", kwargs={"session_id": session.pk})


def state_url(session) -> str:
    return reverse("attendance:screen_state", kwargs={"session_id": session.pk})


def test_the_addresses_are_the_contract(session):
    assert screen_url(session) == f"/in/screen/{session.pk}/"
    assert state_url(session) == f"/in/screen/{session.pk}/state/"


@pytest.mark.parametrize("persona", ["staff_a", "viewer_a", "accreditor", "mixed_role", "staff_ab"])
def test_staff_who_may_see_the_provider_open_the_screen(client, request, session, persona):
    client.force_login(request.getfixturevalue(persona))
    assert not SessionCheckin.objects.exists()
    with time_machine.travel(DURING, tick=False):
        response = client.get(screen_url(session))
        state = client.get(state_url(session))

    assert response.status_code == 200 and state.status_code == 200
    point = SessionCheckin.objects.get(session=session)  # opening the screen made the check-in point
    assert codes.current_code(point.secret, DURING) in page_text(response)
    assert state.json()["code"] == codes.current_code(point.secret, DURING)
    assert "no-store" in response["Cache-Control"] and "no-store" in state["Cache-Control"]


def test_the_mixed_role_user_may_view_provider_bs_screen(client, mixed_role, provider_b):
    """Viewing is allowed with any role: a viewer at B opens B's screen (the role matters only for writes)."""
    from tests.factories import ActivityFactory

    activity = ActivityFactory(provider=provider_b, activity_type="course", start=START, end=START)
    session = activity.sessions.get()
    client.force_login(mixed_role)
    assert client.get(screen_url(session)).status_code == 200
    assert client.get(state_url(session)).status_code == 200


@pytest.mark.parametrize("persona", ["staff_b", "viewer_b", "physician", "physician_b"])
def test_everyone_else_gets_not_found_and_makes_nothing(client, request, session, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(screen_url(session)).status_code == 404
    assert client.get(state_url(session)).status_code == 404
    assert not SessionCheckin.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client, session):
    for url in (screen_url(session), state_url(session)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login") + "?next=")
    assert not SessionCheckin.objects.exists()


@pytest.mark.parametrize("session_id", ["0", "9" * 19, "9" * 40])
def test_a_session_that_does_not_exist_is_not_found(client, accreditor, session, session_id):
    client.force_login(accreditor)
    assert client.get(f"/in/screen/{session_id}/").status_code == 404
    assert client.get(f"/in/screen/{session_id}/state/").status_code == 404


def test_the_state_has_the_code_the_time_left_the_count_and_a_qr_of_the_page_with_the_code(
    client, staff_a, session, physician, settings
):
    settings.SITE_URL = "https://cme.example.org"
    client.force_login(staff_a)
    with time_machine.travel(DURING, tick=False):
        client.get(screen_url(session))
    point = SessionCheckin.objects.get()
    attend(physician, session, at=START)
    with time_machine.travel(DURING, tick=False):
        state = client.get(state_url(session)).json()

    code = codes.current_code(point.secret, DURING)
    url = f"https://cme.example.org/in/{point.slug}/?c={code}"
    assert state["code"] == code
    assert state["seconds_left"] == 23
    assert state["count"] == 1
    assert state["url"] == url
    assert state["short_url"] == f"cme.example.org/in/{point.slug}"
    assert state["status"] == "open" and state["note"] == ""
    # The QR code is that URL: the same symbol segno makes for it, and no other.
    assert state["qr_svg"].startswith("<svg") and "style" not in state["qr_svg"]
    assert state["qr_svg"] == qr.svg(url, label="QR code: scan to check in")
    assert state["qr_svg"] != qr.svg(url.replace(code, "000000"), label="QR code: scan to check in")
    assert segno.make_qr(url, error="m", boost_error=False).designator in {"3-M", "4-M"}


def test_the_code_and_its_qr_change_with_the_step(client, staff_a, session):
    client.force_login(staff_a)
    last_second = START + dt.timedelta(seconds=codes.STEP - 1)
    with time_machine.travel(last_second, tick=False):
        before = client.get(state_url(session)).json()
    with time_machine.travel(last_second + dt.timedelta(seconds=1), tick=False):
        after = client.get(state_url(session)).json()

    assert before["seconds_left"] == 1 and after["seconds_left"] == codes.STEP
    assert before["code"] != after["code"]
    assert before["code"] in before["url"] and after["code"] in after["url"]
    assert before["qr_svg"] != after["qr_svg"]


@pytest.mark.parametrize(
    ("at", "status", "note"),
    [
        (START - dt.timedelta(minutes=31), "not_yet", "Check-in opens at Mar 3, 7:30."),
        (START + dt.timedelta(hours=2, minutes=31), "closed", "Check-in closed at Mar 3, 10:30."),
    ],
)
def test_outside_the_window_the_screen_says_so(client, staff_a, session, at, status, note):
    client.force_login(staff_a)
    with time_machine.travel(at, tick=False):
        state = client.get(state_url(session)).json()
        page = client.get(screen_url(session))
    assert (state["status"], state["note"]) == (status, note)
    assert note in page_text(page)


def test_the_screen_page_works_with_and_without_its_script(client, staff_a, session, course):
    client.force_login(staff_a)
    with time_machine.travel(DURING, tick=False):
        html = client.get(screen_url(session)).content.decode()
    point = SessionCheckin.objects.get()

    assert "Point-of-care ultrasound workshop" in html
    assert "Tuesday, Mar 3, 8:00–10:00 · Room 4B" in html
    assert f"testserver/in/{point.slug}" in html
    assert re.search(r'<span id="screen-seconds">23</span>', html)
    assert re.search(r'<span id="screen-count">0</span>', html)
    assert '<noscript><meta http-equiv="refresh" content="24"></noscript>' in html
    assert re.search(r'<script src="/static/attendance/screen\.js" defer></script>', html)
    assert f'data-state-url="{state_url(session)}"' in html
    assert '<div class="screen-qr" id="screen-qr" role="img" aria-label="QR code: scan to check in"' in html
    assert "This activity is a draft" not in html


def test_a_drafts_screen_warns_that_learners_cannot_check_in(client, staff_a, session, course):
    course.status = "draft"
    course.save()
    client.force_login(staff_a)
    assert "This activity is a draft: learners cannot check in until it is published." in page_text(
        client.get(screen_url(session))
    )


def test_the_state_is_json(client, staff_a, session):
    client.force_login(staff_a)
    response = client.get(state_url(session))
    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {
        "code",
        "seconds_left",
        "count",
        "url",
        "qr_svg",
        "short_url",
        "status",
        "note",
    }
    assert client.post(state_url(session)).status_code == 405
