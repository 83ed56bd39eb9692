"""Delivery outlasts outages, against the real parts: PostgreSQL, a Redis broker, ``celery worker`` processes
and an SMTP sink (tests/integration/conftest.py). Each test asserts what the database holds and what the
sink received, exactly once per learner.
"""

import pytest
from django.utils import timezone

from learners import tasks
from learners.models import OutboxMessage
from tests.factories import ActivityFactory
from tests.integration.conftest import claim, enrolled_learners, wait_for, wait_for_task

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PENDING, SENT = OutboxMessage.State.PENDING, OutboxMessage.State.SENT


def test_a_repeated_issue_task_waits_for_the_retry_time(broker, smtp_sink, start_worker):
    (enrollment,) = enrolled_learners(ActivityFactory(credits={"ama_pra_1": "1.50"}), 1)
    worker = start_worker(TEST_EMAIL_BACKOFF_SECONDS="15")
    smtp_sink.stop()
    claim(enrollment)
    waiting = wait_for(
        lambda: OutboxMessage.objects.filter(state=PENDING, attempts=1, last_error__gt="").first(),
        timeout=30,
        what="a first attempt failed while the mail server is down",
    )
    retry_at = waiting.next_attempt_at
    smtp_sink.start()

    # The issuing task again (a redelivery, a sweep, a second claim click) and a duplicate email task.
    repeated = [
        tasks.issue_certificate_task.delay(enrollment.pk).id,
        tasks.send_certificate_email_task.delay(waiting.pk).id,
    ]
    for task_id in repeated:
        wait_for_task(worker, task_id, timeout=10)
    assert timezone.now() < retry_at  # they ran before the retry time...
    assert smtp_sink.messages == []  # ...and sent nothing
    waiting.refresh_from_db()
    assert (waiting.state, waiting.attempts, waiting.next_attempt_at) == (PENDING, 1, retry_at)

    # The retry the failed attempt scheduled sends it, once.
    sent = wait_for(
        lambda: OutboxMessage.objects.filter(pk=waiting.pk, state=SENT).first(), timeout=40, what="the retry"
    )
    wait_for(broker.idle, timeout=10, what="an idle broker")
    assert sent.attempts == 2
    assert sent.sent_at >= retry_at
    assert smtp_sink.count_by_recipient() == {enrollment.learner.email: 1}
