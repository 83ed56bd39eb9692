"""Learner background work: thin calls into the services.

Tasks take primary keys, acknowledge late (a killed worker's task is redelivered) and retry only on named
transient errors. The database, not the queue, makes each piece of work happen once. This module imports
the services; they queue these tasks through ``learners.services.dispatch``, never by importing it.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from learners.models import Enrollment
from learners.services import certificates, outbox, outbox_alerts
from learners.services.reporting import digest, ledger

logger = logging.getLogger(__name__)

ISSUE_BATCH = 25  # certificates one task issues at most when claims queue up faster than workers take them


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
    if not Enrollment.objects.filter(pk=enrollment_id).exists():
        logger.warning("issue_certificate_task: no enrollment %s", enrollment_id)
        return
    issued = certificates.issue_certificates(
        enrollment_ids=[enrollment_id], also_waiting=ISSUE_BATCH - 1, dispatch_email=False
    )
    mine = issued.get(enrollment_id)
    if mine is not None and mine.email is None:
        # Issued before (a repeated task): whatever of its email is still waiting, if due (a message
        # waiting out a retry time is left to the retry already scheduled for it).
        for message_id in outbox.pending_emails(certificate=mine.certificate):
            outbox.send_now(message_id=message_id)
    for result in issued.values():
        if result.email is not None:  # issued now: its email, claimed at its send
            outbox.send_now(message_id=result.email.pk, loaded=result.email)


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_email_task(self, message_id: int) -> str:
    """Send one email of the outbox. A temporary failure retries after the message's backoff (at most 30
    minutes, inside the broker's visibility timeout of an hour), for as long as the service keeps the
    message pending (five days): the service, not a retry count, decides when to give up. A retry that
    finds the message sent, failed, or not yet due ends the chain; the sweep picks up a chain that was lost."""
    try:
        return outbox.send_message(message_id=message_id)
    except outbox.TemporaryEmailError as exc:
        raise self.retry(countdown=exc.retry_in, exc=exc) from exc
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(countdown=30, exc=exc, max_retries=20) from exc


@shared_task(acks_late=True)
def sweep_certificates_task() -> dict[str, int]:
    """Periodic (celery beat): issue what a lost message left unissued, hand on email whose sender died,
    queue again email whose task was lost, and alert staff once about email undelivered for hours."""
    issued = certificates.issue_missing()
    swept = outbox.sweep()
    return {
        "certificates": issued,
        "released": swept.released,
        "emails": swept.queued,
        "alerted": outbox_alerts.alert_undelivered_emails(),
    }


@shared_task(
    acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=60, max_retries=5
)
def send_deadline_digests_task() -> int:
    """Daily (celery beat): each provider's staff get what is overdue or due within a week."""
    return digest.send_deadline_digests()


@shared_task(
    acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=60, max_retries=5
)
def expire_reporting_task() -> int:
    """Daily (celery beat): CPE Monitor rows past ACPE's 60 days are marked expired, with the reason."""
    return ledger.expire_past_deadline()
