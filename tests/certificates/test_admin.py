"""Certificate and email admin: scoped to the staff member's providers, with filters, and revoke, reissue and
resend actions that preview first and act only on confirmation."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learners.models import Certificate, CertificateVersion, OutboxMessage
from learners.services import certificates, outbox
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import complete, issue, make_learner, messages_of, page_text

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:learners_certificate_changelist")
OUTBOX = reverse("admin:learners_outboxmessage_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:learners_{obj._meta.model_name}_change", args=[obj.pk])


def preview(client, action, certs):
    """The first POST, as the changelist's action form sends it."""
    return client.post(
        CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in certs], "index": "0"}
    )


def confirm(client, action, certs, **fields):
    """The second POST, as the preview page's form sends it."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in certs], "confirm": "yes", **fields}
    return client.post(CHANGELIST, data)


@pytest.fixture
def another_certificate(seed_activity, django_capture_on_commit_callbacks):
    """A second learner's certificate for provider A's activity, emailed."""
    learner = make_learner(UserFactory(email="grace@example.com"), first_name="Grace", last_name="Hopper")
    return issue(complete(learner, seed_activity), django_capture_on_commit_callbacks)


# --- scoping -------------------------------------------------------------------------------------------------


def test_changelist_shows_only_own_providers_certificates(as_staff_a, certificate, certificate_b):
    response = as_staff_a.get(CHANGELIST)
    assert response.status_code == 200
    assert certificate.code in response.text
    assert certificate_b.code not in response.text


def test_other_providers_staff_never_see_a_certificate(as_staff_b, certificate, certificate_b):
    response = as_staff_b.get(CHANGELIST)
    assert certificate_b.code in response.text
    assert certificate.code not in response.text
    assert "Intrathecal drug delivery" not in response.text  # not even in the activity filter
    assert as_staff_b.get(change_url(certificate)).status_code == 404
    assert as_staff_b.get(change_url(certificate_b)).status_code == 200
    assert "0 results" in page_text(as_staff_b.get(CHANGELIST, {"q": certificate.code}))


def test_other_providers_staff_never_see_an_email(as_staff_b, certificate, certificate_b):
    mine = OutboxMessage.objects.get(version__certificate=certificate_b)
    theirs = OutboxMessage.objects.get(version__certificate=certificate)
    response = as_staff_b.get(OUTBOX)
    assert response.status_code == 200
    assert mine.recipient in response.text
    assert theirs.recipient not in response.text
    assert as_staff_b.get(change_url(theirs)).status_code == 404
    assert as_staff_b.get(change_url(mine)).status_code == 200


def test_other_providers_enrollments_and_claims_are_out_of_reach(as_staff_b, certificate, certificate_b):
    enrollment = certificate.enrollment
    for name, obj in (("enrollment", enrollment), ("creditclaim", enrollment.claim)):
        response = as_staff_b.get(reverse(f"admin:learners_{name}_changelist"))
        assert response.status_code == 200
        assert certificate_b.enrollment.learner.email in response.text  # their own learner's row is listed
        assert enrollment.learner.email not in response.text
        assert "Intrathecal drug delivery" not in response.text
        assert as_staff_b.get(change_url(obj)).status_code == 404


@pytest.mark.parametrize("action", ["revoke", "reissue", "resend"])
def test_crafted_actions_on_other_providers_certificates_do_nothing(
    as_staff_b, certificate, action, django_capture_on_commit_callbacks, mailoutbox
):
    sent_before = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        first = preview(as_staff_b, action, [certificate])
        second = confirm(as_staff_b, action, [certificate], reason="Hijack")
        third = as_staff_b.post(
            CHANGELIST,
            {"action": action, ACTION_CHECKBOX_NAME: [certificate.pk], "index": "0", "select_across": "1",
             "confirm": "yes", "reason": "Hijack"},
        )  # fmt: skip
    for response in (first, second, third):
        assert certificate.code not in response.text
    certificate.refresh_from_db()
    assert not certificate.is_revoked
    assert CertificateVersion.objects.filter(certificate=certificate).count() == 1
    assert OutboxMessage.objects.filter(version__certificate=certificate).count() == 1
    assert len(mailoutbox) == sent_before


def test_accreditation_staff_see_and_act_on_every_provider(client, accreditor, certificate, certificate_b):
    client.force_login(accreditor)
    response = client.get(CHANGELIST)
    assert certificate.code in response.text and certificate_b.code in response.text
    assert client.get(change_url(certificate)).status_code == 200
    assert client.get(OUTBOX).text.count("@example.com") >= 2
    confirm(client, "revoke", [certificate, certificate_b], reason="Audit finding")
    assert Certificate.objects.filter(revoked_by=accreditor).count() == 2


def test_viewers_see_but_cannot_act(client, viewer_a, certificate):
    client.force_login(viewer_a)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert certificate.code in response.text
    assert 'value="revoke"' not in response.text
    for action in ("revoke", "reissue", "resend"):
        preview(client, action, [certificate])
        confirm(client, action, [certificate], reason="Viewer tries")
    certificate.refresh_from_db()
    assert not certificate.is_revoked
    assert certificate.versions.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_certificates_cannot_be_added_deleted_or_edited_by_hand(as_staff_a, certificate):
    assert as_staff_a.get(reverse("admin:learners_certificate_add")).status_code == 403
    delete = change_url(certificate).replace("/change/", "/delete/")
    assert as_staff_a.post(delete, {"post": "yes"}).status_code == 403
    assert Certificate.objects.filter(pk=certificate.pk).exists()
    as_staff_a.post(change_url(certificate), {"revoke_reason": "typed in"})
    certificate.refresh_from_db()
    assert certificate.revoke_reason == ""


# --- filters -------------------------------------------------------------------------------------------------


def test_filter_by_status(as_staff_a, certificate, another_certificate, staff_a):
    certificates.revoke_certificate(certificate=another_certificate, reason="Claimed in error", by=staff_a)
    revoked = as_staff_a.get(CHANGELIST, {"status": "revoked"}).text
    assert another_certificate.code in revoked and certificate.code not in revoked
    valid = as_staff_a.get(CHANGELIST, {"status": "valid"}).text
    assert certificate.code in valid and another_certificate.code not in valid


def test_filter_by_delivery(
    as_staff_a, certificate, another_certificate, completed_enrollment, seed_activity
):
    OutboxMessage.objects.filter(version__certificate=another_certificate).update(
        state="failed", sent_at=None
    )
    waiting = certificates.issue_certificate(enrollment=complete(make_learner(UserFactory()), seed_activity))
    for value, shown in (("sent", certificate), ("failed", another_certificate), ("pending", waiting)):
        text = as_staff_a.get(CHANGELIST, {"delivery": value}).text
        codes = {c.code for c in (certificate, another_certificate, waiting) if c.code in text}
        assert codes == {shown.code}, value
    OutboxMessage.objects.filter(version__certificate=waiting).delete()
    text = as_staff_a.get(CHANGELIST, {"delivery": "none"}).text
    assert waiting.code in text and certificate.code not in text


def test_filter_by_activity(
    as_staff_a, certificate, physician, provider_a, django_capture_on_commit_callbacks
):
    other_activity = ActivityFactory(provider=provider_a, title="Airway management")
    other = issue(complete(physician, other_activity), django_capture_on_commit_callbacks)
    response = as_staff_a.get(CHANGELIST)
    assert "Airway management" in response.text  # offered as a filter choice
    text = as_staff_a.get(CHANGELIST, {"enrollment__activity__id__exact": other_activity.pk}).text
    assert other.code in text and certificate.code not in text


def test_outbox_filter_by_state(as_staff_a, certificate, another_certificate):
    OutboxMessage.objects.filter(version__certificate=another_certificate).update(
        state="failed", sent_at=None, last_error="550 5.1.1 No such user here"
    )
    text = as_staff_a.get(OUTBOX, {"state__exact": "failed"}).text
    assert "grace@example.com" in text and "learner-a@example.com" not in text
    assert "550 5.1.1 No such user here" in text


def test_changelist_does_not_query_per_row(
    as_staff_a, certificate, seed_activity, django_capture_on_commit_callbacks
):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert as_staff_a.get(CHANGELIST).status_code == 200
        return len(queries)

    one = count()
    for _ in range(4):
        issue(complete(make_learner(UserFactory()), seed_activity), django_capture_on_commit_callbacks)
    assert count() == one


# --- revoke --------------------------------------------------------------------------------------------------


def test_revoke_previews_then_revokes_with_the_reason(as_staff_a, staff_a, certificate):
    response = preview(as_staff_a, "revoke", [certificate])
    assert response.status_code == 200
    text = page_text(response)
    assert "1 certificate would be affected, 0 not." in text
    assert certificate.code in text
    assert 'name="reason"' in response.text
    certificate.refresh_from_db()
    assert not certificate.is_revoked  # the preview changes nothing

    response = confirm(as_staff_a, "revoke", [certificate], reason="Attendance not verified")
    assert response.status_code == 302
    assert messages_of(response) == ["1 certificate revoked."]
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate.revoked_by == staff_a
    assert certificate.revoke_reason == "Attendance not verified"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_revoke_without_a_reason_shows_the_error_and_revokes_nothing(as_staff_a, certificate, reason):
    fields = {} if reason is None else {"reason": reason}
    response = confirm(as_staff_a, "revoke", [certificate], **fields)
    assert response.status_code == 200
    assert "This field is required." in page_text(response)
    certificate.refresh_from_db()
    assert not certificate.is_revoked


def test_revoke_preview_lists_what_is_already_revoked(as_staff_a, staff_a, certificate, another_certificate):
    certificates.revoke_certificate(certificate=another_certificate, reason="Earlier", by=staff_a)
    text = page_text(preview(as_staff_a, "revoke", [certificate, another_certificate]))
    assert "1 certificate would be affected, 1 not." in text
    assert f"{another_certificate.code}: This certificate is already revoked." in text
    confirm(as_staff_a, "revoke", [certificate, another_certificate], reason="Later")
    another_certificate.refresh_from_db()
    assert another_certificate.revoke_reason == "Earlier"


# --- reissue -------------------------------------------------------------------------------------------------


def test_reissue_creates_version_2_and_emails_it(
    as_staff_a, staff_a, certificate, physician, django_capture_on_commit_callbacks, mailoutbox
):
    physician.last_name = "King-Lovelace"
    physician.save()
    text = page_text(preview(as_staff_a, "reissue", [certificate]))
    assert "1 certificate would be affected, 0 not." in text
    assert certificate.versions.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(as_staff_a, "reissue", [certificate], reason="Surname corrected")
    assert messages_of(response) == ["1 certificate reissued and emailed."]
    version = certificate.versions.get(number=2)
    assert (version.reason, version.issued_by) == ("Surname corrected", staff_a)
    assert version.snapshot["learner_name"] == "Ada King-Lovelace, MD"
    assert len(mailoutbox) == 2
    assert "Ada King-Lovelace, MD" in mailoutbox[-1].body
    assert OutboxMessage.objects.get(version=version).state == "sent"
    assert as_staff_a.get(change_url(certificate)).status_code == 200


def test_reissue_without_a_reason_does_nothing(as_staff_a, certificate):
    response = confirm(as_staff_a, "reissue", [certificate], reason="")
    assert "This field is required." in page_text(response)
    assert certificate.versions.count() == 1


def test_reissue_skips_revoked_certificates(as_staff_a, staff_a, certificate, another_certificate):
    certificates.revoke_certificate(certificate=another_certificate, reason="Claimed in error", by=staff_a)
    text = page_text(preview(as_staff_a, "reissue", [certificate, another_certificate]))
    assert "1 certificate would be affected, 1 not." in text
    assert f"{another_certificate.code}: A revoked certificate cannot be reissued." in text
    response = confirm(as_staff_a, "reissue", [certificate, another_certificate], reason="Reprint")
    assert messages_of(response) == ["1 certificate reissued and emailed."]
    assert certificate.versions.count() == 2
    assert another_certificate.versions.count() == 1


# --- resend --------------------------------------------------------------------------------------------------


def test_resend_previews_what_would_go_and_why_not_then_sends_on_confirm(
    as_staff_a, staff_a, certificate, another_certificate, seed_activity,
    django_capture_on_commit_callbacks, mailoutbox,
):  # fmt: skip
    certificates.revoke_certificate(certificate=another_certificate, reason="Claimed in error", by=staff_a)
    waiting = certificates.issue_certificate(enrollment=complete(make_learner(UserFactory()), seed_activity))
    selected = [certificate, another_certificate, waiting]
    messages_before, sent_before = OutboxMessage.objects.count(), len(mailoutbox)

    response = preview(as_staff_a, "resend", selected)
    text = page_text(response)
    assert "1 certificate would be affected, 2 not." in text
    assert f"{another_certificate.code}: This certificate is revoked." in text
    assert f"{waiting.code}: An email with this certificate is already on its way." in text
    assert 'name="reason"' not in response.text  # resending needs no reason
    assert OutboxMessage.objects.count() == messages_before
    assert len(mailoutbox) == sent_before

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(as_staff_a, "resend", selected)
    assert messages_of(response) == ["1 certificate queued to email."]
    assert OutboxMessage.objects.count() == messages_before + 1
    latest = outbox.delivery_status(certificate)
    assert (latest.state, latest.requested_by) == ("sent", staff_a)
    assert len(mailoutbox) == sent_before + 1
    assert mailoutbox[-1].to == ["learner-a@example.com"]


def test_resend_preview_with_nothing_to_send_offers_no_confirm(as_staff_a, staff_a, certificate):
    certificates.revoke_certificate(certificate=certificate, reason="Claimed in error", by=staff_a)
    response = preview(as_staff_a, "resend", [certificate])
    assert "0 certificates would be affected, 1 not." in page_text(response)
    assert 'value="Confirm"' not in response.text
