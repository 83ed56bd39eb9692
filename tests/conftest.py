"""Fixtures shared by the whole suite: the personas, the seed listing, and the service markers.

The personas are one set for every test: provider staff (an editor and a viewer at each of providers A and
B, the mixed-role user, an editor at both), accreditation staff, and learners by profession, whose profiles
are made through the services by ``tests.helpers.make_learner``. Each learner's profile holds what its
``<persona>_details`` fixture says; an area whose tests need other details (the reporting IDs a ledger test
counts) overrides that fixture in its own conftest, and the persona stays the same person.

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
from tests.helpers import ABIM_ID, BIRTH, NPI, make_learner

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


# --- providers and their staff ------------------------------------------------------------------------------


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
    """A read-only staff member at provider B."""
    return MembershipFactory(provider=provider_b, role="viewer", user__email="viewer-b@example.com").user


@pytest.fixture
def mixed_role(provider_a, provider_b):
    """Editor at provider A, only a viewer at provider B: every write to B's objects must be refused."""
    user = MembershipFactory(provider=provider_a, user__email="mixed-role@example.com").user
    MembershipFactory(provider=provider_b, user=user, role="viewer")
    return user


@pytest.fixture
def staff_ab(provider_a, provider_b):
    """An editor at both providers."""
    user = MembershipFactory(provider=provider_a, user__email="staff-ab@example.com").user
    MembershipFactory(provider=provider_b, user=user)
    return user


@pytest.fixture
def accreditor(db):
    """Accreditation staff: see every provider's data."""
    user = UserFactory(email="accreditor@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name=ACCREDITATION_STAFF_GROUP))
    return user


@pytest.fixture
def as_staff_a(client, staff_a):
    """The test client, signed in as provider A's editor."""
    client.force_login(staff_a)
    return client


@pytest.fixture
def as_staff_b(client, staff_b):
    """The test client, signed in as provider B's editor."""
    client.force_login(staff_b)
    return client


# --- learners ----------------------------------------------------------------------------------------------


@pytest.fixture
def learner_a(db):
    """Learner A's account, with no profile yet (``physician`` is learner A with one)."""
    return UserFactory(email="learner-a@example.com")


@pytest.fixture
def learner_b(db):
    """Learner B's account, with no profile yet: the other learner in every learner-A test."""
    return UserFactory(email="learner-b@example.com")


@pytest.fixture
def physician_details() -> dict:
    """What ``physician`` has given, as ``make_learner``'s keywords."""
    return {"npi": NPI, "birth": BIRTH, "board_ids": [("ABIM", ABIM_ID)], "consent": True}


@pytest.fixture
def physician(learner_a, physician_details):
    """Learner A, Ada Lovelace, MD: by default with an NPI, a birth date and an ABIM board ID, consenting to
    reporting."""
    return make_learner(learner_a, first_name="Ada", last_name="Lovelace", **physician_details)


@pytest.fixture
def physician_b_details() -> dict:
    """What ``physician_b`` has given: by default nothing beyond her name and degree."""
    return {}


@pytest.fixture
def physician_b(learner_b, physician_b_details):
    """Learner B, Bea Outsider, MD: the other learner in every learner-A test."""
    return make_learner(learner_b, first_name="Bea", last_name="Outsider", **physician_b_details)


@pytest.fixture
def nurse_details() -> dict:
    """What ``nurse`` has given: by default nothing beyond her name."""
    return {}


@pytest.fixture
def nurse(db, nurse_details):
    """Florence Nightingale, a nurse."""
    user = UserFactory(email="nurse@example.com")
    return make_learner(
        user, first_name="Florence", last_name="Nightingale", profession="nurse", **nurse_details
    )


@pytest.fixture
def pharmacist_details() -> dict:
    """What ``pharmacist`` has given: by default nothing beyond his name (no consent, birth date or e-Profile
    ID)."""
    return {}


@pytest.fixture
def pharmacist(db, pharmacist_details):
    """Paul Ehrlich, a pharmacist."""
    user = UserFactory(email="paul@example.com")
    return make_learner(
        user, first_name="Paul", last_name="Ehrlich", profession="pharmacist", **pharmacist_details
    )


# --- activities --------------------------------------------------------------------------------------------


@pytest.fixture
def activity_a(provider_a):
    return ActivityFactory(provider=provider_a, title="Provider A activity")


@pytest.fixture
def activity_b(provider_b):
    return ActivityFactory(provider=provider_b, title="Provider B activity")
