"""Learners download and re-send their own certificates from the dashboard, and see how delivery went."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from learners.models import OutboxMessage
from learners.pdf.certificate import render_certificate
from learners.services import certificates, outbox
from tests.certificates.conftest import REFUSED
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import complete, issue, make_learner, messages_of, page_text

pytestmark = pytest.mark.django_db


def pdf_url(certificate) -> str:
    return reverse("learners:certificate_pdf", kwargs={"verification_id": certificate.verification_id})


def resend_url(certificate) -> str:
    return reverse("learners:certificate_resend", kwargs={"verification_id": certificate.verification_id})


# --- download ------------------------------------------------------------------------------------------------


def test_learner_downloads_their_own_certificate(client, certificate, physician):
    client.force_login(physician)
    response = client.get(pdf_url(certificate))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="certificate-{certificate.code}.pdf"'
    assert response.content == render_certificate(certificate.versions.get())
    assert pdf_url(certificate) == f"/me/certificates/{certificate.verification_id}.pdf"


def test_download_is_the_current_version(client, certificate, physician, staff_a):
    version = certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="Reprint")
    client.force_login(physician)
    assert client.get(pdf_url(certificate)).content == render_certificate(version)


def test_another_learner_gets_a_404(client, certificate, physician_b):
    client.force_login(physician_b)
    assert client.get(pdf_url(certificate)).status_code == 404


def test_provider_staff_get_a_404_on_the_learner_url(client, certificate, staff_a):
    client.force_login(staff_a)
    assert client.get(pdf_url(certificate)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, certificate):
    response = client.get(pdf_url(certificate))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    assert certificate.verification_id in response["Location"]


def test_unknown_certificate_is_a_404(client, physician):
    client.force_login(physician)
    assert client.get("/me/certificates/nope.pdf").status_code == 404


# --- resend --------------------------------------------------------------------------------------------------


def test_resend_queues_one_new_email(
    client, certificate, physician, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(physician)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resend_url(certificate))
    assert response.status_code == 302
    assert response["Location"] == reverse("learners:dashboard")
    assert messages_of(response) == ["Your certificate is on its way to learner-a@example.com."]
    assert OutboxMessage.objects.filter(version__certificate=certificate).count() == 2
    latest = outbox.delivery_status(certificate)
    assert (latest.state, latest.requested_by) == ("sent", physician)
    assert len(mailoutbox) == 2


def test_resend_while_one_is_pending_is_refused(client, completed_enrollment, physician):
    certificate = certificates.issue_certificate(enrollment=completed_enrollment)  # email not sent yet
    client.force_login(physician)
    response = client.post(resend_url(certificate))
    assert response.status_code == 302
    assert messages_of(response) == ["An email with this certificate is already on its way."]
    assert OutboxMessage.objects.count() == 1


def test_resend_twice_quickly_queues_one(client, certificate, physician):
    client.force_login(physician)
    first = client.post(resend_url(certificate))  # its email waits for commit, so it is still pending
    assert messages_of(first) == ["Your certificate is on its way to learner-a@example.com."]
    second = client.post(resend_url(certificate))
    assert messages_of(second)[-1] == "An email with this certificate is already on its way."
    assert OutboxMessage.objects.filter(version__certificate=certificate).count() == 2


def test_resend_of_a_revoked_certificate_is_refused(client, certificate, physician, staff_a):
    certificates.revoke_certificate(certificate=certificate, reason="Claimed in error", by=staff_a)
    client.force_login(physician)
    response = client.post(resend_url(certificate))
    assert messages_of(response) == ["This certificate is revoked."]
    assert OutboxMessage.objects.count() == 1


def test_another_learner_cannot_resend(client, certificate, physician_b):
    client.force_login(physician_b)
    assert client.post(resend_url(certificate)).status_code == 404
    assert OutboxMessage.objects.count() == 1


def test_resend_needs_post_and_sign_in(client, certificate, physician):
    response = client.post(resend_url(certificate))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    client.force_login(physician)
    assert client.get(resend_url(certificate)).status_code == 405
    assert OutboxMessage.objects.count() == 1


# --- what the dashboard says ---------------------------------------------------------------------------------


def dashboard(client, user):
    client.force_login(user)
    response = client.get(reverse("learners:dashboard"))
    assert response.status_code == 200
    return response


def test_dashboard_says_when_and_where_it_was_emailed(client, certificate, physician):
    sent_at = outbox.delivery_status(certificate).sent_at
    response = dashboard(client, physician)
    text = page_text(response)
    when = timezone.localtime(sent_at).strftime("%b %-d, %Y %H:%M")
    assert f"Emailed to learner-a@example.com on {when}" in text
    assert f"Download certificate {certificate.code}" in text
    assert f'href="{pdf_url(certificate)}"' in response.text
    assert f'action="{resend_url(certificate)}"' in response.text
    assert "Email it again" in text


def test_dashboard_says_an_email_is_on_its_way(client, completed_enrollment, physician):
    certificate = certificates.issue_certificate(enrollment=completed_enrollment)
    response = dashboard(client, physician)
    assert "Email on its way" in page_text(response)
    assert resend_url(certificate) not in response.text  # no button while one is pending


def test_dashboard_says_when_it_could_not_be_emailed(
    client, seed_activity, smtp_server, django_capture_on_commit_callbacks
):
    learner = make_learner(UserFactory(email=REFUSED))
    certificate = issue(complete(learner, seed_activity), django_capture_on_commit_callbacks)
    assert outbox.delivery_status(certificate).state == "failed"
    response = dashboard(client, learner)
    assert f"Could not be emailed to {REFUSED}" in page_text(response)
    assert f'action="{resend_url(certificate)}"' in response.text


def test_dashboard_shows_a_revoked_certificate_without_download(client, certificate, physician, staff_a):
    certificates.revoke_certificate(certificate=certificate, reason="Claimed in error", by=staff_a)
    response = dashboard(client, physician)
    assert "Revoked (Claimed in error)" in page_text(response)
    assert pdf_url(certificate) not in response.text
    assert resend_url(certificate) not in response.text


def test_a_revoked_certificate_no_longer_downloads(client, certificate, physician, staff_a):
    client.force_login(physician)
    assert client.get(pdf_url(certificate)).status_code == 200
    certificates.revoke_certificate(certificate=certificate, reason="Claimed in error", by=staff_a)
    assert client.get(pdf_url(certificate)).status_code == 404


def test_dashboard_before_the_certificate_is_issued(client, completed_enrollment, physician):
    assert "Being prepared" in page_text(dashboard(client, physician))


def test_dashboard_shows_only_the_learners_own_certificates(client, certificate, certificate_b, physician_b):
    response = dashboard(client, physician_b)
    assert certificate_b.code in response.text
    assert certificate.code not in response.text
    assert certificate.verification_id not in response.text


def test_dashboard_queries_do_not_grow_with_certificates(
    client, physician, provider_a, django_capture_on_commit_callbacks
):
    def count():
        client.force_login(physician)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("learners:dashboard")).status_code == 200
        return len(queries)

    issue(complete(physician, ActivityFactory(provider=provider_a)), django_capture_on_commit_callbacks)
    one = count()
    for _ in range(3):
        issue(complete(physician, ActivityFactory(provider=provider_a)), django_capture_on_commit_callbacks)
    assert count() == one


def test_after_a_bounce_the_learner_fixes_their_email_and_resends(
    client, seed_activity, smtp_server, django_capture_on_commit_callbacks
):
    learner = make_learner(UserFactory(email=REFUSED))
    certificate = issue(complete(learner, seed_activity), django_capture_on_commit_callbacks)
    learner.email = "fixed@example.com"
    learner.save()
    client.force_login(learner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(resend_url(certificate))
    latest = outbox.delivery_status(certificate)
    assert (latest.recipient, latest.state) == ("fixed@example.com", "sent")
    assert [r for r, _ in smtp_server.received] == [["fixed@example.com"]]
    assert "Emailed to fixed@example.com on" in page_text(client.get(reverse("learners:dashboard")))
