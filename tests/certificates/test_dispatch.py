"""Queueing follow-up work: a broker that is down costs one wait per process and pause, not one per request;
what was not queued is left to the sweep."""

import time

import kombu.exceptions
import pytest

from learners import tasks
from learners.models import Certificate
from learners.services import certificates, dispatch
from tests.factories import UserFactory
from tests.helpers import complete, make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_calls(monkeypatch, settings):
    """Every dispatch reaches a broker that refuses it, as Redis stopped does; returns the calls made."""
    settings.TASK_DISPATCH_PAUSE_SECONDS = 1
    calls = []

    def refused(*args, **kwargs):
        calls.append(kwargs["args"])
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.issue_certificate_task, "apply_async", refused)
    return calls


def test_after_a_failed_dispatch_the_process_queues_nothing_for_a_while(broker_calls):
    dispatch.queue(tasks.issue_certificate_task, 1)
    dispatch.queue(tasks.issue_certificate_task, 2)
    dispatch.queue(tasks.issue_certificate_task, 3)
    assert broker_calls == [(1,)]  # the second and third did not try the broker

    time.sleep(1.1)
    dispatch.queue(tasks.issue_certificate_task, 4)
    assert broker_calls == [(1,), (4,)]  # the pause is over: tried again (and down again)
    dispatch.queue(tasks.issue_certificate_task, 5)
    assert broker_calls == [(1,), (4,)]


def test_a_pause_of_zero_tries_the_broker_every_time(broker_calls, settings):
    settings.TASK_DISPATCH_PAUSE_SECONDS = 0
    for n in range(3):
        dispatch.queue(tasks.issue_certificate_task, n)
    assert broker_calls == [(0,), (1,), (2,)]


def test_a_task_failing_in_process_does_not_pause_dispatching(completed_enrollment, monkeypatch):
    """With tasks run in-process an error is the task's, not the broker's: the next dispatch still runs."""

    def broken(enrollment_id):
        raise RuntimeError("a bug in the task")

    monkeypatch.setattr(tasks.issue_certificate_task, "run", broken)
    dispatch.queue(tasks.issue_certificate_task, completed_enrollment.pk)
    monkeypatch.undo()
    dispatch.queue(tasks.issue_certificate_task, completed_enrollment.pk)
    assert Certificate.objects.filter(enrollment=completed_enrollment).exists()


def test_claims_while_the_broker_looks_down_are_kept_for_the_sweep(
    broker_calls, monkeypatch, seed_activity, django_capture_on_commit_callbacks, now, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        first = complete(make_learner(UserFactory()), seed_activity)
        second = complete(make_learner(UserFactory()), seed_activity)
    assert broker_calls == [(first.pk,)]
    assert not Certificate.objects.exists()

    time.sleep(1.1)  # the broker is back (nothing refuses) and the pause is over: the sweep queues both
    monkeypatch.undo()
    assert certificates.issue_missing(now=now + dispatch.SWEEP_GRACE) == 2
    assert set(Certificate.objects.values_list("enrollment", flat=True)) == {first.pk, second.pk}
    assert sorted(m.to[0] for m in mailoutbox) == sorted([first.learner.email, second.learner.email])
