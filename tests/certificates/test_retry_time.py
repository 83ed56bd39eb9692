"""An email waiting out its retry time is not sent before it, whichever task comes for it: a repeated issuing
task, a duplicate email task, or an eager dispatch that cannot wait. PostgreSQL (with ``DATABASE_URL``) and
a real SMTP server on this machine; the clock is moved with time-machine."""

from datetime import timedelta

import pytest
import time_machine

from learners import tasks
from learners.models import OutboxMessage
from learners.services import certificates, outbox
from tests.certificates.conftest import free_port

pytestmark = pytest.mark.django_db


def test_a_repeated_issue_task_leaves_an_email_waiting_for_its_retry_time(
    completed_enrollment, smtp_server, settings, now
):
    up = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # the mail server is down for the first attempt
    tasks.issue_certificate_task(completed_enrollment.pk)
    message = OutboxMessage.objects.get(version__certificate__enrollment=completed_enrollment)
    retry_at = now + timedelta(seconds=30)
    assert (message.state, message.attempts, message.next_attempt_at) == ("pending", 1, retry_at)

    settings.EMAIL_PORT = up  # back, but the email waits for its retry time
    with time_machine.travel(retry_at - timedelta(seconds=10), tick=False):
        tasks.issue_certificate_task(completed_enrollment.pk)
        assert tasks.send_email_task(message.pk) == "pending"
        assert outbox.send_message(message_id=message.pk) == "pending"
    assert smtp_server.received == []
    message.refresh_from_db()
    assert (message.state, message.attempts, message.next_attempt_at) == ("pending", 1, retry_at)

    with time_machine.travel(retry_at, tick=False):
        tasks.issue_certificate_task(completed_enrollment.pk)
        tasks.issue_certificate_task(completed_enrollment.pk)
        assert tasks.send_email_task(message.pk) == "sent"
    assert [recipients for recipients, _ in smtp_server.received] == [["learner-a@example.com"]]
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == ("sent", 2, "")
    assert message.sent_at == retry_at


def test_a_retry_arriving_a_moment_early_is_still_let_through(pending_message, smtp_server, now):
    retry_at = now + timedelta(seconds=30)
    OutboxMessage.objects.filter(pk=pending_message.pk).update(attempts=1, next_attempt_at=retry_at)
    with time_machine.travel(retry_at - outbox.DUE_EARLY - timedelta(seconds=1), tick=False):
        assert outbox.send_message(message_id=pending_message.pk) == "pending"
    with time_machine.travel(retry_at - outbox.DUE_EARLY, tick=False):
        assert outbox.send_message(message_id=pending_message.pk) == "sent"
    assert len(smtp_server.received) == 1


def test_an_eager_retry_does_not_burn_attempts(completed_enrollment, smtp_down, now):
    """With tasks run in-process (no broker) a retry's countdown cannot wait: it finds the email not yet
    due and leaves it, instead of failing it with a burst of instant attempts."""
    tasks.issue_certificate_task(completed_enrollment.pk)
    for _ in range(3):
        tasks.issue_certificate_task(completed_enrollment.pk)
        tasks.send_email_task.delay(
            OutboxMessage.objects.get(version__certificate__enrollment=completed_enrollment).pk
        )
    message = OutboxMessage.objects.get(version__certificate__enrollment=completed_enrollment)
    assert (message.state, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == now + timedelta(seconds=30)


@pytest.fixture
def pending_message(completed_enrollment) -> OutboxMessage:
    certificate = certificates.issue_certificate(enrollment=completed_enrollment)
    return OutboxMessage.objects.get(version__certificate=certificate)
