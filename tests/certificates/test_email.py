"""Certificate email: one outbox row per message, claimed before sending, SMTP errors classified, against a
real SMTP server on this machine (aiosmtpd) as well as Django's in-memory outbox."""

import email
import email.policy
import smtplib
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from learners import services, tasks
from learners.models import Certificate, OutboxMessage
from learners.pdf.certificate import render_certificate
from learners.services import certificates, dispatch, outbox
from tests.certificates.conftest import GREYLISTED, REFUSED, free_port
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import complete, extracted_text, glyphless, issue, make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(completed_enrollment) -> OutboxMessage:
    """Learner A's certificate email, queued and not yet sent (its task never ran)."""
    certificate = certificates.issue_certificate(enrollment=completed_enrollment)
    return OutboxMessage.objects.get(version__certificate=certificate)


def pending_for(address: str, activity) -> OutboxMessage:
    learner = make_learner(UserFactory(email=address))
    certificate = certificates.issue_certificate(enrollment=complete(learner, activity))
    return OutboxMessage.objects.get(version__certificate=certificate)


def test_issuing_queues_exactly_one_message(pending, physician):
    assert OutboxMessage.objects.count() == 1
    assert pending.state == OutboxMessage.State.PENDING
    assert pending.recipient == physician.email
    assert pending.subject == "Your Certificate of Credit: Intrathecal drug delivery"
    assert pending.attempts == 0
    assert pending.next_attempt_at is not None


def test_the_email_has_text_and_html_bodies_the_pdf_and_both_links(pending, mailoutbox):
    assert outbox.send_message(message_id=pending.pk) == OutboxMessage.State.SENT
    [sent] = mailoutbox
    version = pending.version
    certificate = version.certificate
    verify_url = f"http://testserver/verify/{certificate.verification_id}/"
    assert sent.subject == "Your Certificate of Credit: Intrathecal drug delivery"
    assert sent.to == ["learner-a@example.com"]
    assert sent.extra_headers["X-CME-Certificate"] == certificate.code
    for expected in ("Ada Lovelace, MD", "1.50 AMA PRA Category 1 Credit™", certificate.code, verify_url,
                     "http://testserver/me/"):  # fmt: skip
        assert expected in sent.body
    [(html, mimetype)] = sent.alternatives
    assert mimetype == "text/html"
    assert f'href="{verify_url}"' in html
    assert 'href="http://testserver/me/"' in html
    [(filename, content, pdf_type)] = sent.attachments
    assert (filename, pdf_type) == (f"certificate-{certificate.code}.pdf", "application/pdf")
    assert content == render_certificate(version)


def test_a_second_send_of_the_same_message_sends_nothing(pending, mailoutbox):
    assert outbox.send_message(message_id=pending.pk) == "sent"
    assert outbox.send_message(message_id=pending.pk) == "sent"
    assert len(mailoutbox) == 1
    pending.refresh_from_db()
    assert (pending.state, pending.attempts) == ("sent", 1)
    assert pending.sent_at is not None
    assert pending.sending_since is None


def test_the_row_is_claimed_before_the_email_goes_out(pending, observing_backend, mailoutbox):
    assert outbox.send_message(message_id=pending.pk) == "sent"
    assert observing_backend == [("sending", 1)]
    assert len(mailoutbox) == 1


def test_a_message_another_worker_has_claimed_is_left_alone(pending, mailoutbox):
    OutboxMessage.objects.filter(pk=pending.pk).update(
        state="sending",
        sending_since=pending.created,
        lease_token=uuid.uuid4(),
        lease_expires_at=pending.created + outbox.lease_length(),
    )
    assert outbox.send_message(message_id=pending.pk) == "sending"
    assert mailoutbox == []


def test_a_failed_message_is_not_sent_again_and_an_unknown_one_is_missing(pending, mailoutbox):
    OutboxMessage.objects.filter(pk=pending.pk).update(state="failed")
    assert outbox.send_message(message_id=pending.pk) == "failed"
    assert outbox.send_message(message_id=pending.pk + 1000) == "missing"
    assert mailoutbox == []


def test_a_redelivered_email_task_sends_once(pending, mailoutbox):
    tasks.send_email_task.delay(pending.pk)
    tasks.send_email_task.delay(pending.pk)
    assert len(mailoutbox) == 1


# --- a real SMTP server ------------------------------------------------------------------------------------


def test_smtp_server_receives_the_email_with_its_attachment(pending, smtp_server):
    assert outbox.send_message(message_id=pending.pk) == "sent"
    [(recipients, raw)] = smtp_server.received
    assert recipients == ["learner-a@example.com"]
    parsed = email.message_from_bytes(raw)
    types = [part.get_content_type() for part in parsed.walk()]
    assert {"text/plain", "text/html", "application/pdf"} <= set(types)
    pdf = next(part for part in parsed.walk() if part.get_content_type() == "application/pdf")
    assert pdf.get_payload(decode=True) == render_certificate(pending.version)


def test_smtp_550_is_permanent(seed_activity, smtp_server):
    message = pending_for(REFUSED, seed_activity)
    assert outbox.send_message(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED
    assert message.attempts == 1
    assert "550" in message.last_error
    assert message.sent_at is None and message.sending_since is None
    assert smtp_server.received == []
    # staff may look into it; no task tries again
    assert outbox.send_message(message_id=message.pk) == "failed"
    assert OutboxMessage.objects.get(pk=message.pk).attempts == 1


def test_smtp_451_is_temporary_with_backoff(seed_activity, smtp_server, now):
    message = pending_for(GREYLISTED, seed_activity)
    with pytest.raises(outbox.TemporaryEmailError) as raised:
        outbox.send_message(message_id=message.pk)
    assert raised.value.retry_in == 30
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    assert message.attempts == 1
    assert message.next_attempt_at == now + timedelta(seconds=30)
    assert "451" in message.last_error
    assert message.sending_since is None

    with (
        time_machine.travel(now + timedelta(seconds=30), tick=False),
        pytest.raises(outbox.TemporaryEmailError) as raised,
    ):
        outbox.send_message(message_id=message.pk)
    assert raised.value.retry_in == 60
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 2)
    assert message.next_attempt_at == now + timedelta(seconds=30 + 60)
    assert smtp_server.received == []


def test_a_deferred_email_keeps_retrying_past_ten_attempts_and_gives_up_after_five_days(
    seed_activity, smtp_server, now
):
    message = pending_for(GREYLISTED, seed_activity)
    for _ in range(12):  # the portal used to give up after 10
        retry_at = OutboxMessage.objects.get(pk=message.pk).next_attempt_at
        with time_machine.travel(retry_at, tick=False), pytest.raises(outbox.TemporaryEmailError):
            outbox.send_message(message_id=message.pk)
    assert (
        OutboxMessage.objects.get(pk=message.pk).state,
        OutboxMessage.objects.get(pk=message.pk).attempts,
    ) == (
        "pending",
        12,
    )

    # Still retried a moment before five days are up...
    last_chance = message.created + outbox.give_up_after() - timedelta(seconds=1)
    with time_machine.travel(last_chance, tick=False), pytest.raises(outbox.TemporaryEmailError):
        outbox.send_message(message_id=message.pk)
    # ...and failed for good at the first attempt after.
    with time_machine.travel(message.created + outbox.give_up_after() + timedelta(minutes=30), tick=False):
        assert outbox.send_message(message_id=message.pk) == "failed"
        assert outbox.send_message(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.attempts == 14
    assert (
        message.last_error
        == "gave up after 120 hours and 14 attempts: recipient refused: 451 4.7.1 Greylisted, try again later"
    )
    assert (message.sent_at, message.lease_token) == (None, None)
    assert smtp_server.received == []


def test_server_down_is_temporary_and_the_email_goes_once_it_is_back(pending, smtp_server, settings, now):
    up = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    with pytest.raises(outbox.TemporaryEmailError):
        outbox.send_message(message_id=pending.pk)
    pending.refresh_from_db()
    assert (pending.state, pending.attempts) == ("pending", 1)
    assert pending.next_attempt_at == now + timedelta(seconds=30)
    assert "Connection" in pending.last_error or "refused" in pending.last_error.lower()

    settings.EMAIL_PORT = up
    with time_machine.travel(now + timedelta(seconds=30), tick=False):
        assert outbox.send_message(message_id=pending.pk) == "sent"
    pending.refresh_from_db()
    assert (pending.state, pending.attempts, pending.last_error) == ("sent", 2, "")
    assert len(smtp_server.received) == 1


def test_closed_port_is_temporary(pending, smtp_down):
    with pytest.raises(outbox.TemporaryEmailError):
        outbox.send_message(message_id=pending.pk)
    assert OutboxMessage.objects.get(pk=pending.pk).state == "pending"


def test_a_connection_the_server_dropped_is_replaced(pending, seed_activity, smtp_server):
    """A worker keeps its SMTP connection open between emails; a server restart in between is survived."""
    assert outbox.send_message(message_id=pending.pk) == "sent"
    smtp_server.restart()
    other = pending_for("second@example.com", seed_activity)
    assert outbox.send_message(message_id=other.pk) == "sent"
    assert [r for r, _ in smtp_server.received] == [["learner-a@example.com"], ["second@example.com"]]
    assert OutboxMessage.objects.get(pk=other.pk).attempts == 1


def test_the_issuing_task_does_not_burn_retries_when_the_server_says_later(
    seed_activity, smtp_server, django_capture_on_commit_callbacks
):
    """With eager Celery (tests, a local portal) a retry cannot wait; the message stays pending for the
    sweep rather than failing after a burst of instant attempts."""
    learner = make_learner(UserFactory(email=GREYLISTED))
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = complete(learner, seed_activity)
    message = OutboxMessage.objects.get(version__certificate__enrollment=enrollment)
    assert message.state == OutboxMessage.State.PENDING
    assert message.attempts == 1
    assert message.next_attempt_at > message.created


def test_issuing_emails_through_a_real_server(
    completed_enrollment, smtp_server, django_capture_on_commit_callbacks
):
    issue(completed_enrollment, django_capture_on_commit_callbacks)
    assert [r for r, _ in smtp_server.received] == [["learner-a@example.com"]]
    assert OutboxMessage.objects.get().state == "sent"


# --- classification ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"5.1.1 unknown")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (451, b"4.7.1 later")}), False),
        (
            smtplib.SMTPRecipientsRefused(
                {"a@example.com": (550, b"5.1.1 unknown"), "b@example.com": (452, b"4.2.2 full")}
            ),
            False,
        ),
        (smtplib.SMTPSenderRefused(553, b"5.7.1 sender not allowed", "no-reply@localhost"), True),
        (smtplib.SMTPDataError(554, b"5.6.0 message rejected"), True),
        (smtplib.SMTPDataError(421, b"4.3.2 shutting down"), False),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"), True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
        (TimeoutError("timed out"), False),
        (OSError(101, "Network is unreachable"), False),
    ],
)
def test_classify_smtp_error(exc, permanent):
    assert outbox.classify_smtp_error(exc)[0] is permanent


def test_backoff_doubles_up_to_half_an_hour():
    assert [outbox.backoff_seconds(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1800, 1800]


def test_html_body_escapes_and_text_body_does_not(provider_a, physician, mailoutbox):
    activity = ActivityFactory(provider=provider_a, title="Pain <management> & opioids")
    certificate = certificates.issue_certificate(enrollment=complete(physician, activity))
    outbox.send_message(message_id=OutboxMessage.objects.get(version__certificate=certificate).pk)
    [sent] = mailoutbox
    assert sent.subject == "Your Certificate of Credit: Pain <management> & opioids"
    assert '"Pain <management> & opioids"' in sent.body
    [(html, _)] = sent.alternatives
    assert "Pain &lt;management&gt; &amp; opioids" in html
    assert "<management>" not in html


def test_claiming_on_the_claim_page_emails_the_certificate(
    client, physician, seed_activity, django_capture_on_commit_callbacks, mailoutbox
):
    enrollment, _ = services.enroll(learner=physician, activity=seed_activity)
    client.force_login(physician)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("learners:claim", kwargs={"public_id": enrollment.public_id}),
            {"credit_ama_pra_1": "1.00", "credit_ipce": "1.50", "attested": "on"},
        )
    assert response.status_code == 302
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert {c["code"]: c["amount"] for c in certificate.versions.get().snapshot["credits"]} == {
        "ama_pra_1": "1.00",
        "ipce": "1.50",
    }
    assert [m.to for m in mailoutbox] == [["learner-a@example.com"]]
    assert mailoutbox[0].attachments[0][0] == f"certificate-{certificate.code}.pdf"


def test_claiming_while_the_mail_server_is_down_still_issues_the_certificate(
    client, physician, seed_activity, smtp_down, django_capture_on_commit_callbacks
):
    enrollment, _ = services.enroll(learner=physician, activity=seed_activity)
    client.force_login(physician)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("learners:claim", kwargs={"public_id": enrollment.public_id}),
            {"credit_ama_pra_1": "1.50", "credit_ipce": "1.50", "attested": "on"},
        )
    assert response.status_code == 302
    message = OutboxMessage.objects.get(version__certificate__enrollment=enrollment)
    assert message.state == OutboxMessage.State.PENDING  # kept for the retry and the sweep
    assert message.last_error
    client.force_login(physician)
    assert "Email on its way" in client.get(reverse("learners:dashboard")).text


def test_an_email_still_waiting_when_the_certificate_is_revoked_is_never_sent(pending, staff_a, mailoutbox):
    """Revoked certificates are not emailed (resending one is refused), including an email queued before
    the revocation that a retry or the sweep would otherwise send."""
    certificates.revoke_certificate(
        certificate=pending.version.certificate, reason="Claimed in error", by=staff_a
    )
    assert outbox.send_message(message_id=pending.pk) == "failed"
    assert mailoutbox == []
    pending.refresh_from_db()
    assert pending.state == OutboxMessage.State.FAILED
    assert "revoked" in pending.last_error
    assert pending.sent_at is None and pending.sending_since is None
    assert outbox.sweep(now=pending.created + dispatch.SWEEP_GRACE) == outbox.Swept(released=0, queued=0)


@pytest.mark.parametrize("name", ["김민준", "محمد أحمد"])
def test_a_name_in_any_script_reaches_the_email_and_its_pdf(seed_activity, smtp_server, name):
    learner = make_learner(UserFactory(email="learner-ko-ar@example.com"), first_name=name, last_name="")
    certificate = certificates.issue_certificate(enrollment=complete(learner, seed_activity))
    message = OutboxMessage.objects.get(version__certificate=certificate)
    assert outbox.send_message(message_id=message.pk) == "sent"
    [(_, raw)] = smtp_server.received
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    bodies = {part.get_content_type(): part for part in parsed.walk() if not part.is_multipart()}
    for kind in ("text/plain", "text/html"):
        assert bodies[kind].get_content_charset() == "utf-8"
        assert name in bodies[kind].get_content(), kind
    pdf = bodies["application/pdf"].get_content()
    assert glyphless(pdf) == []
    assert name in extracted_text(pdf)
