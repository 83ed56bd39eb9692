"""A name changed after a certificate was issued: the registry files keep reporting the name as certified,
and staff see the change on the certificate and the ledger, with the reissue a click away."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from learners.models import Certificate
from learners.services import certificates
from tests.helpers import change_profile, page_text
from tests.reporting.conftest import LEDGER, export_file, pars_records

pytestmark = pytest.mark.django_db


def rename(user, *, last_name):
    get_user_model().objects.filter(pk=user.pk).update(last_name=last_name)  # as the profile service saves it
    user.refresh_from_db()
    change_profile(user)


@pytest.fixture
def certified(october, django_capture_on_commit_callbacks, mailoutbox):
    """Ada's October certificate, issued as "Ada Lovelace, MD"."""
    with django_capture_on_commit_callbacks(execute=True):
        return certificates.issue_certificate(enrollment=october["ada"])


def exported_names(response) -> set[tuple[str, str]]:
    rows = pars_records(response.content.decode("utf-8"))
    return {(row["learner_first_name"], row["learner_last_name"]) for row in rows}


def test_registry_rows_carry_the_name_as_certified(as_staff_a, certified, physician):
    rename(physician, last_name="Byron")
    response = export_file(as_staff_a, {"preset": "accreditor_last_month"})
    assert exported_names(response) == {("Ada", "Lovelace")}


def test_after_a_reissue_the_rows_carry_the_new_name(as_staff_a, certified, physician, staff_a):
    rename(physician, last_name="Byron")
    certificates.reissue_certificate(certificate=certified, by=staff_a, reason="Name changed")
    response = export_file(as_staff_a, {"preset": "accreditor_last_month"})
    assert exported_names(response) == {("Ada", "Byron")}


def test_rows_of_a_claim_not_yet_certified_carry_the_current_name(as_staff_a, october, physician):
    rename(physician, last_name="Byron")
    response = export_file(as_staff_a, {"preset": "accreditor_last_month"})
    assert exported_names(response) == {("Ada", "Byron")}


def test_staff_see_the_change_on_the_ledger_and_reach_the_certificate_from_it(
    as_staff_a, certified, physician
):
    assert "name changed since issue" not in page_text(as_staff_a.get(LEDGER))
    rename(physician, last_name="Byron")

    ledger = as_staff_a.get(LEDGER)

    assert "name changed since issue: reported as certified (“Ada Lovelace, MD”)" in page_text(ledger)
    assert reverse("admin:learners_certificate_change", args=[certified.pk]) in ledger.text


def test_the_certificate_shows_the_change_and_offers_the_reissue(as_staff_a, certified, physician):
    url = reverse("admin:learners_certificate_change", args=[certified.pk])
    rename(physician, last_name="Byron")

    page = as_staff_a.get(url)
    text = page_text(page)
    assert "Name changed since issue: certified as “Ada Lovelace, MD”, now “Ada Byron, MD”" in text
    assert "Name changed since issue" in page_text(
        as_staff_a.get(reverse("admin:learners_certificate_changelist"))
    )

    # The page's reissue button posts the action for this certificate: its preview asks for the reason.
    assert 'name="action" value="reissue"' in page.text
    preview = as_staff_a.post(
        reverse("admin:learners_certificate_changelist"),
        {"action": "reissue", "_selected_action": [certified.pk]},
    )
    assert "1 certificate would be affected" in page_text(preview)
    as_staff_a.post(
        reverse("admin:learners_certificate_changelist"),
        {"action": "reissue", "_selected_action": [certified.pk], "confirm": "yes", "reason": "Married name"},
    )
    assert Certificate.objects.get(pk=certified.pk).versions.count() == 2
    assert "Name changed since issue" not in page_text(as_staff_a.get(url))


def test_a_viewer_sees_the_change_but_no_reissue_button(client, viewer_a, certified, physician):
    rename(physician, last_name="Byron")
    client.force_login(viewer_a)
    page = client.get(reverse("admin:learners_certificate_change", args=[certified.pk]))
    assert "Name changed since issue" in page_text(page)
    assert 'value="reissue"' not in page.text
