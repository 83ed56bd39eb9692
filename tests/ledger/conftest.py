"""Ledger fixtures: activities like the seed's, what the physician persona has given, and her ledger.

Learners are made with ``tests.helpers`` (``make_learner`` and ``change_profile`` go through
``create_profile`` and ``update_profile``, ``complete`` through ``enroll`` and ``claim_credit``), so every
ledger row a test sees was written by ``learners.services.reporting`` as the portal writes it, never by a
factory. The pharmacist persona has given nothing yet: no consent, birth date or e-Profile ID.
"""

from datetime import UTC, datetime

import pytest

from learners.models import ReportingEntry
from tests.factories import ActivityFactory
from tests.helpers import ABIM_ID, BIRTH

ABPATH_ID = "PATH-99120"
UAN = "0129-0000-24-001-H01-P"


def ledger(user) -> list[tuple]:
    """The learner's ledger rows as ``(destination, board, credit type, amount, state, reason)``."""
    return [
        (e.destination, e.board, e.credit_type, e.amount, e.state, e.reason)
        for e in ReportingEntry.objects.filter(learner=user).order_by("destination", "board", "credit_type")
    ]


def make_activity(provider, **kwargs):
    """Like the seed: four credit types at 1.50, MOC with ABIM (two lines) and ABPath. It takes claims from
    2024 to 2028, so tests can date claims freely."""
    kwargs.setdefault("credits", {"ama_pra_1": "1.50", "ipce": "1.50", "nursing": "1.50", "pharmacy": "1.50"})
    kwargs.setdefault(
        "moc",
        [
            ("ABIM", "medical_knowledge", "1.50"),
            ("ABIM", "patient_safety", "0.50"),
            ("ABPATH", "lifelong_learning", "1.00"),
        ],
    )
    kwargs.setdefault("start", datetime(2024, 1, 1, tzinfo=UTC))
    kwargs.setdefault("end", datetime(2028, 12, 31, tzinfo=UTC))
    kwargs.setdefault("accreditor_activity_id", "240000001")
    activity = ActivityFactory(provider=provider, **kwargs)
    activity.credits.filter(credit_type_id="pharmacy").update(
        activity_number=UAN, acpe_activity_type="knowledge"
    )
    return activity


@pytest.fixture(autouse=True)
def state_board_collaboration(db, provider_a):
    """Provider A takes part in the State Medical Board collaboration (a test of the default turns it off)."""
    provider_a.state_board_reporting, provider_a.accme_provider_id = True, "0000421"
    provider_a.save(update_fields=["state_board_reporting", "accme_provider_id"])


@pytest.fixture
def activity(provider_a):
    return make_activity(provider_a, title="Intrathecal drug delivery")


@pytest.fixture
def other_activity(provider_a):
    return make_activity(provider_a, title="Spinal cord stimulation")


@pytest.fixture
def physician_details():
    """Learner A: an MD who consented, with a birth date and IDs for ABIM and ABPath; no state license."""
    return {"consent": True, "birth": BIRTH, "board_ids": [("ABIM", ABIM_ID), ("ABPATH", ABPATH_ID)]}
