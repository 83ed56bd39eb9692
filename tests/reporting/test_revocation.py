"""Revoked credit is not reported: revoking a certificate withdraws its rows not yet sent, which then stay out of
every file, deadline and digest whatever the learner changes, and the learner sees why. Rows already sent stay
on record, and staff revoking are told to correct them at the registry."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from learners.models import ReportingEntry
from learners.services import certificates
from learners.services.reporting import ledger
from portal.models import AuditEntry
from tests.helpers import change_profile, complete, make_learner, messages_of, page_text
from tests.reporting.conftest import EXPORT, LEDGER, OCT_20, export_file, made_files, rows_of

pytestmark = pytest.mark.django_db

CERTIFICATES = reverse("admin:learners_certificate_changelist")
REASON = "Attendance could not be confirmed"
WITHDRAWN_TEXT = f"Not reported: the certificate was revoked ({REASON})."


def revoke(client, enrollment):
    """Staff revoke the enrollment's certificate from the admin (the confirming POST of the action)."""
    certificate = certificates.issue_certificate(enrollment=enrollment, dispatch_email=False)
    return client.post(
        CERTIFICATES,
        {"action": "revoke", ACTION_CHECKBOX_NAME: [certificate.pk], "confirm": "yes", "reason": REASON},
        follow=True,
    )


def states(learner) -> set[tuple[str, str]]:
    return set(rows_of(learner).values_list("state", "reason"))


def test_revoking_withdraws_rows_not_yet_sent(as_staff_a, october, staff_a):
    ada = october["ada"]
    response = revoke(as_staff_a, ada)

    assert "1 certificate revoked." in messages_of(response)
    assert states(ada.learner) == {("withdrawn", WITHDRAWN_TEXT)}
    assert AuditEntry.objects.filter(action="reporting.withdrawn", actor=staff_a).count() == 3
    # last month's accreditor file had only Ada's rows: nothing is left to export
    response, files = made_files(as_staff_a, {"preset": "accreditor_last_month"})
    assert files == [] and "Nothing is ready to report" in page_text(response)
    assert states(ada.learner) == {("withdrawn", WITHDRAWN_TEXT)}


def test_withdrawn_rows_have_no_deadline_and_stay_withdrawn_through_profile_changes(as_staff_a, activity):
    late = make_learner(first_name="Lou", last_name="Latecomb", board_ids=[("ABIM", "ABIM-1")], consent=True)
    enrollment = complete(late, activity, at=OCT_20, moc_boards=["ABIM"])
    assert {s for s, _ in states(late)} == {"waiting"}  # no birth date
    overdue, _soon = ledger.unreported(ReportingEntry.objects.all())
    assert overdue.filter(learner=late).exists() is False  # 20 Oct + 30 days: due 19 Nov
    _overdue, soon = ledger.unreported(ReportingEntry.objects.all())
    assert soon.filter(learner=late).count() == 1

    revoke(as_staff_a, enrollment)
    change_profile(late, birth_month=3, birth_day=4, licenses=[("NY", "N-1")])

    assert states(late) == {("withdrawn", WITHDRAWN_TEXT)}  # no new state-board row either
    overdue, soon = ledger.unreported(ReportingEntry.objects.all())
    assert not overdue.filter(learner=late).exists() and not soon.filter(learner=late).exists()
    assert "Latecomb" not in page_text(as_staff_a.get(LEDGER, {"deadline": "soon"}))


def test_a_rejected_row_is_withdrawn_and_cannot_be_requeued(as_staff_a, october, staff_a):
    ada = october["ada"]
    as_staff_a.post(EXPORT, {"preset": "accreditor_last_month"})
    abim = rows_of(ada.learner, board="ABIM").get()
    ledger.settle_entries(entries=[abim], accepted=False, reason="Board ID not found", by=staff_a)

    revoke(as_staff_a, ada)
    abim.refresh_from_db()
    assert (abim.state, abim.reason) == ("withdrawn", WITHDRAWN_TEXT)
    result = ledger.requeue_entries(entries=[abim], by=staff_a)
    assert (result.changed, result.skipped) == ((), ((abim, "not rejected (Withdrawn)"),))
    abim.refresh_from_db()
    assert abim.state == "withdrawn"


def test_rows_already_sent_stay_on_record_and_staff_are_told(as_staff_a, october):
    ada = october["ada"]
    as_staff_a.post(EXPORT, {"preset": "accreditor_last_month"})
    exported = set(rows_of(ada.learner).values_list("pk", "state", "batch_id"))

    response = revoke(as_staff_a, ada)

    assert set(rows_of(ada.learner).values_list("pk", "state", "batch_id")) == exported
    assert (
        "3 reporting rows of these certificates were already sent to their registries: correct them there. "
        "Rows not yet sent are withdrawn." in messages_of(response)
    )


def test_revoking_one_learners_certificate_leaves_the_others(as_staff_a, october):
    revoke(as_staff_a, october["ada"])

    assert {s for s, _ in states(october["paul"].learner)} == {"ready"}
    response = export_file(as_staff_a, {"preset": "cpe_last_month"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_the_learner_sees_why_a_row_is_withdrawn(client, as_staff_a, october):
    ada = october["ada"]
    revoke(as_staff_a, ada)

    client.force_login(ada.learner)
    page = client.get(reverse("learners:dashboard"))
    items = re.findall(r'<li class="reporting-withdrawn">(.*?)</li>', page.content.decode(), re.S)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]
    assert len(texts) == 3
    assert all(t.endswith(f"— Withdrawn {WITHDRAWN_TEXT}") for t in texts), texts
    assert "Update your profile" not in " ".join(texts)
