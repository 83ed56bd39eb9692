"""The enrollment and claim admin's staff pages: credit recorded on a learner's behalf, a claim window
extended, a claim corrected (a new certificate version, the ledger's exported row deleted and added);
each previewed first, by persona."""

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine
from django.urls import reverse

from activities.models import Activity, MocApproval, Provider
from attendance.models import ClaimWindowExtension
from attendance.services import records
from learners import services
from learners.models import CreditClaim, ReportingEntry
from learners.services.reporting import exports
from portal.models import AuditEntry
from tests.attendance.conftest import sessions_of
from tests.helpers import attend, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def attended(rounds, physician):
    first, second, _ = sessions_of(rounds)
    enrollment = attend(physician, first).enrollment
    attend(physician, second)
    return enrollment


def late_for(enrollment):
    deadline = records.current_deadline(enrollment)
    return dt.datetime.combine(deadline + dt.timedelta(days=5), dt.time(12), tzinfo=dt.UTC)


def test_record_credit_on_the_learners_behalf_previews_then_records(client, staff_a, attended):
    first, second, _ = sessions_of(attended.activity)
    url = reverse("admin:learners_enrollment_record_credit", args=[attended.pk])
    data = {
        "credit_ama_pra_1": "2.00",
        "sessions": [first.pk, second.pk],
        "attested": "on",
        "reason": "Paper form",
    }
    client.force_login(staff_a)
    with time_machine.travel(late_for(attended), tick=False):  # after the window: staff may still record
        assert (
            "Record credit on the learner"
            in client.get(reverse("admin:learners_enrollment_change", args=[attended.pk])).content.decode()
        )
        preview = client.post(url, {**data, "preview": "1"})
        assert "would be credited 2.00 ama_pra_1 for 2 sessions" in preview.content.decode()
        assert not CreditClaim.objects.exists()
        missing = client.post(url, {**data, "attested": "", "confirm": "1"})
        assert "attested" in missing.context["form"].errors
        done = client.post(url, {**data, "confirm": "1"})

    assert done.status_code == 302
    claim = CreditClaim.objects.get()
    assert claim.recorded_by == staff_a
    assert claim.credits.get().amount == D("2.00")
    assert AuditEntry.objects.get(action="claim.recorded").data["reason"] == "Paper form"


@pytest.mark.parametrize(("persona", "status"), [("viewer_a", 403), ("staff_b", 404)])
def test_record_credit_refused_to_viewers_and_outsiders(request, client, attended, persona, status):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("admin:learners_enrollment_record_credit", args=[attended.pk])
    response = client.post(url, {"credit_ama_pra_1": "1.00", "attested": "on", "reason": "x", "confirm": "1"})
    assert response.status_code == status
    assert not CreditClaim.objects.exists()


def test_extend_the_claim_window_then_the_learner_claims(client, staff_a, viewer_a, attended):
    url = reverse("admin:learners_enrollment_extend_window", args=[attended.pk])
    late = late_for(attended)
    until = (late + dt.timedelta(days=10)).date().isoformat()
    client.force_login(viewer_a)
    assert client.post(url, {"until": until, "reason": "Ill", "confirm": "1"}).status_code == 403
    client.force_login(staff_a)
    too_early = client.post(url, {"until": "2026-03-04", "reason": "Ill", "confirm": "1"})
    assert "until" in too_early.context["form"].errors
    preview = client.post(url, {"until": until, "reason": "Was ill", "preview": "1"})
    assert f"could claim until {until}" in preview.content.decode()
    assert not ClaimWindowExtension.objects.exists()
    assert client.post(url, {"until": until, "reason": "Was ill", "confirm": "1"}).status_code == 302

    with time_machine.travel(late, tick=False):
        made = services.claim_credit(
            enrollment=attended, amounts={"ama_pra_1": D("2.00")}, attested=True, at=late
        )
    assert made.credits.get().amount == D("2.00")
    assert AuditEntry.objects.get(action="claimwindowextension.added").data["reason"] == "Was ill"


def test_correct_a_claim_from_the_admin_new_version_and_ledger_delete_and_add(
    client, staff_a, attended, django_capture_on_commit_callbacks
):
    first, second, _ = sessions_of(attended.activity)
    MocApproval.objects.create(
        activity=attended.activity, board="ABIM", credit_type="medical_knowledge", points=D("1.00")
    )
    with time_machine.travel(second.end, tick=False):
        claim = services.claim_credit(
            enrollment=attended,
            amounts={"ama_pra_1": D("2.00")},
            attested=True,
            moc_boards=["ABIM"],
            at=second.end,
        )
    certificate = issue(attended, django_capture_on_commit_callbacks)
    Provider.objects.update(accme_provider_id="0000421")  # the registry IDs a PARS file quotes
    Activity.objects.update(accreditor_activity_id="250000001")
    exports.export_entries(
        entries=ReportingEntry.objects.all(), destination="accreditor", by=staff_a, description="March"
    )
    assert list(ReportingEntry.objects.filter(claim=claim).values_list("state", flat=True)) == ["exported"]
    url = reverse("admin:learners_creditclaim_correct", args=[claim.pk])
    data = {"credit_ama_pra_1": "1.00", "sessions": [first.pk], "reason": "Left early"}

    client.force_login(staff_a)
    preview = client.post(url, {**data, "preview": "1"})
    assert "1 deleted and 1 added" in preview.content.decode()
    assert "2.00 ama_pra_1 → 1.00 ama_pra_1" in preview.content.decode()
    assert claim.credits.get().amount == D("2.00")
    assert certificate.versions.count() == 1
    bad = client.post(url, {**data, "credit_ama_pra_1": "1.10", "confirm": "1"})
    assert "credit_ama_pra_1" in bad.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**data, "confirm": "1"})

    assert done.status_code == 302
    assert claim.credits.get().amount == D("1.00")
    assert certificate.versions.order_by("-number").first().number == 2
    rows = ReportingEntry.objects.filter(claim=claim).order_by("pk")
    assert [(r.action, r.state) for r in rows] == [("add", "exported"), ("delete", "ready"), ("add", "ready")]
    entry = AuditEntry.objects.get(action="claim.corrected")
    assert (entry.actor, entry.data["reason"]) == (staff_a, "Left early")


def test_correct_claim_refused_to_other_providers_and_viewers(client, staff_b, viewer_a, rounds_b, attended):
    first = sessions_of(attended.activity)[0]
    with time_machine.travel(first.end, tick=False):
        claim = services.claim_credit(
            enrollment=attended,
            amounts={"ama_pra_1": D("1.00")},
            attested=True,
            sessions=[first.pk],
            at=first.end,
        )
    url = reverse("admin:learners_creditclaim_correct", args=[claim.pk])
    data = {"credit_ama_pra_1": "0.50", "sessions": [first.pk], "reason": "x", "confirm": "1"}
    client.force_login(staff_b)
    assert client.post(url, data).status_code == 404
    client.force_login(viewer_a)
    assert client.post(url, data).status_code == 403
    assert claim.credits.get().amount == D("1.00")
    assert not AuditEntry.objects.filter(action="claim.corrected").exists()


def test_the_mixed_role_user_cannot_extend_or_record_at_b_but_accreditation_staff_can(
    client, mixed_role, accreditor, rounds_b, physician
):
    session = sessions_of(rounds_b)[0]
    enrollment = attend(physician, session).enrollment
    until = (records.current_deadline(enrollment) + dt.timedelta(days=30)).isoformat()
    extend = reverse("admin:learners_enrollment_extend_window", args=[enrollment.pk])
    record = reverse("admin:learners_enrollment_record_credit", args=[enrollment.pk])

    client.force_login(mixed_role)
    refused = [
        client.post(extend, {"until": until, "reason": "x", "confirm": "1"}).status_code,
        client.post(
            record, {"credit_ama_pra_1": "1.00", "attested": "on", "reason": "x", "confirm": "1"}
        ).status_code,
    ]
    assert refused == [403, 403]
    assert not ClaimWindowExtension.objects.exists() and not CreditClaim.objects.exists()

    client.force_login(accreditor)
    assert client.post(extend, {"until": until, "reason": "Asked", "confirm": "1"}).status_code == 302
    assert ClaimWindowExtension.objects.get().granted_by == accreditor
