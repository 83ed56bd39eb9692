"""Reporting fixtures: a month of MOC, state-board and pharmacy completions made through the services.

The clock stands at 15 November 2026, so "last month" is October 2026. Learners get their profiles through
``create_profile`` and ``update_profile`` and complete activities through ``enroll`` and ``claim_credit``
(dated with ``at=``), so the ledger holds only what the portal itself writes.
"""

import html
import re
from datetime import datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from learners import services
from learners.models import Enrollment, LearnerProfile, ReportingEntry
from tests.factories import ActivityFactory, MembershipFactory, UserFactory, utc

NOW = utc(2026, 11, 15, 10, 0)
OCT_3, OCT_20, OCT_31 = utc(2026, 10, 3, 14, 30), utc(2026, 10, 20, 9, 15), utc(2026, 10, 31, 23, 30)
SEP_28, NOV_2 = utc(2026, 9, 28, 16, 0), utc(2026, 11, 2, 8, 0)
PARS_ID = "PARS-2026-0042"
UAN = "JA0000000-0000-26-042-H01-P"

LEDGER = reverse("admin:learners_reportingentry_changelist")
EXPORT = reverse("admin:learners_reportingentry_export")
RETURNED = reverse("admin:learners_reportingentry_returned")
ACTIVITY_CSV = reverse("admin:learners_reportingentry_activity_csv")
BATCHES = reverse("admin:learners_exportbatch_changelist")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def make_learner(
    user=None,
    *,
    first_name,
    last_name,
    profession="physician",
    consent=True,
    licenses=(),
    board_ids=(),
    **fields,
):
    """``user`` (a new one if None) with a profile made through the services."""
    user = user or UserFactory()
    profile = services.create_profile(
        user=user, first_name=first_name, last_name=last_name, profession=profession
    )
    fields.setdefault("degree", "MD" if profession == "physician" else "")
    set_profile(user, consent=consent, licenses=licenses, board_ids=board_ids, **fields)
    assert profile.pk
    return user


def set_profile(user, *, consent=None, licenses=None, board_ids=None, **fields):
    """Change what ``update_profile`` is given, keeping the rest as it is."""
    profile = LearnerProfile.objects.get(user=user)
    services.update_profile(
        profile=profile,
        first_name=user.first_name,
        last_name=user.last_name,
        fields=fields,
        consent=profile.has_reporting_consent if consent is None else consent,
        licenses=list(profile.licenses.values_list("state", "number"))
        if licenses is None
        else list(licenses),
        board_ids=(
            list(profile.board_ids.values_list("board", "board_id")) if board_ids is None else list(board_ids)
        ),
    )


def complete(user, activity, *, at: datetime, moc_boards=()) -> Enrollment:
    """``user`` enrolls and claims the maximum of what their profession may claim, at ``at``."""
    with time_machine.travel(at, tick=False):
        enrollment, _ = services.enroll(learner=user, activity=activity)
        profile = LearnerProfile.objects.get(user=user)
        options = services.claim_options(enrollment=enrollment, profile=profile)
        amounts = {o.designation.credit_type_id: o.designation.max_amount for o in options.claimable}
        services.claim_credit(
            enrollment=enrollment, amounts=amounts, attested=True, moc_boards=moc_boards, at=at
        )
    enrollment.refresh_from_db()
    return enrollment


def moc_activity(provider, *, title, pars_id=PARS_ID, uan=UAN):
    """AMA credit and pharmacy hours at 1.50, MOC with ABIM (medical knowledge) and ABS (accredited CME)."""
    activity = ActivityFactory(
        provider=provider,
        title=title,
        start=utc(2026, 1, 10),
        end=utc(2027, 1, 10),
        credits={"ama_pra_1": "1.50", "pharmacy": "1.50"},
        moc=[("ABIM", "medical_knowledge", "1.50"), ("ABS", "accredited_cme", "1.00")],
        accreditor_activity_id=pars_id,
    )
    activity.credits.filter(credit_type_id="pharmacy").update(activity_number=uan)
    return activity


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def rows_of(*learners, **filters):
    return ReportingEntry.objects.filter(learner__in=learners, **filters).order_by("pk")


@pytest.fixture
def activity(provider_a):
    return moc_activity(provider_a, title="Pain management update")


@pytest.fixture
def physician(learner_a):
    """Ada: an MD with ABIM and ABS board IDs, birth date, two state licenses, consenting to reporting."""
    return make_learner(
        learner_a,
        first_name="Ada",
        last_name="Lovelace",
        birth_month=7,
        birth_day=4,
        licenses=[("CA", "A123456"), ("NY", "298877")],
        board_ids=[("ABIM", "ABIM-448812"), ("ABS", "ABS-77120")],
    )


@pytest.fixture
def pharmacist(db):
    """Paul: a pharmacist with an e-Profile ID and birth date, consenting to reporting."""
    return make_learner(
        UserFactory(email="paul@example.com"),
        first_name="Paul",
        last_name="Ehrlich",
        profession="pharmacist",
        birth_month=3,
        birth_day=9,
        nabp_eprofile_id="1234567",
    )


@pytest.fixture
def october(physician, pharmacist, activity):
    """Ada completed on 3 October (MOC with both boards), Paul on 20 October: all ready."""
    return {
        "ada": complete(physician, activity, at=OCT_3, moc_boards=["ABIM", "ABS"]),
        "paul": complete(pharmacist, activity, at=OCT_20),
    }


@pytest.fixture
def waiting(activity):
    """Three learners whose October rows wait: no consent, a board ID taken back, no e-Profile ID."""
    no_consent = make_learner(
        UserFactory(email="noconsent@example.com"),
        first_name="Nora",
        last_name="Noconsent",
        consent=False,
        birth_month=1,
        birth_day=2,
        licenses=[("TX", "T5550")],
    )
    complete(no_consent, activity, at=OCT_3)
    no_board_id = make_learner(
        UserFactory(email="noboard@example.com"),
        first_name="Bob",
        last_name="Boardless",
        birth_month=5,
        birth_day=6,
        board_ids=[("ABIM", "ABIM-1"), ("ABS", "ABS-2")],
    )
    complete(no_board_id, activity, at=OCT_3, moc_boards=["ABIM", "ABS"])
    set_profile(no_board_id, board_ids=[("ABIM", "ABIM-1")])  # the ABS row now waits for the ID
    no_eprofile = make_learner(
        UserFactory(email="noeprofile@example.com"),
        first_name="Edna",
        last_name="Noprofile",
        profession="pharmacist",
        birth_month=8,
        birth_day=9,
    )
    complete(no_eprofile, activity, at=OCT_20)
    return {"no_consent": no_consent, "no_board_id": no_board_id, "no_eprofile": no_eprofile}


@pytest.fixture
def moc_activity_b(provider_b):
    return moc_activity(provider_b, title="Provider B cardiology", pars_id="PARS-B-9", uan="B-UAN")


@pytest.fixture
def october_b(learner_b, moc_activity_b):
    """Bea completed provider B's activity on 10 October, MOC with ABIM: ready."""
    bea = make_learner(
        learner_b,
        first_name="Bea",
        last_name="Outsider",
        birth_month=12,
        birth_day=25,
        board_ids=[("ABIM", "ABIM-999")],
    )
    return complete(bea, moc_activity_b, at=utc(2026, 10, 10, 12, 0), moc_boards=["ABIM"])


@pytest.fixture
def staff_ab(provider_a, provider_b):
    """An editor at both providers."""
    user = MembershipFactory(provider=provider_a, user__email="staff-ab@example.com").user
    MembershipFactory(provider=provider_b, user=user)
    return user


@pytest.fixture
def as_staff_a(client, staff_a):
    client.force_login(staff_a)
    return client


@pytest.fixture
def as_staff_b(client, staff_b):
    client.force_login(staff_b)
    return client
