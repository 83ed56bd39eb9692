"""Queueing background work: the one place the services reach ``learners.tasks``.

The services define the work and the tasks call them: ``learners.tasks`` imports the services, never the
reverse. What a service needs done once its transaction has committed (issue a claim's certificate, send
an email it queued) it asks for here, by name: ``issue_certificate``, ``send_email``,
``send_emails_after_commit``. These functions import their task object when they run, long after both
modules are loaded, so no module imports another that is still loading. This is pretix's shape (a service
queues its task only after commit, ``TransactionAwareTask``) and Zulip's (an action queues work for its
worker and never imports the worker).

Queueing never fails the caller: the database holds the work (a completed enrollment without its
certificate, a pending outbox row), and the periodic sweep queues whatever could not be queued here.
"""

import logging
import time
from datetime import timedelta

import celery.exceptions
import kombu.exceptions
from celery import Task
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(minutes=1)  # the sweep leaves fresh work to the tasks already queued for it
BROKER_ERRORS = (kombu.exceptions.OperationalError, ConnectionError, TimeoutError)

# Monotonic time until which this process queues nothing: after a failed dispatch, each further try would
# wait CELERY_BROKER_CONNECT_TIMEOUT (2 s) on a learner's request for a broker that is most likely still
# down. Per process on purpose: each web and worker process finds out for itself, at the cost of one slow
# dispatch per process per pause, with nothing shared that could itself be down.
_broker_down_until = 0.0


def queue(task: Task, *args: int, countdown: float | None = None) -> None:
    """Queue ``task`` with ``args``; if the broker is down, log it and leave the work to the sweep (and,
    for ``TASK_DISPATCH_PAUSE_SECONDS``, queue nothing more from this process). With tasks run in-process
    (``CELERY_TASK_ALWAYS_EAGER``), a task that fails is logged and left to the sweep too."""
    global _broker_down_until

    if time.monotonic() < _broker_down_until:
        logger.info("not queueing %s%s: the broker looked down; the sweep will pick it up", task.name, args)
        return
    try:
        # Celery takes countdown=None as "now"; celery-types only knows a number.
        task.apply_async(args=args, retry=False, countdown=countdown)  # type: ignore[arg-type]
    except celery.exceptions.Retry:  # run in-process: the task kept its row for a retry
        return
    except BROKER_ERRORS:
        pause = settings.TASK_DISPATCH_PAUSE_SECONDS
        _broker_down_until = time.monotonic() + pause
        logger.warning(
            "could not queue %s%s; queueing nothing for %d s, the sweep will pick it up",
            task.name,
            args,
            pause,
            exc_info=True,
        )
    except Exception:  # a task run in-process failed: the broker is not to blame
        logger.warning("%s%s failed; the sweep will pick it up", task.name, args, exc_info=True)


def issue_certificate(enrollment_id: int) -> None:
    """Queue the issuing of the enrollment's certificate (and its email)."""
    from learners.tasks import issue_certificate_task

    queue(issue_certificate_task, enrollment_id)


def send_email(message_id: int, *, countdown: float | None = None) -> None:
    """Queue the sending of an outbox message, after ``countdown`` seconds."""
    from learners.tasks import send_email_task

    queue(send_email_task, message_id, countdown=countdown)


def send_emails_after_commit(message_ids: list[int]) -> None:
    """Queue the sending of these outbox messages once the current transaction has committed."""
    ids = list(message_ids)

    def send_all() -> None:
        for message_id in ids:
            send_email(message_id)

    transaction.on_commit(send_all, robust=True)
