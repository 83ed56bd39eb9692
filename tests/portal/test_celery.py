"""The Celery app, configured from Django settings, as a real worker process runs it."""

import pytest
from django.conf import settings

from portal.celery import app
from tests.celery_worker import running_worker


def test_without_a_broker_tasks_run_in_process():
    # tests/settings.py keeps the default of a portal with no CELERY_BROKER_URL: eager.
    assert app.conf.task_always_eager is True


def test_reliability_defaults_come_from_django_settings():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_reject_on_worker_lost is True


@pytest.mark.celery
def test_a_real_worker_starts_on_the_broker_with_late_ack_and_prefetch_one():
    with running_worker() as worker:
        conf = worker.inspect().conf(with_defaults=True)[worker.hostname]
    assert conf["broker_url"].startswith("redis://")
    assert conf["task_acks_late"] is True
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["task_always_eager"] is False
