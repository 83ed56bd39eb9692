"""Issuing a certificate: once per enrollment, with a snapshot of everything it states."""

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from activities.models import Activity
from learners import services
from learners.models import Certificate, CertificateVersion, OutboxMessage
from learners.services import certificates, outbox
from portal.models import AuditEntry
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import complete, issue, make_learner

pytestmark = pytest.mark.django_db

AMA_STATEMENT = (
    "Provider A designates this enduring material for a maximum of 1.50 AMA PRA Category 1 Credits™. "
    "Physicians should claim only the credit commensurate with the extent of their participation in the "
    "activity."
)


def credit_lines(snapshot) -> dict[str, str]:
    return {credit["code"]: credit["amount"] for credit in snapshot["credits"]}


# --- once per enrollment -------------------------------------------------------------------------------------


def test_claim_issues_the_certificate_and_emails_it_after_commit(
    physician, seed_activity, django_capture_on_commit_callbacks, mailoutbox
):
    enrollment, _ = services.enroll(learner=physician, activity=seed_activity)
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_credit(
            enrollment=enrollment,
            amounts={"ama_pra_1": Decimal("1.50"), "ipce": Decimal("1.50")},
            attested=True,
        )
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert certificate.versions.count() == 1
    message = OutboxMessage.objects.get(version__certificate=certificate)
    assert message.state == OutboxMessage.State.SENT
    assert [m.to for m in mailoutbox] == [[physician.email]]


def test_issuing_again_returns_the_same_certificate_one_version_one_email(
    completed_enrollment, django_capture_on_commit_callbacks, mailoutbox
):
    first = issue(completed_enrollment, django_capture_on_commit_callbacks)
    second = issue(completed_enrollment, django_capture_on_commit_callbacks)
    third = certificates.issue_certificate(enrollment=completed_enrollment)
    assert first.pk == second.pk == third.pk
    assert Certificate.objects.count() == 1
    assert CertificateVersion.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    assert len(mailoutbox) == 1
    assert AuditEntry.objects.filter(action="certificate.issued").count() == 1


def test_the_database_refuses_a_second_certificate_for_an_enrollment(certificate):
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.create(enrollment=certificate.enrollment)


def test_an_enrollment_without_a_claim_gets_no_certificate(physician, seed_activity):
    enrollment, _ = services.enroll(learner=physician, activity=seed_activity)
    with pytest.raises(certificates.CertificateError, match="no claim"):
        certificates.issue_certificate(enrollment=enrollment)
    assert not Certificate.objects.exists()


def test_issuing_is_audited_with_the_provider(certificate, provider_a):
    entry = AuditEntry.objects.get(action="certificate.issued")
    assert entry.object_id == str(certificate.pk)
    assert entry.provider == provider_a
    assert entry.actor is None  # the system issued it
    assert entry.data == {"version": 1, "code": certificate.code}


# --- identifiers ---------------------------------------------------------------------------------------------


def test_verification_id_is_long_random_and_url_safe_and_code_is_short_and_readable(
    certificate, certificate_b
):
    for cert in (certificate, certificate_b):
        assert re.fullmatch(r"[A-Za-z0-9_-]{24}", cert.verification_id)  # 144 random bits
        assert re.fullmatch(r"[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}", cert.code)  # no 0/O, 1/I
    assert certificate.verification_id != certificate_b.verification_id
    assert certificate.code != certificate_b.code


def test_ids_and_codes_are_drawn_fresh_each_time():
    def draw(field):
        return Certificate._meta.get_field(field).get_default()

    assert len({draw("verification_id") for _ in range(2000)}) == 2000
    assert len({draw("code") for _ in range(2000)}) == 2000


# --- the snapshot --------------------------------------------------------------------------------------------


def test_physician_snapshot_states_credit_claimed_with_statements(certificate, provider_a, seed_activity):
    snapshot = certificate.versions.get().snapshot
    assert snapshot["kind"] == "credit"
    assert snapshot["title"] == "Certificate of Credit"
    assert snapshot["learner_name"] == "Ada Lovelace, MD"
    assert snapshot["provider"] == "Provider A"
    assert snapshot["accreditation_statements"] == [
        "Provider A is accredited by the Accreditation Council for Continuing Medical Education (ACCME) to "
        "provide continuing medical education for physicians."
    ]
    assert snapshot["ja_statement"] == ""
    assert snapshot["activity_title"] == "Intrathecal drug delivery"
    assert snapshot["activity_type"] == "Internet Enduring Material"
    assert snapshot["format"] == "Online Learning"
    assert snapshot["location"] == ""  # enduring: no location
    assert snapshot["activity_dates"].startswith("Released ")
    assert credit_lines(snapshot) == {"ama_pra_1": "1.50", "ipce": "1.50"}
    ama = snapshot["credits"][0]
    assert ama["type"] == "AMA PRA Category 1 Credit™"
    assert ama["statement"] == AMA_STATEMENT
    assert "Interprofessional Continuing Education (IPCE)" in snapshot["credits"][1]["statement"]
    assert snapshot["ama_designation"] == ""  # a physician's certificate states the credit itself
    assert snapshot["moc"] == [{"board": "ABIM", "credit_type": "Medical Knowledge", "points": "1.50"}]
    assert snapshot["code"] == certificate.code
    assert snapshot["verification_url"] == f"http://testserver/verify/{certificate.verification_id}/"


def test_snapshot_states_the_amount_claimed_not_the_maximum(
    physician, seed_activity, django_capture_on_commit_callbacks
):
    enrollment = complete(
        physician, seed_activity, amounts={"ama_pra_1": Decimal("0.75"), "ipce": Decimal("1.25")}
    )
    snapshot = issue(enrollment, django_capture_on_commit_callbacks).versions.get().snapshot
    assert credit_lines(snapshot) == {"ama_pra_1": "0.75", "ipce": "1.25"}
    assert "maximum of 1.50 AMA PRA" in snapshot["credits"][0]["statement"]


def test_nurse_gets_completion_with_her_contact_hours(seed_activity, django_capture_on_commit_callbacks):
    nurse = make_learner(
        UserFactory(), first_name="Florence", last_name="Nightingale", profession="nurse", degree="RN"
    )
    snapshot = (
        issue(complete(nurse, seed_activity), django_capture_on_commit_callbacks).versions.get().snapshot
    )
    assert snapshot["kind"] == "completion"
    assert snapshot["title"] == "Certificate of Completion"
    assert snapshot["learner_name"] == "Florence Nightingale, RN"
    assert credit_lines(snapshot) == {"ipce": "1.50", "nursing": "1.50"}  # never AMA credit
    nursing = snapshot["credits"][1]
    assert nursing["type"] == "ANCC Nursing Contact Hours"
    assert nursing["unit"] == "contact hours"
    assert "1.50 nursing contact hours" in nursing["statement"]
    assert snapshot["ama_designation"] == ""  # she earned credit of her own: no participation statement
    assert snapshot["moc"] == []


def test_pharmacist_gets_pharmacy_hours_with_the_activity_number(
    seed_activity, django_capture_on_commit_callbacks
):
    pharmacist = make_learner(UserFactory(), profession="pharmacist", degree="PharmD")
    snapshot = (
        issue(complete(pharmacist, seed_activity), django_capture_on_commit_callbacks).versions.get().snapshot
    )
    assert snapshot["kind"] == "completion"
    assert credit_lines(snapshot) == {"ipce": "1.50", "pharmacy": "1.50"}
    pharmacy = snapshot["credits"][1]
    assert pharmacy["type"] == "ACPE Pharmacy Contact Hours"
    assert pharmacy["activity_number"] == "JA0000000-0000-25-001-H01-P"
    assert pharmacy["ceus"] == "0.15"
    assert snapshot["ama_designation"] == ""


def test_ipce_alone_is_a_completion_without_ama_designation(provider_a, django_capture_on_commit_callbacks):
    activity = ActivityFactory(provider=provider_a, credits={"ipce": "2.00"})
    nurse = make_learner(UserFactory(), profession="nurse")
    snapshot = issue(complete(nurse, activity), django_capture_on_commit_callbacks).versions.get().snapshot
    assert snapshot["kind"] == "completion"
    assert snapshot["ama_designation"] == ""
    assert credit_lines(snapshot) == {"ipce": "2.00"}


def test_jointly_provided_activity_states_the_joint_providership(
    provider_a, physician, django_capture_on_commit_callbacks
):
    activity = ActivityFactory(
        provider=provider_a,
        providership=Activity.Providership.JOINT,
        joint_provider="Society of Intrathecal Medicine",
    )
    snapshot = (
        issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get().snapshot
    )
    (joint,) = snapshot["accreditation_statements"]
    assert "joint providership of Provider A and Society of Intrathecal Medicine" in joint
    assert "Provider A is accredited by the ACCME to provide continuing medical education" in joint


@time_machine.travel(datetime(2026, 3, 10, 18, 0, tzinfo=UTC), tick=False)
def test_live_course_states_location_and_its_day(provider_a, physician, django_capture_on_commit_callbacks):
    activity = ActivityFactory(
        provider=provider_a,
        activity_type="course",
        format="in_person",
        location="Boston Convention Center, Boston, MA",
        start=datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
        end=datetime(2026, 3, 10, 17, 0, tzinfo=UTC),
        credits={"ama_pra_1": "7.00"},
    )
    snapshot = (
        issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get().snapshot
    )
    assert snapshot["activity_type"] == "Course"
    assert snapshot["format"] == "In Person"
    assert snapshot["location"] == "Boston Convention Center, Boston, MA"
    assert snapshot["activity_dates"] == "Mar 10, 2026, 09:00–17:00 UTC"
    assert snapshot["start"] == "2026-03-10T09:00:00+00:00"
    assert snapshot["end"] == "2026-03-10T17:00:00+00:00"
    assert "7.00 AMA PRA Category 1 Credits™" in snapshot["credits"][0]["statement"]
    assert "this live activity" in snapshot["credits"][0]["statement"]


def test_enduring_material_never_states_a_location(provider_a, physician, django_capture_on_commit_callbacks):
    activity = ActivityFactory(provider=provider_a, location="Somewhere stale")
    snapshot = (
        issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get().snapshot
    )
    assert snapshot["location"] == ""


def test_other_blended_activity_states_its_label(provider_a, physician, django_capture_on_commit_callbacks):
    activity = ActivityFactory(provider=provider_a, activity_type="other_blended", format="blended")
    snapshot = (
        issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get().snapshot
    )
    assert snapshot["activity_type"] == "Other/Blended Learning"
    assert snapshot["format"] == "Blended"


def test_snapshot_dates_completion_claim_and_issue(provider_a, physician, django_capture_on_commit_callbacks):
    activity = ActivityFactory(
        provider=provider_a,
        start=datetime(2026, 1, 5, tzinfo=UTC),
        end=datetime(2027, 1, 5, tzinfo=UTC),
    )
    with time_machine.travel(datetime(2026, 3, 10, 15, 0, tzinfo=UTC), tick=False):
        enrollment = complete(physician, activity)
    with time_machine.travel(datetime(2026, 3, 12, 8, 0, tzinfo=UTC), tick=False):
        version = issue(enrollment, django_capture_on_commit_callbacks).versions.get()
    snapshot = version.snapshot
    assert snapshot["activity_dates"] == "Released Jan 5, 2026, credit until Jan 5, 2027"
    assert snapshot["completed_on"] == "2026-03-10"
    assert snapshot["claimed_on"] == "2026-03-10"
    assert snapshot["issued_on"] == "2026-03-12"
    assert version.issued_at == datetime(2026, 3, 12, 8, 0, tzinfo=UTC)


def test_snapshot_is_frozen_when_the_learner_or_activity_changes(certificate, physician, seed_activity):
    before = certificate.versions.get().snapshot
    profile = physician.profile
    services.update_profile(
        profile=profile, first_name="Augusta", last_name="King", fields={}, consent=True, licenses=[],
        board_ids=list(profile.board_ids.values_list("board", "board_id")),
    )  # fmt: skip
    Activity.objects.filter(pk=seed_activity.pk).update(title="Renamed")
    assert CertificateVersion.objects.get(certificate=certificate).snapshot == before
    assert before["learner_name"] == "Ada Lovelace, MD"


def test_snapshot_holds_no_personal_data_beyond_the_name(certificate, physician):
    profile = physician.profile
    assert (profile.npi, profile.birth_mmdd) == ("1234567893", "0714")  # the learner did give them
    assert list(profile.board_ids.values_list("board_id", flat=True)) == ["ABIM-448812"]
    text = repr(certificate.versions.get().snapshot)
    assert "Ada Lovelace, MD" in text
    for private in (physician.email, "1234567893", "ABIM-448812", "0714", "07/14"):
        assert private not in text


# --- reissue -------------------------------------------------------------------------------------------------


def test_reissue_after_name_correction_adds_a_version_and_keeps_ids(
    certificate, physician, staff_a, django_capture_on_commit_callbacks, mailoutbox
):
    profile = physician.profile
    services.update_profile(
        profile=profile, first_name="Ada", last_name="King-Lovelace", fields={}, consent=True, licenses=[],
        board_ids=list(profile.board_ids.values_list("board", "board_id")),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        version = certificates.reissue_certificate(
            certificate=certificate, by=staff_a, reason="  Surname corrected  "
        )
    certificate.refresh_from_db()
    assert version.number == 2
    assert version.reason == "Surname corrected"
    assert version.issued_by == staff_a
    assert version.snapshot["learner_name"] == "Ada King-Lovelace, MD"
    assert version.snapshot["code"] == certificate.code
    assert version.snapshot["verification_url"].endswith(f"/verify/{certificate.verification_id}/")
    old = certificate.versions.get(number=1)
    assert old.snapshot["learner_name"] == "Ada Lovelace, MD"
    assert [v.number for v in certificate.versions.all()] == [2, 1]
    assert len(mailoutbox) == 2
    assert OutboxMessage.objects.get(version=version).requested_by == staff_a
    entry = AuditEntry.objects.get(action="certificate.reissued")
    assert entry.actor == staff_a
    assert entry.data == {"version": 2, "reason": "Surname corrected"}


def test_reissue_withdraws_an_earlier_version_still_waiting_to_be_emailed(
    completed_enrollment, staff_a, mailoutbox
):
    certificate = certificates.issue_certificate(enrollment=completed_enrollment)  # its email not yet sent
    first = OutboxMessage.objects.get()
    version = certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="Name corrected")
    first.refresh_from_db()
    assert first.state == "failed" and "superseded by version 2" in first.last_error
    waiting = OutboxMessage.objects.get(state="pending")
    assert waiting.version == version
    assert outbox.send_message(message_id=first.pk) == "failed"  # a stray task sends nothing
    assert mailoutbox == []


def test_reissue_needs_a_reason(certificate, staff_a):
    with pytest.raises(certificates.CertificateError):
        certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="   ")
    assert certificate.versions.count() == 1


def test_a_revoked_certificate_cannot_be_reissued(certificate, staff_a):
    certificates.revoke_certificate(certificate=certificate, reason="Claimed in error", by=staff_a)
    with pytest.raises(certificates.CertificateError, match="revoked"):
        certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="Try anyway")
    assert certificate.versions.count() == 1


# --- revoke --------------------------------------------------------------------------------------------------


def test_revoke_keeps_the_row_and_records_who_when_why(certificate, staff_a):
    with time_machine.travel(datetime(2026, 6, 1, 9, 0, tzinfo=UTC), tick=False):
        certificates.revoke_certificate(
            certificate=certificate, reason=" Attendance not verified ", by=staff_a
        )
    certificate.refresh_from_db()
    assert certificate.is_revoked
    assert certificate.revoked_at == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert certificate.revoked_by == staff_a
    assert certificate.revoke_reason == "Attendance not verified"
    assert certificate.versions.count() == 1
    entry = AuditEntry.objects.get(action="certificate.revoked")
    assert (entry.actor, entry.data) == (staff_a, {"reason": "Attendance not verified"})


@pytest.mark.parametrize("reason", ["", "   "])
def test_revoke_needs_a_reason(certificate, staff_a, reason):
    with pytest.raises(certificates.CertificateError, match="reason"):
        certificates.revoke_certificate(certificate=certificate, reason=reason, by=staff_a)
    certificate.refresh_from_db()
    assert not certificate.is_revoked
    assert not AuditEntry.objects.filter(action="certificate.revoked").exists()


def test_revoking_twice_keeps_the_first_revocation(certificate, staff_a, accreditor):
    certificates.revoke_certificate(certificate=certificate, reason="First", by=staff_a)
    certificates.revoke_certificate(certificate=certificate, reason="Second", by=accreditor)
    certificate.refresh_from_db()
    assert (certificate.revoke_reason, certificate.revoked_by) == ("First", staff_a)
    assert AuditEntry.objects.filter(action="certificate.revoked").count() == 1


def test_the_database_refuses_a_revocation_without_a_reason(certificate):
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.filter(pk=certificate.pk).update(revoked_at=certificate.created)


# --- resend --------------------------------------------------------------------------------------------------


def test_resend_queues_one_new_email_of_the_current_version(
    certificate, physician, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        message = certificates.resend_certificate(certificate=certificate, by=physician)
    assert message.version == certificate.versions.get()
    assert message.requested_by == physician
    assert OutboxMessage.objects.count() == 2
    assert len(mailoutbox) == 2
    assert AuditEntry.objects.filter(action="certificate.resent", actor=physician).count() == 1


def test_resend_is_refused_while_an_email_is_on_its_way(completed_enrollment, physician):
    certificate = certificates.issue_certificate(enrollment=completed_enrollment)  # its email still pending
    assert certificates.resend_refusal(certificate) == "An email with this certificate is already on its way."
    with pytest.raises(certificates.CertificateError, match="already on its way"):
        certificates.resend_certificate(certificate=certificate, by=physician)
    OutboxMessage.objects.update(
        state=OutboxMessage.State.SENDING, lease_token=uuid.uuid4(), lease_expires_at=timezone.now()
    )
    with pytest.raises(certificates.CertificateError):
        certificates.resend_certificate(certificate=certificate, by=physician)
    assert OutboxMessage.objects.count() == 1


def test_resend_of_a_revoked_certificate_is_refused(certificate, physician, staff_a):
    certificates.revoke_certificate(certificate=certificate, reason="Claimed in error", by=staff_a)
    with pytest.raises(certificates.CertificateError, match="revoked"):
        certificates.resend_certificate(certificate=certificate, by=physician)
    assert OutboxMessage.objects.count() == 1


def test_delivery_status_is_the_latest_email(certificate, physician, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        message = certificates.resend_certificate(certificate=certificate, by=physician)
    assert outbox.delivery_status(certificate) == message


def test_an_issuing_task_takes_a_backlog_of_waiting_claims_in_one_batch(seed_activity, mailoutbox):
    """Claims that queued up are issued and emailed by the first task to run; the others find them done."""
    from learners import tasks

    waiting = [complete(make_learner(), seed_activity) for _ in range(5)]
    unclaimed, _ = services.enroll(learner=make_learner(), activity=seed_activity)

    tasks.issue_certificate_task(waiting[0].pk)

    assert Certificate.objects.count() == 5  # the enrollment without a claim is left out
    assert not Certificate.objects.filter(enrollment=unclaimed).exists()
    assert CertificateVersion.objects.count() == 5
    assert sorted(m.to[0] for m in mailoutbox) == sorted(e.learner.email for e in waiting)
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}

    tasks.issue_certificate_task(waiting[3].pk)  # its own task, later: nothing more to do
    assert Certificate.objects.count() == 5 and len(mailoutbox) == 5 and OutboxMessage.objects.count() == 5
