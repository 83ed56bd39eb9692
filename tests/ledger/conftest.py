"""Ledger fixtures: learners, profiles and claims made through the services the portal uses.

``make_learner`` and ``change_profile`` go through ``create_profile`` and ``update_profile``, and
``complete`` through ``enroll`` and ``claim_credit``, so every ledger row a test sees was written by
``learners.services.reporting`` as the portal writes it, never by a factory.
"""

import html
import re
from datetime import UTC, datetime

import pytest

from learners import services
from learners.models import Enrollment, LearnerProfile, ReportingEntry
from tests.factories import ActivityFactory, UserFactory

BIRTH = (7, 14)
ABIM_ID = "ABIM-448812"
ABPATH_ID = "PATH-99120"
EPROFILE_ID = "1234567"
_KEEP = object()


def make_learner(
    user=None,
    *,
    profession: str = "physician",
    first_name: str = "Ada",
    last_name: str = "Lovelace",
    consent: bool = False,
    birth: tuple[int, int] | None = None,
    board_ids=(),
    licenses=(),
    eprofile: str = "",
):
    """``user`` (a new one if None) with a profile made through the services."""
    user = user or UserFactory()
    profile = services.create_profile(
        user=user, first_name=first_name, last_name=last_name, profession=profession
    )
    fields = {"degree": "MD" if profession == "physician" else ""}
    if birth:
        fields["birth_month"], fields["birth_day"] = birth
    if eprofile:
        fields["nabp_eprofile_id"] = eprofile
    services.update_profile(
        profile=profile,
        first_name=first_name,
        last_name=last_name,
        fields=fields,
        consent=consent,
        licenses=list(licenses),
        board_ids=list(board_ids),
    )
    return user


def change_profile(user, *, consent=_KEEP, birth=_KEEP, eprofile=_KEEP, board_ids=_KEEP, licenses=_KEEP):
    """``update_profile`` with the learner's current details, changing only what is given."""
    profile = LearnerProfile.objects.get(user=user)
    fields = {}
    if birth is not _KEEP:
        fields["birth_month"], fields["birth_day"] = birth or (None, None)
    if eprofile is not _KEEP:
        fields["nabp_eprofile_id"] = eprofile
    services.update_profile(
        profile=profile,
        first_name=user.first_name,
        last_name=user.last_name,
        fields=fields,
        consent=profile.has_reporting_consent if consent is _KEEP else consent,
        licenses=list(profile.licenses.values_list("state", "number")) if licenses is _KEEP else licenses,
        board_ids=list(profile.board_ids.values_list("board", "board_id"))
        if board_ids is _KEEP
        else board_ids,
    )


def complete(user, activity, *, moc_boards=(), at: datetime | None = None) -> Enrollment:
    """Enroll ``user`` in ``activity`` and claim the maximum of every credit their profession may claim."""
    enrollment, _ = services.enroll(learner=user, activity=activity, at=at)
    profile = LearnerProfile.objects.get(user=user)
    options = services.claim_options(enrollment=enrollment, profile=profile)
    amounts = {o.designation.credit_type_id: o.designation.max_amount for o in options.claimable}
    services.claim_credit(enrollment=enrollment, amounts=amounts, attested=True, moc_boards=moc_boards, at=at)
    enrollment.refresh_from_db()
    return enrollment


def ledger(user) -> list[tuple]:
    """The learner's ledger rows as ``(destination, board, credit type, amount, state, reason)``."""
    return [
        (e.destination, e.board, e.credit_type, e.amount, e.state, e.reason)
        for e in ReportingEntry.objects.filter(learner=user).order_by("destination", "board", "credit_type")
    ]


def page_text(response) -> str:
    """The page's text with tags removed and entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


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
    return ActivityFactory(provider=provider, **kwargs)


@pytest.fixture
def activity(provider_a):
    return make_activity(provider_a, title="Intrathecal drug delivery")


@pytest.fixture
def other_activity(provider_a):
    return make_activity(provider_a, title="Spinal cord stimulation")


@pytest.fixture
def physician(learner_a):
    """Learner A: an MD who consented, with a birth date and IDs for ABIM and ABPath; no state license."""
    return make_learner(
        learner_a,
        consent=True,
        birth=BIRTH,
        board_ids=[("ABIM", ABIM_ID), ("ABPATH", ABPATH_ID)],
    )


@pytest.fixture
def pharmacist(db):
    """A pharmacist who has given nothing yet: no consent, birth date or e-Profile ID."""
    return make_learner(UserFactory(email="pharmacist@example.com"), profession="pharmacist")
