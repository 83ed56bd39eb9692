"""Learner background work: thin calls into the certificate services.

Tasks take primary keys, acknowledge late (a killed worker's task is redelivered) and retry only on named
transient errors. The database, not the queue, makes each piece of work happen once.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from learners.models import Enrollment, OutboxMessage
from learners.services import certificates

logger = logging.getLogger(__name__)


def claim_recorded(claim_id: int) -> None:
    """Called once a claim has committed: queue its certificate (the sweep covers a broker that is down)."""
    enrollment_id = Enrollment.objects.filter(claim__pk=claim_id).values_list("pk", flat=True).first()
    if enrollment_id is not None:
        certificates._dispatch("issue_certificate_task", enrollment_id)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=12,
)
def issue_certificate_task(enrollment_id: int) -> None:
    """Issue the certificate and email it, in one task; with a backlog (many claims at once), also issue and
    email a batch of others no other worker holds, so a queue of claims drains in few transactions. The
    tasks of those others then find their certificate issued and have nothing left to do. Each email is
    claimed just before its own send, so one the sweep handed to another worker while the batch was busy
    is skipped, not sent twice."""
    enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
    if enrollment is None:
        logger.warning("issue_certificate_task: no enrollment %s", enrollment_id)
        return
    issued = certificates.issue_certificates(
        enrollment_ids=[enrollment_id], also_waiting=ISSUE_BATCH - 1, dispatch_email=False
    )
    if enrollment_id in issued and not hasattr(issued[enrollment_id], "queued_message"):
        # issued before (a repeated task): whatever of its email is still waiting, if due (a message
        # waiting out a retry time is left to the retry already scheduled for it)
        for message_id in certificate_messages_pending(issued[enrollment_id]):
            _send_now(
                lambda message_id=message_id: certificates.send_outbox_message(message_id=message_id),
                message_id,
            )
    for certificate in issued.values():
        queued = getattr(certificate, "queued_message", None)  # issued now: its email, claimed at its send
        if queued is not None:
            _send_now(lambda queued=queued: certificates.send_queued_message(queued), queued.pk)


ISSUE_BATCH = 25  # certificates one task issues at most when claims queue up faster than workers take them


def certificate_messages_pending(certificate) -> list[int]:
    return list(
        OutboxMessage.objects.filter(
            version__certificate=certificate, state=OutboxMessage.State.PENDING
        ).values_list("pk", flat=True)
    )


def _send_now(send, message_id: int) -> None:
    """Send at once; a temporary failure becomes the email task's job, after its backoff."""
    try:
        send()
    except certificates.TemporaryEmailError as exc:
        certificates._dispatch_later("send_certificate_email_task", message_id, countdown=exc.retry_in)


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_certificate_email_task(self, message_id: int) -> str:
    """Send one certificate email. A temporary failure retries after the message's backoff (at most 30
    minutes, inside the broker's visibility timeout of an hour), for as long as the service keeps the
    message pending (five days): the service, not a retry count, decides when to give up. A retry that
    finds the message sent, failed, or not yet due ends the chain; the sweep picks up a chain that was lost."""
    try:
        return certificates.send_outbox_message(message_id=message_id)
    except certificates.TemporaryEmailError as exc:
        raise self.retry(countdown=exc.retry_in, exc=exc) from exc
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(countdown=30, exc=exc, max_retries=20) from exc


@shared_task(acks_late=True)
def sweep_certificates_task() -> dict[str, int]:
    """Periodic (celery beat): issue what a lost message left unissued, re-queue unsent email, hand on
    email whose sender died, and alert staff once about email undelivered for hours."""
    return {**certificates.sweep(), "alerted": certificates.alert_undelivered_emails()}


@shared_task(
    acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=60, max_retries=5
)
def send_deadline_digests_task() -> int:
    """Daily (celery beat): each provider's staff get what is overdue or due within a week."""
    from learners.services import reporting

    return reporting.send_deadline_digests()
