"""In a real browser at 1280 px wide: the reporting ledger's list fits the window (no sideways scrolling),
with every provider's rows and long reasons.

Transactional (the live server runs in another thread), with ``serialized_rollback`` to restore the
reference data the migrations made; rows are created in fixtures before ``page`` starts Playwright (see
tests/browser/conftest.py).
"""

import pytest
import time_machine

from tests.browser.conftest import bypass_csp, page  # noqa: F401 (fixtures)
from tests.browser.conftest import pytest_runtest_setup as needs_browser
from tests.factories import PASSWORD
from tests.reporting.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WIDTH, HEIGHT = 1280, 800


@pytest.fixture(autouse=True)
def clock(request):
    needs_browser(request.node)
    with time_machine.travel(NOW, tick=True):
        yield NOW


@pytest.fixture
def rejected(october, staff_a):
    """One of Ada's rows exported and rejected with a long reason, as registries give them."""
    from learners.models import ReportingEntry
    from learners.services.reporting import exports, ledger

    exports.export_for_providers(
        entries=ReportingEntry.objects.filter(learner=october["ada"].learner, board="ABIM"),
        destination="accreditor",
        by=staff_a,
    )
    row = ReportingEntry.objects.get(learner=october["ada"].learner, board="ABIM")
    reason = (
        "Diplomate not found: the board ID does not match the name and date of birth on file at the board"
    )
    ledger.settle_entries(entries=[row], accepted=False, reason=reason, by=staff_a)


def sign_in(browser_page, user):
    browser_page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    browser_page.goto("/admin/login/")
    browser_page.get_by_label("Email address:").fill(user.email)
    browser_page.get_by_label("Password:").fill(PASSWORD)
    browser_page.get_by_role("button", name="Log in").click()


def test_the_ledger_fits_1280_pixels(accreditor, october, october_b, waiting, rejected, page):  # noqa: F811
    sign_in(page, accreditor)
    page.goto("/admin/learners/reportingentry/")
    table = page.locator("#result_list")
    table.wait_for()
    assert "Bea Outsider" in table.inner_text() and "Diplomate not found" in table.inner_text()
    widths = page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const results = table.closest('.results');
            return {
                table: table.getBoundingClientRect().right,
                results: [results.scrollWidth, results.clientWidth],
                page: document.documentElement.scrollWidth,
                viewport: window.innerWidth,
            };
        }"""
    )
    # Neither the page nor the results box (Django's scrolls sideways when the table is too wide) scrolls.
    assert widths["viewport"] == WIDTH and widths["page"] <= WIDTH, widths
    assert widths["results"][0] <= widths["results"][1], widths
    assert widths["table"] <= WIDTH, widths
