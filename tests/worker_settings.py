"""Settings for a Celery worker process started by the tests: the test database, real task dispatch."""

import os

from tests.settings import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["TEST_DATABASE_NAME"]  # noqa: F405
DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = os.environ.get("TEST_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# The integration tests (tests/integration) shorten what production keeps long. Unset, nothing changes.
if os.environ.get("TEST_UNACKED_RESTORE_INTERVAL"):
    # How often the worker looks for messages a killed worker left unacknowledged (kombu scans every
    # interval × throttle seconds: 100 by default), so they come back soon after CELERY_VISIBILITY_TIMEOUT.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "unacked_restore_interval": int(os.environ["TEST_UNACKED_RESTORE_INTERVAL"]),
        "unacked_restore_throttle": 1,
    }
if os.environ.get("TEST_EMAIL_BACKOFF_SECONDS"):
    CERTIFICATE_EMAIL_BACKOFF_SECONDS = int(os.environ["TEST_EMAIL_BACKOFF_SECONDS"])
if os.environ.get("TEST_EMAIL_LEASE_SECONDS"):
    CERTIFICATE_EMAIL_LEASE_SECONDS = float(os.environ["TEST_EMAIL_LEASE_SECONDS"])
if os.environ.get("TEST_EMAIL_BACKOFF_MAX_SECONDS"):
    CERTIFICATE_EMAIL_BACKOFF_MAX_SECONDS = int(os.environ["TEST_EMAIL_BACKOFF_MAX_SECONDS"])
