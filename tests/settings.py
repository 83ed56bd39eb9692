"""Settings for the test suite: the portal's own settings, with fast hashing and in-memory email."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SITE_URL", "http://testserver")

# Run in parallel (pytest-xdist), each test process gets a database of its own (pytest-django's suffix) and
# a Redis database of its own, so one process's Celery workers never take another's tasks. The Celery
# worker processes a test starts inherit the rewritten variable (and the mark that it was rewritten).
if (
    (_worker := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw")
    and "TEST_BROKER_OF_WORKER" not in os.environ
    and (_broker := os.environ.get("CELERY_BROKER_URL", "")).startswith("redis://")
):
    _base, _, _db = _broker.rpartition("/")
    if _db.isdigit() and _base.count("/") == 2:
        os.environ["CELERY_BROKER_URL"] = f"{_base}/{(int(_db) + 8 * int(_worker[2:])) % 16}"
        os.environ["TEST_BROKER_OF_WORKER"] = _worker

from portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
# Tasks run in-process unless a test starts a real worker (tests/celery_worker.py).
CELERY_TASK_ALWAYS_EAGER = True
# Serve static files straight from the apps (no collectstatic) for the live-server and browser tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# The catalog index is rebuilt in the request that finds it stale, so tests see their own writes.
CATALOG_INDEX_SYNC = True
# Rate-limit counters stay in each test process's memory, so one test's sign-in attempts never count against
# another's; the test of limits shared across processes points ``default`` at Redis itself.
CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # noqa: F405
