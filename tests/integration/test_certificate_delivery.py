"""Claim to certificate to inbox, against the real parts: PostgreSQL, a Redis broker, ``celery worker``
processes and an SMTP server, each of which a test may kill or take down (DESIGN.md, Certificates).

The broker and the mail server are private to each test (tests/integration/conftest.py), so stopping them
disturbs nothing else. Outcomes are awaited by polling the database, the sink and the broker, with deadlines.
"""

import io
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from learners import services
from learners.models import Certificate, CertificateVersion, CreditClaim, OutboxMessage
from learners.services import certificates, dispatch, outbox
from tests.factories import ActivityFactory, UserFactory
from tests.integration.conftest import REJECTED, claim, enrolled_learners, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SENT = OutboxMessage.State.SENT


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def settled(broker, query, expected: int):
    """``query`` counts ``expected`` rows and the broker holds no task: nothing more is coming."""
    return query.count() == expected and broker.idle()


def test_a_claim_ends_with_one_email_carrying_the_certificate_pdf(broker, smtp_sink, start_worker):
    start_worker()
    activity = ActivityFactory(
        title="Sepsis: Early Recognition and Management", credits={"ama_pra_1": "1.50", "ipce": "1.50"}
    )
    user = UserFactory(email="zoe@example.com")
    services.create_profile(user=user, first_name="Zoë", last_name="Okafor", profession="physician")
    enrollment, _ = services.enroll(learner=user, activity=activity)

    # Less than the maximum (which the designation statements print), so the amounts are the claim's.
    services.claim_credit(
        enrollment=enrollment, amounts={"ama_pra_1": Decimal("1.25"), "ipce": Decimal("0.75")}, attested=True
    )

    wait_for(lambda: smtp_sink.messages, timeout=60, what="the certificate email")
    wait_for(
        lambda: settled(broker, OutboxMessage.objects.filter(state=SENT), 1),
        timeout=30,
        what="the outbox row marked sent and the broker idle",
    )
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert len(smtp_sink.messages) == 1
    delivered = smtp_sink.messages[0]
    assert delivered.recipients == ("zoe@example.com",)
    message = delivered.message()
    assert "Sepsis: Early Recognition and Management" in message["Subject"]
    assert message["X-CME-Certificate"] == certificate.code
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"certificate-{certificate.code}.pdf"
    text = pdf_text(attachment.get_content())
    assert "Zoë Okafor" in text
    assert "Sepsis: Early Recognition and Management" in text
    assert "1.25" in text
    assert "0.75" in text
    assert certificate.code in text


def test_b_200_claims_while_a_worker_is_killed_mid_batch(broker, smtp_sink, start_worker):
    activity = ActivityFactory(credits={"ama_pra_1": "1.50"})
    enrollments = enrolled_learners(activity, 200)
    worker = start_worker(concurrency=2)
    at_kill = {}

    def kill_and_restart():
        worker.kill()  # SIGKILL to the worker and its pool: a machine dying mid-task
        at_kill.update(
            certificates=Certificate.objects.count(),
            sent=OutboxMessage.objects.filter(state=SENT).count(),
            sending=OutboxMessage.objects.filter(state=OutboxMessage.State.SENDING).count(),
            unacked=broker.client().hlen("unacked"),
        )
        start_worker(concurrency=2)

    for enrollment in enrollments:
        claim(enrollment)
        if not at_kill and Certificate.objects.count() >= len(enrollments) // 3:
            kill_and_restart()
    if not at_kill:  # the claims outran the worker: kill it once a third is done
        wait_for(
            lambda: Certificate.objects.count() >= len(enrollments) // 3, timeout=60, what="a third issued"
        )
        kill_and_restart()

    # What the killed worker held comes back after the visibility timeout; wait until nothing is left.
    wait_for(
        lambda: settled(broker, Certificate.objects.all(), 200),
        timeout=120,
        what="200 certificates and an idle broker",
    )
    # An email the killed worker was sending stays "sending": its redelivered task cannot tell a dead sender
    # from a slow one. The periodic sweep releases it once its lease has run out; run it as if it had.
    left = {
        state: OutboxMessage.objects.filter(state=state).count()
        for state in (OutboxMessage.State.PENDING, OutboxMessage.State.SENDING)
    }
    swept = outbox.sweep(now=timezone.now() + outbox.lease_length() + dispatch.SWEEP_GRACE)
    wait_for(
        lambda: settled(broker, OutboxMessage.objects.filter(state=SENT), 200),
        timeout=60,
        what="200 emails marked sent and an idle broker",
    )

    assert Certificate.objects.count() == 200
    assert Certificate.objects.values("enrollment").distinct().count() == 200
    assert CertificateVersion.objects.count() == 200
    assert OutboxMessage.objects.count() == 200
    received = smtp_sink.count_by_recipient()
    assert set(received) == {e.learner.email for e in enrollments}
    duplicates = sum(n - 1 for n in received.values())
    # Only a message the sweep released from "sending" can have gone out twice.
    assert duplicates <= swept.released
    print(
        f"\nworker killed at {at_kill}; left after redelivery {left}; sweep {swept}; "
        f"{len(smtp_sink.messages)} emails to {len(received)} learners, {duplicates} duplicate(s)"
    )


def test_c_claims_while_redis_is_down_are_saved_and_certified_after_the_sweep(
    broker, smtp_sink, start_worker, client, settings
):
    settings.TASK_DISPATCH_PAUSE_SECONDS = 1
    activity = ActivityFactory(credits={"ama_pra_1": "1.50"})
    enrollments = enrolled_learners(activity, 3)
    start_worker()
    broker.stop()

    for enrollment in enrollments:
        client.force_login(enrollment.learner)
        response = client.post(
            reverse("learners:claim", kwargs={"public_id": enrollment.public_id}),
            {"credit_ama_pra_1": "1.50", "attested": "on"},
            follow=True,
        )
        assert response.redirect_chain == [(reverse("learners:dashboard"), 302)]
        assert [str(m) for m in response.context["messages"]] == [
            "Your credit is recorded. Your certificate will follow by email."
        ]
    assert CreditClaim.objects.filter(enrollment__in=enrollments).count() == 3
    assert not Certificate.objects.exists()

    broker.start()  # empty: the tasks were never queued
    assert not Certificate.objects.exists()
    # The sweep runs in a worker process, which has not seen the broker down; this (web) process queues
    # again once its pause after the failed dispatch is over.
    time.sleep(settings.TASK_DISPATCH_PAUSE_SECONDS)
    now = timezone.now() + timedelta(minutes=5)
    assert certificates.issue_missing(now=now) == 3
    assert outbox.sweep(now=now) == outbox.Swept(released=0, queued=0)
    certificates.issue_missing(now=now)  # a second sweep before the first is done changes nothing
    outbox.sweep(now=now)

    wait_for(
        lambda: settled(broker, OutboxMessage.objects.filter(state=SENT), 3),
        timeout=60,
        what="3 emails marked sent and an idle broker",
    )
    assert Certificate.objects.count() == 3
    assert OutboxMessage.objects.count() == 3
    assert smtp_sink.count_by_recipient() == {e.learner.email: 1 for e in enrollments}
    assert certificates.issue_missing(now=now) == 0
    assert outbox.sweep(now=now) == outbox.Swept(released=0, queued=0)


def test_d_email_retries_while_the_mail_server_is_down_and_a_refused_address_fails(
    broker, smtp_sink, start_worker
):
    activity = ActivityFactory(credits={"ama_pra_1": "1.50"})
    (enrollment,) = enrolled_learners(activity, 1)
    start_worker()  # backoff of 1 s, 2 s, 4 s ... (CERTIFICATE_EMAIL_BACKOFF_SECONDS, tests/worker_settings.py)
    smtp_sink.stop()

    claim(enrollment)
    waiting = wait_for(
        lambda: OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING, attempts__gte=2).first(),
        timeout=30,
        what="a second attempt while the mail server is down",
    )
    assert "Connection refused" in waiting.last_error
    assert not smtp_sink.messages

    smtp_sink.start()
    wait_for(
        lambda: settled(broker, OutboxMessage.objects.filter(state=SENT), 1),
        timeout=30,
        what="the email sent once the mail server is back",
    )
    sent = OutboxMessage.objects.get()
    assert sent.attempts > waiting.attempts
    assert sent.last_error == ""
    assert smtp_sink.count_by_recipient() == {enrollment.learner.email: 1}

    refused_user = UserFactory(email=REJECTED)
    services.create_profile(user=refused_user, first_name="No", last_name="Mailbox", profession="physician")
    refused_enrollment, _ = services.enroll(learner=refused_user, activity=activity)
    claim(refused_enrollment)
    failed = wait_for(
        lambda: (
            settled(broker, OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED), 1)
            and OutboxMessage.objects.get(state=OutboxMessage.State.FAILED)
        ),
        timeout=30,
        what="the refused address marked failed",
    )
    assert failed.recipient == REJECTED
    assert failed.attempts == 1  # a permanent refusal is not retried
    assert re.search(r"\b550\b", failed.last_error)
    assert smtp_sink.to(REJECTED) == []
    assert smtp_sink.count_by_recipient() == {enrollment.learner.email: 1}


def test_f_a_connection_the_mail_server_closed_while_idle_is_replaced(broker, smtp_sink, start_worker):
    """The worker keeps its SMTP connection open between emails. A server that closes an idle one saying 421
    (Postfix and Exim do) costs the next email neither a failed attempt nor a backoff."""
    smtp_sink.stop()
    smtp_sink.idle_timeout = 1
    smtp_sink.start()
    start_worker()
    first, second = enrolled_learners(ActivityFactory(credits={"ama_pra_1": "1.50"}), 2)

    claim(first)
    wait_for(
        lambda: settled(broker, OutboxMessage.objects.filter(state=SENT), 1),
        timeout=30,
        what="the first email",
    )
    wait_for(lambda: smtp_sink.hang_ups, timeout=10, what="the sink to hang up the idle connection")
    claim(second)
    wait_for(
        lambda: settled(broker, OutboxMessage.objects.filter(state=SENT), 2),
        timeout=30,
        what="the second email",
    )

    assert list(OutboxMessage.objects.values_list("attempts", "last_error")) == [(1, ""), (1, "")]
    assert smtp_sink.count_by_recipient() == {first.learner.email: 1, second.learner.email: 1}
