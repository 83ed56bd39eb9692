"""In a real browser: from the ledger, a provider's staff member makes last month's accreditor upload in two
clicks (open the Export files page, press the preset), sees the result on the page and downloads the file from
its link; pressing the preset again makes nothing, and the page says so.

Transactional (the live server runs in another thread), with ``serialized_rollback`` to restore the
reference data the migrations made; rows are created in fixtures before ``page`` starts Playwright (see
tests/browser/conftest.py).
"""

import re

import pytest
import time_machine

from tests.browser.conftest import assert_accessible, bypass_csp, page  # noqa: F401 (fixtures)
from tests.browser.conftest import pytest_runtest_setup as needs_browser
from tests.factories import PASSWORD
from tests.reporting.conftest import NOW, pars_records

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def clock(request):
    """15 November 2026, ticking: the browser and the live server need time to pass."""
    needs_browser(request.node)
    with time_machine.travel(NOW, tick=True):
        yield NOW


def test_accreditor_file_in_two_clicks_then_its_link(staff_a, october, waiting, page, assert_accessible):  # noqa: F811
    page.goto("/admin/login/")
    page.get_by_label("Email address:").fill(staff_a.email)
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/learners/reportingentry/")

    page.locator(".object-tools").get_by_role("link", name="Export files").click()  # click 1
    page.locator(".select2-selection__rendered[aria-label]").last.wait_for()  # the pickers, set up
    assert_accessible(page, "the export page")
    page.get_by_role("button", name="Accreditor file: MOC and state credit completed last month").click()
    result = page.locator("#export-result")
    assert "rows exported." in result.inner_text()
    assert "Download" in result.inner_text()
    with page.expect_download() as download:
        result.get_by_role("link", name="Download").click()
    file = download.value
    assert re.fullmatch(r"provider-a-accreditor-20261115-\d{6}\.txt", file.suggested_filename)
    with open(file.path(), encoding="utf-8", newline="") as handle:
        records = pars_records(handle.read())
    assert [(r["learner_last_name"], r["credits"]) for r in records] == [
        (
            "Lovelace",
            [
                ("NPI", "1234567893", "AMA PRA Category 1", "1.50"),
                ("ABIM", "ABIM-448812", "MK", "1.50"),
                ("ABS", "ABS-77120", "CME", "1.00"),
            ],
        ),
        ("Boardless", [("ABIM", "ABIM-1", "MK", "1.50")]),
    ]
    assert {r["completion_date"] for r in records} == {"2026-10-03"}

    # The rows are marked exported, and the same button now says there is nothing left.
    page.goto("/admin/learners/reportingentry/?state__exact=exported")
    assert "4 reporting ledger" in page.locator("#changelist-form").inner_text()
    page.goto("/admin/learners/reportingentry/export/")
    page.get_by_role("button", name="Accreditor file: MOC and state credit completed last month").click()
    assert "Nothing is ready to report" in page.locator("#export-result").inner_text()
    assert "provider-a-accreditor-20261115-" in page.locator("#past-files").inner_text()
