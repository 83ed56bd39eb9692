"""Sign-in attempts are limited per client and per account, for the admin as for learners, keyed on the
client's own address behind a trusted proxy, and counted in a cache every process shares."""

import os
import subprocess
import sys
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import ROOT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"
ADMIN_LOGIN = reverse("admin:login")


@pytest.fixture
def staff(db):
    return UserFactory(email="editor@example.com", is_staff=True, password=PASSWORD)


def admin_login(client, email, password, **headers):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"}, **headers)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_signs_in(client, staff):
    response = admin_login(client, staff.email, PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_after_five_wrong_passwords_the_right_one_is_refused_too(client, staff):
    for _ in range(5):
        assert admin_login(Client(), staff.email, "wrong").status_code == 200

    response = admin_login(client, staff.email, PASSWORD)

    assert not signed_in(client)
    assert "Too many failed login attempts" in response.text


def test_the_admin_and_the_learners_sign_in_share_one_count(client, staff):
    for _ in range(5):
        Client().post(reverse("account_login"), {"login": staff.email, "password": "wrong"})

    admin_login(client, staff.email, PASSWORD)

    assert not signed_in(client)


def test_one_client_address_may_fail_only_ten_times_a_minute(client, staff):
    for number in range(10):
        admin_login(Client(), f"guess-{number}@example.com", "wrong")

    response = admin_login(client, staff.email, PASSWORD)

    assert not signed_in(client)
    assert "Too many failed login attempts" in response.text


@pytest.mark.parametrize(("trusted_proxies", "other_client_locked_out"), [(0, True), (1, False)])
def test_behind_a_trusted_proxy_the_limit_is_per_client(
    settings, staff, trusted_proxies, other_client_locked_out
):
    """Every request reaches the portal from the balancer (127.0.0.1); the balancer names the client."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = trusted_proxies
    for number in range(10):
        admin_login(Client(), f"guess-{number}@example.com", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5")

    client = Client()
    admin_login(client, staff.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert signed_in(client) is not other_client_locked_out


def test_the_client_address_header_can_be_named(settings, staff):
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    for number in range(10):
        admin_login(Client(), f"guess-{number}@example.com", "wrong", HTTP_X_REAL_IP="203.0.113.5")

    locked, other = Client(), Client()
    admin_login(locked, staff.email, PASSWORD, HTTP_X_REAL_IP="203.0.113.5")
    admin_login(other, staff.email, PASSWORD, HTTP_X_REAL_IP="198.51.100.7")

    assert not signed_in(locked)
    assert signed_in(other)


def shared_cache(url: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }


PROBE = """
import django
django.setup()
from allauth.account.adapter import get_adapter
from django.core.exceptions import ValidationError
from django.test import RequestFactory
request = RequestFactory().post("/admin/login/")
try:
    get_adapter(request).pre_authenticate(request, email="editor@example.com", password="x")
except ValidationError:
    print("refused")
else:
    print("allowed")
"""


def probe_in_another_process(cache_url: str, prefix: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "CACHE_URL": cache_url,
        "CACHE_KEY_PREFIX": prefix,
        "DJANGO_DEBUG": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.redis
def test_the_counts_are_shared_by_every_process_and_outlast_a_restart(settings, staff):
    """With Redis as the shared cache, failures counted in this process refuse the next attempt in another
    process (a second web process, or this one after a restart)."""
    host = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0]
    url = f"{host}/14"  # a database of its own: the broker's queues are never touched
    prefix = f"test-{uuid.uuid4().hex}"  # and keys of this run's own, which expire with their limit
    settings.CACHES = shared_cache(url, prefix)
    assert probe_in_another_process(url, prefix) == "allowed"
    for _ in range(5):
        admin_login(Client(), staff.email, "wrong")
    assert probe_in_another_process(url, prefix) == "refused"


def test_certificate_code_lookups_are_limited_per_client(client, settings):
    """Thirty lookups a minute from one address; the next is refused with 429 until the minute is over,
    while another client (behind the same trusted proxy) still looks up."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    lookup = reverse("learners:verify_lookup")
    for number in range(30):
        response = client.get(lookup, {"code": f"GUESS-{number:04d}"}, HTTP_X_FORWARDED_FOR="203.0.113.5")
        assert response.status_code == 404
    refused = client.get(lookup, {"code": "GUESS-9999"}, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert refused.status_code == 429
    assert "Too many lookups" in refused.text
    other = client.get(lookup, {"code": "GUESS-9999"}, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert other.status_code == 404
