"""The portal's one Celery app, configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs, one place, each with why its schedule is what it is.
app.conf.beat_schedule = {
    # Certificates a lost message left unissued, and email a dead worker or a broker outage left unsent:
    # every few minutes, so a learner waits minutes, not hours, after an outage. Safe to run twice.
    "sweep-certificates": {"task": "learners.tasks.sweep_certificates_task", "schedule": 180.0},
}
