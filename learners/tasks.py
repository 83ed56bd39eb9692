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
    """Issue the certificate and email it, in one task; a failed send is retried by the email task."""
    enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
    if enrollment is None:
        logger.warning("issue_certificate_task: no enrollment %s", enrollment_id)
        return
    certificate = certificates.issue_certificate(enrollment=enrollment, dispatch_email=False)
    queued = getattr(certificate, "queued_message", None)  # just issued: its one email, claimed for us
    if queued is not None:
        _send_now(lambda: certificates.send_claimed_message(queued), queued.pk)
    else:  # issued before (a repeated task): whatever is still waiting
        for message_id in certificate_messages_pending(certificate):
            _send_now(
                lambda message_id=message_id: certificates.send_outbox_message(message_id=message_id),
                message_id,
            )


def _send_now(send, message_id: int) -> None:
    """Send at once; a temporary failure becomes the email task's job, after its backoff."""
    try:
        send()
    except certificates.TemporaryEmailError as exc:
        certificates._dispatch_later("send_certificate_email_task", message_id, countdown=exc.retry_in)


def certificate_messages_pending(certificate) -> list[int]:
    return list(
        OutboxMessage.objects.filter(
            version__certificate=certificate, state=OutboxMessage.State.PENDING
        ).values_list("pk", flat=True)
    )


@shared_task(bind=True, acks_late=True, max_retries=certificates.MAX_ATTEMPTS + 2)
def send_certificate_email_task(self, message_id: int) -> str:
    try:
        return certificates.send_outbox_message(message_id=message_id)
    except certificates.TemporaryEmailError as exc:
        raise self.retry(countdown=exc.retry_in, exc=exc) from exc
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(countdown=30, exc=exc) from exc


@shared_task(acks_late=True)
def sweep_certificates_task() -> dict[str, int]:
    """Periodic (celery beat): issue what a lost message left unissued, re-queue unsent email."""
    return certificates.sweep()
