"""The periodic sweep finishes what lost messages left behind, and running it again does nothing more."""

import uuid
from datetime import timedelta

import pytest
import time_machine

from learners import tasks
from learners.models import Certificate, OutboxMessage
from learners.services import certificates, dispatch, outbox
from tests.factories import UserFactory
from tests.helpers import complete, make_learner

pytestmark = pytest.mark.django_db


def sweep(**kwargs) -> tuple[int, outbox.Swept]:
    """What beat's sweep does, alerts aside: queue the issuing of missing certificates, then sweep the
    outbox; returns how many certificates were queued and what the outbox sweep did."""
    return certificates.issue_missing(**kwargs), outbox.sweep(**kwargs)


def swept(*, issued: int = 0, released: int = 0, emails: int = 0) -> tuple[int, outbox.Swept]:
    return issued, outbox.Swept(released=released, queued=emails)


NOTHING = swept()


def learner():
    return make_learner(UserFactory())


def test_sweep_issues_certificates_a_lost_message_left_behind(seed_activity, now, mailoutbox):
    lost = complete(learner(), seed_activity, at=now - dispatch.SWEEP_GRACE - timedelta(seconds=1))
    assert not Certificate.objects.exists()  # the claim's on-commit dispatch never ran
    assert sweep(now=now) == swept(issued=1, released=0, emails=0)
    certificate = Certificate.objects.get(enrollment=lost)
    assert OutboxMessage.objects.get(version__certificate=certificate).state == "sent"
    assert len(mailoutbox) == 1
    assert sweep(now=now) == NOTHING
    assert len(mailoutbox) == 1


def test_sweep_leaves_fresh_claims_to_their_own_tasks(seed_activity, now):
    complete(learner(), seed_activity, at=now - dispatch.SWEEP_GRACE + timedelta(seconds=1))
    assert sweep(now=now) == NOTHING
    assert not Certificate.objects.exists()


def test_sweep_requeues_pending_email_once_due(completed_enrollment, now, mailoutbox):
    certificates.issue_certificate(enrollment=completed_enrollment)  # the email task was lost
    message = OutboxMessage.objects.get()
    assert sweep(now=now) == NOTHING  # just queued: its own task may still come
    later = now + dispatch.SWEEP_GRACE
    assert sweep(now=later) == swept(issued=0, released=0, emails=1)
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("sent", 1)
    assert sweep(now=later) == NOTHING
    assert len(mailoutbox) == 1


def test_sweep_waits_for_the_backoff_of_a_failed_attempt(completed_enrollment, now, mailoutbox):
    certificates.issue_certificate(enrollment=completed_enrollment)
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=3, last_error="451 later", next_attempt_at=now + timedelta(minutes=4)
    )
    retry_at = now + timedelta(minutes=4)
    # its own retry task is due first; the sweep steps in only once that is SWEEP_GRACE late
    assert sweep(now=retry_at + dispatch.SWEEP_GRACE - timedelta(seconds=1)) == NOTHING
    with time_machine.travel(retry_at + dispatch.SWEEP_GRACE, tick=False):
        assert sweep() == swept(issued=0, released=0, emails=1)
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == ("sent", 4, "")


def held_by_a_worker(message, *, since, until) -> uuid.UUID:
    """Mark ``message`` as being sent by a worker whose lease runs from ``since`` to ``until``."""
    token = uuid.uuid4()
    OutboxMessage.objects.filter(pk=message.pk).update(
        state="sending", attempts=1, sending_since=since, lease_token=token, lease_expires_at=until
    )
    return token


def test_sweep_releases_email_whose_senders_lease_ran_out(completed_enrollment, now, mailoutbox):
    certificates.issue_certificate(enrollment=completed_enrollment)
    message = OutboxMessage.objects.get()
    expires = now + outbox.lease_length()
    held_by_a_worker(message, since=now, until=expires)
    # the lease still runs: the worker may be alive
    assert sweep(now=expires - timedelta(seconds=1)) == NOTHING
    assert OutboxMessage.objects.get(pk=message.pk).state == "sending"

    with time_machine.travel(expires, tick=False):
        assert sweep() == swept(issued=0, released=1, emails=1)
        message.refresh_from_db()
        assert (message.state, message.attempts) == ("sent", 2)
        assert (message.sending_since, message.lease_token, message.lease_expires_at) == (None, None, None)
        assert sweep() == NOTHING
    assert len(mailoutbox) == 1


def test_sweep_twice_over_a_mixed_backlog_does_each_thing_once(seed_activity, now, mailoutbox):
    old = now - outbox.lease_length() - timedelta(minutes=1)
    lost_claim = complete(learner(), seed_activity, at=old)
    fresh_claim = complete(learner(), seed_activity, at=now)
    lost_email = certificates.issue_certificate(enrollment=complete(learner(), seed_activity, at=old))
    stuck = certificates.issue_certificate(enrollment=complete(learner(), seed_activity, at=old))
    waiting = certificates.issue_certificate(enrollment=complete(learner(), seed_activity, at=old))
    OutboxMessage.objects.filter(version__certificate=lost_email).update(next_attempt_at=old)
    held_by_a_worker(outbox.delivery_status(stuck), since=old, until=old + outbox.lease_length())
    OutboxMessage.objects.filter(version__certificate=waiting).update(
        attempts=1, next_attempt_at=now + timedelta(minutes=10)
    )

    assert sweep(now=now) == swept(issued=1, released=1, emails=2)
    assert sweep(now=now) == NOTHING

    # The sweep dispatched the lost claim's issuing task, which took the fresh claim along in its batch
    # (its own task, when it runs, finds the work done): each issued and emailed once.
    assert Certificate.objects.filter(enrollment=lost_claim).exists()
    states = dict(OutboxMessage.objects.values_list("version__certificate__enrollment", "state"))
    assert states == {
        lost_claim.pk: "sent",
        fresh_claim.pk: "sent",
        lost_email.enrollment_id: "sent",
        stuck.enrollment_id: "sent",
        waiting.enrollment_id: "pending",
    }
    assert len(mailoutbox) == 4
    assert Certificate.objects.count() == 5
    assert OutboxMessage.objects.count() == 5


def test_sweep_with_the_mail_server_down_keeps_the_email_for_later(completed_enrollment, now, smtp_down):
    certificates.issue_certificate(enrollment=completed_enrollment)
    message = OutboxMessage.objects.get()
    later = now + dispatch.SWEEP_GRACE
    with time_machine.travel(later, tick=False):
        assert sweep() == swept(issued=0, released=0, emails=1)
    message.refresh_from_db()
    assert message.state == "pending"  # nothing is dropped
    assert message.attempts == 1
    assert message.next_attempt_at > later
    with time_machine.travel(later, tick=False):
        assert sweep() == NOTHING  # not again before its backoff is over


def test_sweep_task_runs_the_sweep(completed_enrollment, now, mailoutbox):
    certificates.issue_certificate(enrollment=completed_enrollment)
    with time_machine.travel(now + dispatch.SWEEP_GRACE, tick=False):
        tasks.sweep_certificates_task.delay()
    assert OutboxMessage.objects.get().state == "sent"
