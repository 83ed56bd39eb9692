"""The settings module as a deployment meets it: environment in, clear errors out."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PRODUCTION = {
    "SECRET_KEY": "k3y-" + "a1B2c3D4e5F6g7H8i9J0" * 3,
    "ALLOWED_HOSTS": "cme.example.org",
    "SITE_URL": "https://cme.example.org",
    "DATABASE_URL": "postgres://cme:secret@db.internal:5432/cme",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.internal:587",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DJANGO_SETTINGS_MODULE": "portal.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL"])
def test_production_refuses_to_start_without_required_variable(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    done = manage("check", **env)
    assert done.returncode != 0
    assert f"Set the {missing} environment variable." in done.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be 1 or 0"),
        ("DATABASE_URL", "mysql://x@y/z", "DATABASE_URL must be a postgres:// or sqlite:// URL"),
        ("SITE_URL", "cme.example.org", "SITE_URL must be an absolute http(s) URL"),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT must be a whole number"),
    ],
)
def test_bad_values_fail_at_start_up_naming_the_variable(name, value, message):
    done = manage("check", **{**PRODUCTION, "EMAIL_URL": "", "EMAIL_HOST": "smtp.internal", name: value})
    assert done.returncode != 0
    assert message in done.stderr


def test_check_deploy_is_clean_with_production_variables():
    done = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_debug_defaults_give_a_working_local_portal():
    done = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER,"
        " s.EMAIL_BACKEND, s.SITE_URL)",
        DJANGO_DEBUG="1",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-4:] == [
        "django.db.backends.sqlite3",
        "True",
        "django.core.mail.backends.console.EmailBackend",
        "http://127.0.0.1:8000",
    ]


def test_production_variables_configure_postgres_redis_and_smtp():
    done = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; from portal.celery import app;"
        "d = s.DATABASES['default'];"
        "print(d['ENGINE'], d['HOST'], d['NAME'], app.conf.broker_url, app.conf.task_always_eager,"
        " app.conf.task_acks_late, app.conf.worker_prefetch_multiplier, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS)",
        **PRODUCTION,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-10:] == [
        "django.db.backends.postgresql",
        "db.internal",
        "cme",
        "redis://redis.internal:6379/0",
        "False",
        "True",
        "1",
        "smtp.internal",
        "587",
        "True",
    ]
