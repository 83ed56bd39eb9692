"""Every kind of page works in Chromium under the Content-Security-Policy: none reports a violation.

The page records each ``securitypolicyviolation`` event from the first script on, and Chromium's console
messages about the policy are collected too. Beyond loading each page, the scripted parts of the admin are
used, since a blocked script shows only when it runs: the slug filled from the title (prepopulated fields),
the calendar of a date widget, the select2 autocomplete fetching its choices, the export page's own script.

Transactional (the live server runs in another thread and must see committed rows), with
``serialized_rollback`` as in test_learner_journey.py.
"""

import re

import pytest
from django.test import Client

from activities.models import Activity
from learners import services
from learners.models import Certificate, Enrollment
from learners.services import certificates
from tests.factories import ActivityFactory
from tests.helpers import complete, make_learner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def bypass_csp() -> bool:
    return False  # the policy is what these tests check


@pytest.fixture
def portal(provider_a, staff_a, accreditor, learner_a):
    """An activity with MOC, a learner who completed it (with a certificate) and enrolled in another, and the
    staff personas; each signed-in persona's session cookie, made before the browser starts."""
    activity = ActivityFactory(
        provider=provider_a,
        title="Intrathecal drug delivery",
        credits={"ama_pra_1": "1.50"},
        moc=[("ABIM", "medical_knowledge", "1.50")],
    )
    other = ActivityFactory(provider=provider_a, title="Airway management")
    make_learner(learner_a, board_ids=[("ABIM", "ABIM-448812")], birth_month=7, birth_day=4, consent=True)
    certificates.issue_certificate(enrollment=complete(learner_a, activity, moc_boards=["ABIM"]))
    services.enroll(learner=learner_a, activity=other)
    sessions = {}
    for name, user in {"learner": learner_a, "editor": staff_a, "accreditor": accreditor}.items():
        client = Client()
        client.force_login(user)
        sessions[name] = client.cookies["sessionid"].value
    return {
        "activity": Activity.objects.get(pk=activity.pk),
        "certificate": Certificate.objects.get(),
        "open": Enrollment.objects.get(activity=other),
        "sessions": sessions,
    }


@pytest.fixture
def browse(page, live_server):
    """``browse(url, persona=None)`` opens the page as that persona and returns the violations so far."""
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on(
        "console",
        lambda message: console.append(message.text) if "Content Security Policy" in message.text else None,
    )

    def violations() -> list[str]:
        return page.evaluate("window.__cspViolations") + console

    def go(url: str, *, session: str | None = None):
        page.context.clear_cookies()
        if session:
            page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        response = page.goto(url)
        assert response.status < 400, f"{url}: {response.status}"
        page.wait_for_load_state("networkidle")
        return violations()

    go.violations = violations
    return go


# ``portal`` before ``page``: the rows are written before Playwright starts (see tests/browser/conftest.py).
def test_public_and_account_pages_report_no_violation(portal, browse, page):
    activity, certificate = portal["activity"], portal["certificate"]
    for url in [
        "/",
        "/activities/",
        "/activities/?q=intrathecal&sort=title",
        activity.get_absolute_url(),
        "/verify/",
        f"/verify/?code={certificate.code}",
        f"/verify/{certificate.verification_id}/",
        "/api/activities/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/admin/login/",
    ]:
        assert browse(url) == [], url
    assert page.locator('script[type="application/ld+json"]').count() == 0  # the admin login, last
    browse(activity.get_absolute_url())
    assert page.locator('script[type="application/ld+json"]').count() == 1


def test_learner_pages_report_no_violation(portal, browse, page):
    session = portal["sessions"]["learner"]
    for url in [
        "/me/",
        "/me/profile/",
        "/me/transcript/",
        "/me/transcript/?start=2020-01-01",
        f"/me/enrollments/{portal['open'].public_id}/",
        "/accounts/email/",
        "/accounts/password/change/",
    ]:
        assert browse(url, session=session) == [], url
    # The profile's "add another" rows and the claim form work as plain forms: a submission round-trips.
    browse("/me/profile/", session=session)
    page.get_by_role("button", name=re.compile("Save", re.I)).first.click()
    page.wait_for_load_state("networkidle")
    assert browse.violations() == []


def test_admin_pages_and_their_scripts_report_no_violation(portal, browse, page):
    session = portal["sessions"]["accreditor"]
    activity = portal["activity"]
    for url in [
        "/admin/",
        "/admin/activities/activity/",
        f"/admin/activities/activity/{activity.pk}/change/",
        "/admin/activities/activity/import/",
        "/admin/activities/membership/add/",
        "/admin/learners/certificate/",
        f"/admin/learners/certificate/{portal['certificate'].pk}/change/",
        "/admin/learners/enrollment/",
        "/admin/learners/reportingentry/",
        "/admin/learners/reportingentry/export/",
        "/admin/learners/reportingentry/returned/",
        "/admin/learners/exportbatch/",
        "/admin/learners/dashboard/",
        "/admin/portal/user/",
        "/admin/portal/auditentry/",
    ]:
        assert browse(url, session=session) == [], url

    # Prepopulated slug, date widget calendar, select2 autocomplete on the activity form.
    assert browse("/admin/activities/activity/add/", session=session) == []
    page.locator("#id_title").fill("Sleep apnoea in primary care")
    page.locator("#id_title").blur()
    assert page.locator("#id_slug").input_value() == "sleep-apnoea-in-primary-care"
    page.locator("#calendarlink0").click()
    assert page.locator("#calendarbox0").is_visible()
    page.locator("#calendarbox0 .calendar-cancel a").click()
    page.locator("#id_provider").locator("xpath=following-sibling::span[1]").click()
    page.locator(".select2-container--open .select2-search__field").fill("Provider")
    page.locator(".select2-results__option", has_text="Provider A").wait_for()
    assert browse.violations() == []

    # The export page's script (a static file) labels its autocomplete.
    assert browse("/admin/learners/reportingentry/export/", session=session) == []
    label = page.locator("#select2-id_csv_activity-container").get_attribute("aria-label")
    assert label, "the export page's script did not run"
    # The dashboard's stylesheet (a static file) lays out its totals.
    assert browse("/admin/learners/dashboard/", session=session) == []
    assert page.locator("#dashboard-totals").evaluate("e => getComputedStyle(e).display") == "grid"


def test_an_editors_admin_reports_no_violation(portal, browse):
    session = portal["sessions"]["editor"]
    for url in ["/admin/", "/admin/activities/activity/", "/admin/learners/dashboard/"]:
        assert browse(url, session=session) == [], url
