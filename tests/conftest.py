"""Fixtures shared by the whole suite: personas, the seed listing, and the service markers.

Tests marked ``postgres`` or ``redis`` need those services (``DATABASE_URL``, ``CELERY_BROKER_URL``).
Without them they skip with a reason, unless ``REQUIRE_SERVICES=1``, which makes each such skip a failure.
"""

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from portal.scoping import ACCREDITATION_STAFF_GROUP
from tests.factories import ActivityFactory, MembershipFactory, ProviderFactory, SpecialtyFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_cd1b7cbbb4c31ee5.txt"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def broker_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2):
            return True
    except OSError:
        return False


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and not is_postgres():
        missing_service("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("redis") or item.get_closest_marker("celery"):
        url = os.environ.get("CELERY_BROKER_URL")
        if not url:
            missing_service("needs Redis: set CELERY_BROKER_URL=redis://...")
        elif not broker_reachable(url):
            pytest.fail(f"CELERY_BROKER_URL={url} is set but nothing answers there", pytrace=False)


@pytest.fixture(autouse=True)
def _catalog_changes_visible_per_statement(request):
    """On PostgreSQL the catalog token changes at commit (a deferred trigger). A test's transaction never
    commits, so inside one, deferred triggers fire at the end of each statement instead."""
    if "django_db_setup" not in request.fixturenames or not is_postgres():
        return
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        return  # these tests commit for real
    from django.db import connection

    request.getfixturevalue("db")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters (the ``default`` cache, this process's memory in tests) start empty in each test,
    so one test's failed sign-ins never lock another's client out."""
    from django.core.cache import caches

    caches["default"].clear()


@pytest.fixture
def seed_text() -> bytes:
    return SEED.read_bytes()


@pytest.fixture
def seed_specialties(db):
    """The seed's specialties, which only accreditation staff may add to the catalog."""
    for name in (
        "All Practice Areas (e.g. ethics)",
        "General Surgery",
        "Pain Medicine",
        "Surgery of the Spine",
    ):
        SpecialtyFactory(name=name)


@pytest.fixture
def provider_a(db):
    return ProviderFactory(name="Provider A")


@pytest.fixture
def provider_b(db):
    return ProviderFactory(name="Provider B")


@pytest.fixture
def staff_a(provider_a):
    """An editor at provider A."""
    return MembershipFactory(provider=provider_a, user__email="staff-a@example.com").user


@pytest.fixture
def viewer_a(provider_a):
    """A read-only staff member at provider A."""
    return MembershipFactory(provider=provider_a, role="viewer", user__email="viewer-a@example.com").user


@pytest.fixture
def staff_b(provider_b):
    """An editor at provider B: the outsider in every provider-A test."""
    return MembershipFactory(provider=provider_b, user__email="staff-b@example.com").user


@pytest.fixture
def viewer_b(provider_b):
    return MembershipFactory(provider=provider_b, role="viewer", user__email="viewer-b@example.com").user


@pytest.fixture
def mixed_role(provider_a, provider_b):
    """Editor at provider A, only a viewer at provider B: every write to B's objects must be refused."""
    user = MembershipFactory(provider=provider_a, user__email="mixed-role@example.com").user
    MembershipFactory(provider=provider_b, user=user, role="viewer")
    return user


@pytest.fixture
def accreditor(db):
    user = UserFactory(email="accreditor@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name=ACCREDITATION_STAFF_GROUP))
    return user


@pytest.fixture
def learner_a(db):
    return UserFactory(email="learner-a@example.com")


@pytest.fixture
def learner_b(db):
    return UserFactory(email="learner-b@example.com")


@pytest.fixture
def activity_a(provider_a):
    return ActivityFactory(provider=provider_a, title="Provider A activity")


@pytest.fixture
def activity_b(provider_b):
    return ActivityFactory(provider=provider_b, title="Provider B activity")
