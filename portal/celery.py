"""The portal's one Celery app, configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs, one place, each with why its schedule is what it is.
app.conf.beat_schedule = {
    # CPE Monitor takes credit for 60 days after participation, counted in days: rows past it are marked
    # expired early each morning (before the deadline digests, so the digest no longer lists them).
    "expire-reporting": {
        "task": "learners.tasks.expire_reporting_task",
        "schedule": crontab(hour=10, minute=30),
    },
    # Certificates a lost message left unissued, and email a dead worker or a broker outage left unsent:
    # every minute, so a dead worker's email goes out about two minutes after it died (its lease,
    # CERTIFICATE_EMAIL_LEASE_SECONDS, plus at most one period). A few indexed queries when there is
    # nothing to do. Safe to run twice, and concurrently.
    "sweep-certificates": {"task": "learners.tasks.sweep_certificates_task", "schedule": 60.0},
    # Reporting deadlines (30 days for the accreditor, 60 for CPE Monitor) move by the day: one digest each
    # morning, before staff start work in the Americas. Sent once a day per person, however often it runs.
    "deadline-digests": {
        "task": "learners.tasks.send_deadline_digests_task",
        "schedule": crontab(hour=11, minute=0),
    },
}
