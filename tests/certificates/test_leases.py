"""Each email is claimed just before its send, with a lease: a sender whose lease ran out and was handed on
sends nothing and records nothing. PostgreSQL (with ``DATABASE_URL``), a real SMTP server where it
matters, the clock moved with time-machine."""

import smtplib
import time
import uuid

import pytest
import time_machine
from django.core.mail.backends import locmem
from django.utils import timezone

from learners import tasks
from learners.models import Certificate, OutboxMessage
from learners.services import certificates, emails, outbox
from tests.factories import UserFactory
from tests.helpers import complete, make_learner

pytestmark = pytest.mark.django_db


def learners_completed(activity, count: int):
    return [
        complete(make_learner(UserFactory(email=f"batch-{n}@example.com")), activity) for n in range(count)
    ]


class BatchObserver(locmem.EmailBackend):
    """Notes, as each email goes out, the state of every outbox row."""

    seen: list[dict[str, str]] = []

    def send_messages(self, messages):
        BatchObserver.seen.append(dict(OutboxMessage.objects.values_list("recipient", "state")))
        return super().send_messages(messages)


def test_a_batch_claims_each_email_just_before_its_send(seed_activity, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.BatchObserver"
    BatchObserver.seen = []
    first, *_ = learners_completed(seed_activity, 4)
    tasks.issue_certificate_task(first.pk)  # issues all four (the backlog) and sends their emails
    assert len(mailoutbox) == 4
    order = [m.to[0] for m in mailoutbox]
    for n, states in enumerate(BatchObserver.seen):
        assert states[order[n]] == "sending"
        assert all(states[r] == "sent" for r in order[:n])
        assert all(states[r] == "pending" for r in order[n + 1 :])  # not claimed before their turn
    assert set(OutboxMessage.objects.values_list("state", "attempts")) == {("sent", 1)}
    assert all(m.lease_token is None for m in OutboxMessage.objects.all())


def test_an_email_of_the_batch_taken_by_another_worker_is_skipped(seed_activity, mailoutbox, monkeypatch):
    """While the batch is busy (a slow server), another worker's task takes an email the batch has not
    reached yet; the batch then finds it claimed and goes on."""
    first, second, third = learners_completed(seed_activity, 3)
    build = emails.build_email
    taken = []
    calls = []

    def slow_build(message):
        calls.append(message.pk)
        if len(calls) == 1:  # during the batch's first email, another worker sends the third one
            third_message = OutboxMessage.objects.get(version__certificate__enrollment=third)
            taken.append(outbox.send_message(message_id=third_message.pk))
        return build(message)

    monkeypatch.setattr(emails, "build_email", slow_build)
    tasks.issue_certificate_task(first.pk)
    assert taken == ["sent"]
    assert sorted(m.to[0] for m in mailoutbox) == sorted(e.learner.email for e in (first, second, third))
    assert set(OutboxMessage.objects.values_list("state", "attempts")) == {("sent", 1)}


def test_an_email_handed_on_while_its_pdf_was_made_is_not_sent_by_the_old_owner(
    completed_enrollment, smtp_server, monkeypatch, now
):
    """The old owner stalls between its claim and its send (a slow PDF, a paused process) past its lease;
    the sweep hands the email on and the new owner sends it. The old owner then sends nothing."""
    certificate = certificates.issue_certificate(enrollment=completed_enrollment)
    message = OutboxMessage.objects.get(version__certificate=certificate)
    build = emails.build_email
    later = now + outbox.lease_length()
    swept = []
    calls = []

    def stalled_build(outbox_message):
        calls.append(outbox_message.pk)
        if len(calls) == 1:  # the old owner, stalled: its lease runs out and the sweep hands the email on
            with time_machine.travel(later, tick=False):
                swept.append(outbox.sweep())  # dispatches the email again: sent at once (eager)
        return build(outbox_message)

    monkeypatch.setattr(emails, "build_email", stalled_build)
    assert outbox.send_message(message_id=message.pk) == "sent"
    assert swept == [outbox.Swept(released=1, queued=1)]
    assert [recipients for recipients, _ in smtp_server.received] == [["learner-a@example.com"]]
    message.refresh_from_db()
    assert (message.state, message.attempts, message.sent_at) == ("sent", 2, later)
    assert (message.lease_token, message.lease_expires_at, message.sending_since) == (None, None, None)


class HandedOnMidSend(locmem.EmailBackend):
    """The first send takes so long that its lease runs out; the email is handed on and the new owner's
    send goes through, then the first send fails with a temporary error."""

    moment = None
    calls = 0
    swept: list[outbox.Swept] = []

    def send_messages(self, messages):
        HandedOnMidSend.calls += 1
        if HandedOnMidSend.calls == 1:
            with time_machine.travel(HandedOnMidSend.moment, tick=False):
                HandedOnMidSend.swept.append(outbox.sweep())
            raise smtplib.SMTPResponseException(451, b"4.4.2 timeout")
        return super().send_messages(messages)


def test_an_old_owner_that_lost_its_lease_mid_send_records_nothing(
    completed_enrollment, settings, mailoutbox, now
):
    settings.EMAIL_BACKEND = f"{__name__}.HandedOnMidSend"
    HandedOnMidSend.moment = now + outbox.lease_length()
    HandedOnMidSend.calls, HandedOnMidSend.swept = 0, []
    certificate = certificates.issue_certificate(enrollment=completed_enrollment)
    message = OutboxMessage.objects.get(version__certificate=certificate)

    # The old owner's temporary failure neither raises (no retry of its own) nor puts the sent email back.
    assert outbox.send_message(message_id=message.pk) == "sent"
    assert HandedOnMidSend.swept == [outbox.Swept(released=1, queued=1)]
    assert [m.to for m in mailoutbox] == [["learner-a@example.com"]]
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == ("sent", 2, "")
    assert message.sent_at == HandedOnMidSend.moment


def test_a_sending_row_without_a_lease_is_refused_by_the_database(completed_enrollment):
    from django.db import IntegrityError, transaction

    certificates.issue_certificate(enrollment=completed_enrollment)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.update(state="sending", sending_since=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.update(state="sending", lease_token=uuid.uuid4())
    assert OutboxMessage.objects.get().state == "pending"


class SlowServer(locmem.EmailBackend):
    """Takes ``seconds`` to take each email; meanwhile the sweep runs every 0.2 s (as beat would, on
    another machine) and the row's lease is noted each time."""

    seconds = 0.0
    released: list[int] = []
    leases: list = []

    def send_messages(self, messages):
        deadline = time.monotonic() + SlowServer.seconds
        while time.monotonic() < deadline:
            time.sleep(0.2)
            SlowServer.released.append(outbox.sweep().released)
            sending = OutboxMessage.objects.filter(state="sending")
            SlowServer.leases.append(sending.values_list("lease_expires_at", flat=True).get())
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the renewing thread: its own connection
def test_a_send_slower_than_its_lease_keeps_the_email_while_it_runs(
    completed_enrollment, physician, settings, mailoutbox
):
    # Committed for real here: the claim has already issued the certificate and sent its first email.
    certificate = Certificate.objects.get(enrollment=completed_enrollment)
    assert len(mailoutbox) == 1
    settings.EMAIL_BACKEND = f"{__name__}.SlowServer"
    settings.CERTIFICATE_EMAIL_LEASE_SECONDS = 0.8  # renewed every 0.2 s
    SlowServer.seconds, SlowServer.released, SlowServer.leases = 3.0, [], []

    message = certificates.resend_certificate(certificate=certificate, by=physician)  # sent after commit
    assert set(SlowServer.released) == {0}  # never handed on, though the send took almost four leases
    assert len(set(SlowServer.leases)) > 5  # renewed over and over
    assert [m.to for m in mailoutbox] == [["learner-a@example.com"]] * 2
    message.refresh_from_db()
    assert (message.state, message.attempts, message.lease_token) == ("sent", 1, None)
