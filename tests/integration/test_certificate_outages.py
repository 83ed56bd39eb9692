"""Delivery outlasts outages, against the real parts: PostgreSQL, a Redis broker, ``celery worker`` processes
and an SMTP sink (tests/integration/conftest.py). Each test asserts what the database holds and what the
sink received, exactly once per learner.
"""

import logging
import threading
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from learners import tasks
from learners.models import Certificate, CreditClaim, OutboxMessage
from learners.services import certificates, dispatch, outbox, outbox_alerts
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
    worker = start_worker(TEST_EMAIL_BACKOFF_SECONDS="30")
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
        tasks.send_email_task.delay(waiting.pk).id,
    ]
    for task_id in repeated:
        wait_for_task(worker, task_id, timeout=20)
    assert timezone.now() < retry_at  # they ran before the retry time...
    assert smtp_sink.messages == []  # ...and sent nothing
    waiting.refresh_from_db()
    assert (waiting.state, waiting.attempts, waiting.next_attempt_at) == (PENDING, 1, retry_at)

    # The retry the failed attempt scheduled sends it, once.
    sent = wait_for(
        lambda: OutboxMessage.objects.filter(pk=waiting.pk, state=SENT).first(), timeout=60, what="the retry"
    )
    wait_for(broker.idle, timeout=10, what="an idle broker")
    assert sent.attempts == 2
    assert sent.sent_at >= retry_at
    assert smtp_sink.count_by_recipient() == {enrollment.learner.email: 1}


def test_with_redis_down_only_the_first_claim_waits_for_the_broker(
    broker, smtp_sink, start_worker, client, settings
):
    """Each web process remembers for a while that the broker looked down and queues nothing meanwhile, so
    one claim pays the connect timeout, not every claim; the sweep queues what was skipped."""
    settings.TASK_DISPATCH_PAUSE_SECONDS = 20
    activity = ActivityFactory(credits={"ama_pra_1": "1.50"})
    enrollments = enrolled_learners(activity, 6)
    down, after = enrollments[:5], enrollments[5]
    start_worker()
    broker.stop()

    seconds = []
    for enrollment in down:
        client.force_login(enrollment.learner)
        started = time.monotonic()
        response = client.post(
            reverse("learners:claim", kwargs={"public_id": enrollment.public_id}),
            {"credit_ama_pra_1": "1.50", "attested": "on"},
        )
        seconds.append(time.monotonic() - started)
        assert response.status_code == 302
    print(f"\nclaim page with Redis down, seconds: {[round(s, 2) for s in seconds]}")
    assert CreditClaim.objects.filter(enrollment__in=down).count() == 5
    # One claim found the broker down (a pooled connection fails at once, a new one waits out
    # CELERY_BROKER_CONNECT_TIMEOUT, 2 s); the others did not try it again.
    assert sorted(seconds)[-2] < 1  # the page itself takes some 30 ms; a wait for the broker, 2 s

    broker.start()
    time.sleep(settings.TASK_DISPATCH_PAUSE_SECONDS)  # the pause is over: this process queues again
    assert not Certificate.objects.exists()
    # The sweep catches up with the five claims whose tasks were skipped...
    assert certificates.issue_missing(now=timezone.now() + dispatch.SWEEP_GRACE) == 5
    wait_for(
        lambda: OutboxMessage.objects.filter(state=SENT).count() == 5 and broker.idle(),
        timeout=60,
        what="five emails sent and an idle broker",
    )
    # ...and a new claim is queued at once again.
    claim(after)
    wait_for(
        lambda: OutboxMessage.objects.filter(state=SENT).count() == 6 and broker.idle(),
        timeout=60,
        what="the new claim's email",
    )
    assert Certificate.objects.count() == 6
    assert smtp_sink.count_by_recipient() == {e.learner.email: 1 for e in enrollments}


def sweep_until(predicate, *, timeout: float, what: str, every: float = 0.5) -> dict[str, int]:
    """Run the sweep every ``every`` seconds, as beat would (more often), until ``predicate()`` holds;
    returns the sweeps' counts added up."""
    totals = {"certificates": 0, "released": 0, "emails": 0}

    def swept_and_done():
        totals["certificates"] += certificates.issue_missing()
        swept = outbox.sweep()
        totals["released"] += swept.released
        totals["emails"] += swept.queued
        return predicate()

    wait_for(swept_and_done, timeout=timeout, what=what, interval=every)
    return totals


def test_a_batch_slower_than_a_lease_sends_each_email_once(broker, smtp_sink, start_worker, monkeypatch):
    """One issuing task takes a backlog of claims and sends their emails one after another; the mail
    server takes 1.5 s per email, so the batch outlasts a 3 s lease several times over. Emails it has not
    reached are taken meanwhile by a second worker (the other claims' tasks, the sweep's); each email
    goes out once, and no lease ran out."""
    monkeypatch.setattr(dispatch, "SWEEP_GRACE", timedelta(seconds=1))
    smtp_sink.handler.data_delay = 1.5
    enrollments = enrolled_learners(ActivityFactory(credits={"ama_pra_1": "1.50"}), 8)
    for enrollment in enrollments:
        claim(enrollment)  # queued; no worker yet, so the first task issues all eight in one batch
    start_worker(TEST_EMAIL_LEASE_SECONDS="3")
    wait_for(lambda: Certificate.objects.count() == 8, timeout=30, what="the batch issued")
    start_worker(TEST_EMAIL_LEASE_SECONDS="3")

    swept = sweep_until(
        lambda: OutboxMessage.objects.filter(state=SENT).count() == 8 and broker.idle(),
        timeout=90,
        what="eight emails sent and an idle broker",
    )

    assert smtp_sink.count_by_recipient() == {e.learner.email: 1 for e in enrollments}
    assert list(OutboxMessage.objects.values_list("attempts", flat=True)) == [1] * 8
    assert swept["released"] == 0
    sent_at = sorted(OutboxMessage.objects.values_list("sent_at", flat=True))
    assert (sent_at[-1] - sent_at[0]).total_seconds() > 3  # the emails took longer than a lease


def test_a_send_slower_than_its_lease_is_not_handed_on_while_its_worker_lives(
    broker, smtp_sink, start_worker
):
    """The mail server takes 4 s to take the email (the worker's SMTP timeout is 5 s); the sending worker's
    lease is 1 s and renewed every 0.25 s while the send runs, so the sweep (every 0.3 s here) never hands
    it to the second worker."""
    smtp_sink.handler.data_delay = 4
    start_worker(TEST_EMAIL_LEASE_SECONDS="1")
    start_worker(TEST_EMAIL_LEASE_SECONDS="1")
    (enrollment,) = enrolled_learners(ActivityFactory(credits={"ama_pra_1": "1.50"}), 1)
    claim(enrollment)
    wait_for(
        lambda: OutboxMessage.objects.filter(state=OutboxMessage.State.SENDING).exists(),
        timeout=30,
        what="the email being sent",
    )
    swept = sweep_until(
        lambda: OutboxMessage.objects.filter(state=SENT).exists() and broker.idle(),
        timeout=60,
        what="the email sent",
        every=0.3,
    )
    assert swept["released"] == 0
    sent = OutboxMessage.objects.get()
    assert sent.attempts == 1
    assert (sent.sent_at - sent.created).total_seconds() > 4  # four leases' time
    assert smtp_sink.count_by_recipient() == {enrollment.learner.email: 1}


def test_a_killed_workers_email_goes_out_about_two_minutes_later(broker, smtp_sink, start_worker):
    """The production lease (CERTIFICATE_EMAIL_LEASE_SECONDS, 60 s): a worker SIGKILLed in the middle of a
    send stops renewing it, the sweep hands the email on once it has run out, and another worker sends it,
    once. With beat's sweep every minute that is at most lease + one period: about two minutes."""
    stall = threading.Event()
    smtp_sink.handler.stall_rcpt = stall
    doomed = start_worker()
    (enrollment,) = enrolled_learners(ActivityFactory(credits={"ama_pra_1": "1.50"}), 1)
    claim(enrollment)
    wait_for(smtp_sink.handler.rcpt_stalled.is_set, timeout=30, what="the worker in the middle of the send")
    held = OutboxMessage.objects.get()
    assert held.state == OutboxMessage.State.SENDING
    doomed.kill()
    killed_at = time.monotonic()
    stall.set()  # the sink lets go of the dead connection (nothing was delivered on it)
    start_worker()

    released_after = []

    def released():
        if not released_after and outbox.sweep().released:
            released_after.append(time.monotonic() - killed_at)
        return OutboxMessage.objects.filter(state=SENT).exists() and broker.idle()

    wait_for(released, timeout=outbox.lease_length().total_seconds() + 60, what="the email sent")
    sent_after = time.monotonic() - killed_at
    lease = outbox.lease_length().total_seconds()
    print(
        f"\nkilled worker's email: released {released_after[0]:.1f} s, sent {sent_after:.1f} s after the kill"
    )
    # the lease ran out between three quarters of a lease (renewed just before the kill) and a lease
    assert lease * 0.75 - 2 <= released_after[0] <= lease + 2
    assert sent_after <= lease + 10
    sent = OutboxMessage.objects.get()
    assert (sent.attempts, sent.lease_token) == (2, None)
    assert smtp_sink.count_by_recipient() == {enrollment.learner.email: 1}


def test_an_outage_longer_than_ten_attempts_is_outlasted(
    broker, smtp_sink, start_worker, accreditor, settings, caplog
):
    """The worker retries with a 1 s backoff capped at 1 s (a compressed schedule), so ten attempts, where
    the portal used to give up, pass in seconds: the email stays pending, staff are alerted once, and it
    goes out once when the mail server is back."""
    start_worker(TEST_EMAIL_BACKOFF_SECONDS="1", TEST_EMAIL_BACKOFF_MAX_SECONDS="1")
    smtp_sink.stop()
    (enrollment,) = enrolled_learners(ActivityFactory(credits={"ama_pra_1": "1.50"}), 1)
    claim(enrollment)
    waiting = wait_for(
        lambda: OutboxMessage.objects.filter(state=PENDING, attempts__gte=15).first(),
        timeout=90,
        what="fifteen attempts while the mail server is down",
    )
    assert "Connection refused" in waiting.last_error

    # The sweep's alert, four hours on (this process mails through the sink too, which is down).
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp_sink.port, 5
    caplog.set_level(logging.ERROR, logger="learners.services.outbox")
    four_hours_on = timezone.now() + outbox_alerts.alert_after()
    assert outbox_alerts.alert_undelivered_emails(now=four_hours_on) == 1
    assert outbox_alerts.alert_undelivered_emails(now=four_hours_on) == 0
    assert [r.getMessage()[:40] for r in caplog.records if r.levelno >= logging.ERROR] == [
        "1 certificate email(s) undelivered 4 hou",
        "could not email staff about undelivered ",
    ]

    smtp_sink.start()
    sent = wait_for(
        lambda: OutboxMessage.objects.filter(state=SENT).first() if broker.idle() else None,
        timeout=30,
        what="the email sent once the mail server is back",
    )
    assert sent.attempts > waiting.attempts
    assert sent.alerted_at == four_hours_on
    assert smtp_sink.count_by_recipient() == {enrollment.learner.email: 1}
