"""Checking in to a session through Chromium: staff project the check-in screen; its QR code, decoded from a
screenshot of the page with zbar (``zbarimg``), is the learner's address with the current code; a signed-in
learner opens it, taps once and is checked in (the Attendance row is read afterwards); a stale code is
refused. axe-core finds no serious or critical violation on the screen or the learner's page; under the
site's Content-Security-Policy the screen's script runs (it counts down and shows the new count) without a
violation.

Why a screenshot and zbar rather than reading the SVG on the server: the test then decodes what a phone's
camera would see (the symbol as Chromium drew it, after the page's CSS and script), with a decoder that is
not segno, the library that drew it. tests/attendance/test_screen.py checks the SVG itself.

The rows are made in fixtures before the browser starts; while the page is open the database is read only
from another thread (Django refuses ORM calls beside Playwright's event loop, see conftest.py).
Transactional, with ``serialized_rollback``, as the other browser tests.
"""

import datetime as dt
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from attendance import codes
from attendance.models import Attendance
from attendance.services.checkin import check_in, checkin_for
from tests.conftest import missing_service
from tests.factories import ActivityFactory, ProviderFactory
from tests.helpers import make_learner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TITLE = "Point-of-care ultrasound: a hands-on workshop"
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def in_thread(function):
    """``function()`` run in a thread of its own (with its own connection, closed after)."""

    def run():
        try:
            return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result(timeout=30)


def cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture
def world(live_server, settings, transactional_db):
    """A course whose one session is on now, its check-in point, a coordinator (editor at the provider) and
    two learners with profiles, none enrolled; their session cookies. The QR codes point at the live server."""
    settings.SITE_URL = live_server.url
    from tests.factories import MembershipFactory, UserFactory

    provider = ProviderFactory(name="Lakeside Clinical Skills Center")
    now = timezone.now()
    activity = ActivityFactory(
        provider=provider,
        title=TITLE,
        activity_type="course",
        format="in_person",
        start=now - dt.timedelta(minutes=15),
        end=now + dt.timedelta(hours=2),
    )
    session = activity.sessions.get()
    point = checkin_for(session)
    coordinator = MembershipFactory(provider=provider, user__email="coordinator@example.com").user
    learner = make_learner(UserFactory(email="ada@example.com"), first_name="Ada", last_name="Okafor")
    other = make_learner(UserFactory(email="bea@example.com"), first_name="Bea", last_name="Marsh")
    return {
        "session": session,
        "point": point,
        "learner": learner,
        "other": other,
        "cookies": {"coordinator": cookie(coordinator), "learner": cookie(learner), "other": cookie(other)},
    }


def sign_in_as(page, live_server, value: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": value, "url": live_server.url}])


def decode_qr(page, tmp_path) -> str:
    """The QR code on the screen as a phone would read it: a screenshot of it, decoded by zbarimg."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        missing_service("needs zbarimg to decode the screen's QR code: apt-get install zbar-tools")
    shot = tmp_path / "screen-qr.png"
    page.locator("#screen-qr").screenshot(path=str(shot))
    result = subprocess.run(
        [zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(shot)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, f"zbarimg read no QR code ({result.returncode}): {result.stderr}"
    return result.stdout.strip()


def test_a_learner_checks_in_from_the_screens_qr_code_and_a_stale_code_is_refused(
    world, page, live_server, tmp_path, assert_accessible
):
    point, session = world["point"], world["session"]

    # The coordinator projects the screen.
    sign_in_as(page, live_server, world["cookies"]["coordinator"])
    page.goto(f"/in/screen/{session.pk}/")
    assert page.get_by_role("heading", level=1, name=TITLE).is_visible()
    shown = page.locator("#screen-code").inner_text()
    assert re.fullmatch(r"\d{6}", shown)
    assert page.locator("#screen-url").inner_text() == f"{live_server.url.split('://')[1]}/in/{point.slug}"
    assert page.locator("#screen-count").inner_text() == "0"
    assert_accessible(page, "the check-in screen")

    # The code changes every 30 s: a screenshot is read only if the same code was shown before and after.
    for _ in range(3):
        before = page.locator("#screen-code").inner_text()
        url = decode_qr(page, tmp_path)
        if page.locator("#screen-code").inner_text() == before:
            break
    assert url == f"{live_server.url}/in/{point.slug}/?c={before}"
    scanned = url.rsplit("=", 1)[1]

    # The learner's phone opens the decoded address: the code is filled in, one tap checks in.
    sign_in_as(page, live_server, world["cookies"]["learner"])
    page.goto(url)
    assert page.get_by_role("heading", level=1, name="Check in").is_visible()
    assert page.get_by_text(TITLE).first.is_visible()
    field = page.get_by_label("Code")
    assert field.input_value() == scanned
    assert field.get_attribute("inputmode") == "numeric" and field.get_attribute("autocomplete") == "off"
    assert_accessible(page, "the learner's check-in page")
    page.get_by_role("button", name="Check in").click()
    page.wait_for_url(re.compile(rf"/in/{point.slug}/$"))
    status = page.get_by_role("status")
    assert "You are checked in" in status.inner_text()
    assert "enrolled in this activity as a walk-in" in status.inner_text()
    assert page.locator("#checked-in").inner_text().startswith("Checked in at ")
    assert_accessible(page, "the learner's page once checked in")

    learner_id = world["learner"].pk
    attendance = in_thread(
        lambda: list(
            Attendance.objects.filter(session=session).values_list("enrollment__learner_id", "source")
        )
    )
    assert attendance == [(learner_id, Attendance.Source.SCREEN)]

    # Another learner types a code from a minute ago (a photo passed around): refused, and told why.
    sign_in_as(page, live_server, world["cookies"]["other"])
    page.goto(f"/in/{point.slug.upper()}/")
    stale = codes.current_code(point.secret, timezone.now() - dt.timedelta(seconds=2 * codes.STEP))
    page.get_by_label("Code").fill(stale)
    page.get_by_role("button", name="Check in").click()
    error = page.locator(".field-error")
    assert error.inner_text() == "That code has expired. Scan or type the code on the screen now."
    assert page.get_by_label("Code").get_attribute("aria-invalid") == "true"
    assert_accessible(page, "the learner's page with a refused code")
    assert in_thread(lambda: Attendance.objects.filter(session=session).count()) == 1


@pytest.mark.parametrize("bypass_csp", [False], ids=["policy-enforced"])  # the policy is what this checks
def test_under_the_policy_the_screens_script_counts_down_and_shows_new_check_ins(world, page, live_server):
    point, session = world["point"], world["session"]
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in_as(page, live_server, world["cookies"]["coordinator"])
    page.goto(f"/in/screen/{session.pk}/")

    assert page.locator("#screen-fullscreen").is_visible()  # shown by the script
    first = int(page.locator("#screen-seconds").inner_text())
    page.wait_for_function(
        f"() => document.getElementById('screen-seconds').textContent !== '{first}'", timeout=5_000
    )

    def learner_checks_in():
        now = timezone.now()
        return check_in(
            learner=world["learner"], checkin=point, code=codes.current_code(point.secret, now), at=now
        )

    assert in_thread(learner_checks_in).created
    page.wait_for_function(
        "() => document.getElementById('screen-count').textContent === '1'", timeout=15_000
    )
    code = page.locator("#screen-code").inner_text()
    assert page.locator("#screen-qr").get_attribute("data-url").endswith(f"?c={code}")

    # The learner's page under the policy too.
    sign_in_as(page, live_server, world["cookies"]["other"])
    page.goto(f"/in/{point.slug}/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__cspViolations") + console == []
