"""A hand-counted world for the dashboards: two providers, four activities, physicians and nurses enrolling,
claiming and receiving certificates on set dates across 2023 and 2024.

Everything goes through the portal's services (``enroll``, ``claim_credit``, ``issue_certificate``,
``send_outbox_message``, ``revoke_certificate``) with the clock stopped at each moment, so every row's
timestamps are the ones a real learner would leave. The expected figures in ``test_dashboards.py`` are
counted by hand from the timeline below.

Provider A
  A1 "Cardiology update": internet enduring material, 2023-01-01 to 2025-12-31, AMA 1.50 and nursing 1.50,
     commercially supported.
  A2 "Sepsis bootcamp": a live course on 2023-03-10 (09:00-17:00), nursing 2.00 and IPCE 1.75, no AMA
     (hours of instruction = its largest designation, 2.00).
  A3 "Pharmacology journal club": journal-based CME, 2024 only, AMA 1.00 and pharmacy 1.00.
  A4 "Draft in progress": a draft over both years: never listed.
Provider B
  B1 "Outsider enduring": internet enduring material, 2023-01-01 to 2025-12-31, AMA 1.00 only.

Timeline (UTC)                                    certificate (issued at, delivery)
  2023-02-10 p1 enrolls A1; 02-20 claims AMA 1.25   2023-02-20 sent
  2023-03-01 n1 enrolls A2; 03-11 claims nursing 2.00, IPCE 1.75   2023-03-11 sent
  2023-03-05 n2 enrolls A2; 2024-01-05 claims nursing 1.50, IPCE 1.50   2024-01-05 sent
  2023-03-09 p1 enrolls A2; 03-12 claims IPCE 1.75                  none
  2023-05-03 p2 enrolls A1; 06-15 claims AMA 1.50   2023-06-15 pending
  2023-05-20 n1 enrolls A1; 05-21 claims nursing 1.00   2024-01-02 sent (issued late, by the sweep)
  2023-08-08 p3 enrolls B1; 08-09 claims AMA 1.00   2023-08-09 sent
  2023-11-30 p3 enrolls A1; 2024-01-10 claims AMA 0.75   2024-01-10 revoked before sending: failed
  2023-12-15 n2 enrolls A1; never claims
  2024-02-01 n3 enrolls A1; 03-05 claims nursing 1.50              none
  2024-04-01 p2 enrolls A3; 04-02 claims AMA 1.00   2024-04-02 pending
  2024-07-01 n1 enrolls A3; never claims
  2024-09-09 n2 enrolls B1; 09-10 claims nothing (participation)   2024-09-10 sent
  2024-12-31 23:30 p1 enrolls B1; never claims
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
import time_machine

from activities.models import Activity
from learners import services
from learners.models import Enrollment
from learners.services import certificates, outbox
from tests.factories import ActivityFactory, UserFactory, utc
from tests.helpers import attend, make_learner

YEAR_A, YEAR_B = 2023, 2024


def enroll_at(user, activity: Activity, moment: datetime) -> Enrollment:
    with time_machine.travel(moment, tick=False):
        enrollment, created = services.enroll(learner=user, activity=activity, at=moment)
    assert created
    return enrollment


def claim_at(enrollment: Enrollment, moment: datetime, **amounts: str) -> Enrollment:
    for session in enrollment.activity.sessions.all():
        attend(enrollment.learner, session)
    with time_machine.travel(moment, tick=False):
        services.claim_credit(
            enrollment=enrollment,
            amounts={code: Decimal(amount) for code, amount in amounts.items()},
            attested=True,
            at=moment,
        )
    enrollment.refresh_from_db()
    return enrollment


def certify_at(enrollment: Enrollment, moment: datetime, *, delivery: str, staff=None):
    """Issue the certificate at ``moment``; ``delivery`` "sent" sends its email, "pending" leaves it
    queued, "failed" revokes the certificate before the send, which then fails."""
    with time_machine.travel(moment, tick=False):
        certificate = certificates.issue_certificate(enrollment=enrollment)
        message = outbox.delivery_status(certificate)
        if delivery == "failed":
            certificates.revoke_certificate(certificate=certificate, reason="Claimed in error", by=staff)
        if delivery in ("sent", "failed"):
            assert outbox.send_message(message_id=message.pk) == delivery
    return certificate


@dataclass
class World:
    a1: Activity
    a2: Activity
    a3: Activity
    a4: Activity
    b1: Activity


@pytest.fixture
def world(provider_a, provider_b, mailoutbox) -> World:
    staff = UserFactory(email="revoker@example.com", is_staff=True)
    a1 = ActivityFactory(
        provider=provider_a,
        title="Cardiology update",
        activity_type="internet_enduring",
        start=utc(2023, 1, 1),
        end=utc(2025, 12, 31),
        credits={"ama_pra_1": "1.50", "nursing": "1.50"},
        commercial_support=True,
    )
    a2 = ActivityFactory(
        provider=provider_a,
        title="Sepsis bootcamp",
        activity_type="course",
        format="in_person",
        location="Boston, MA",
        start=utc(2023, 3, 10, 9),
        end=utc(2023, 3, 10, 17),
        credits={"nursing": "2.00", "ipce": "1.75"},
        claim_days=365,  # one learner claims in January of the next year, before PARS's March 31
    )
    a3 = ActivityFactory(
        provider=provider_a,
        title="Pharmacology journal club",
        activity_type="journal",
        start=utc(2024, 1, 1),
        end=utc(2024, 12, 31),
        credits={"ama_pra_1": "1.00", "pharmacy": "1.00"},
    )
    a4 = ActivityFactory(
        provider=provider_a,
        title="Draft in progress",
        start=utc(2023, 1, 1),
        end=utc(2025, 1, 1),
        status=Activity.Status.DRAFT,
    )
    b1 = ActivityFactory(
        provider=provider_b,
        title="Outsider enduring",
        activity_type="internet_enduring",
        start=utc(2023, 1, 1),
        end=utc(2025, 12, 31),
        credits={"ama_pra_1": "1.00"},
    )
    p1 = make_learner(UserFactory(email="p1@example.com"), first_name="Paula", last_name="One")
    p2 = make_learner(UserFactory(email="p2@example.com"), first_name="Peter", last_name="Two")
    p3 = make_learner(UserFactory(email="p3@example.com"), first_name="Priya", last_name="Three")
    n1 = make_learner(
        UserFactory(email="n1@example.com"), first_name="Nora", last_name="One", profession="nurse"
    )
    n2 = make_learner(
        UserFactory(email="n2@example.com"), first_name="Ned", last_name="Two", profession="nurse"
    )
    n3 = make_learner(
        UserFactory(email="n3@example.com"), first_name="Nia", last_name="Three", profession="nurse"
    )

    e = enroll_at(p1, a1, utc(2023, 2, 10))
    certify_at(claim_at(e, utc(2023, 2, 20), ama_pra_1="1.25"), utc(2023, 2, 20, 0, 5), delivery="sent")
    e = enroll_at(n1, a2, utc(2023, 3, 1))
    certify_at(
        claim_at(e, utc(2023, 3, 11), nursing="2.00", ipce="1.75"), utc(2023, 3, 11, 1), delivery="sent"
    )
    n2_a2 = enroll_at(n2, a2, utc(2023, 3, 5))
    e = enroll_at(p1, a2, utc(2023, 3, 9))
    claim_at(e, utc(2023, 3, 12), ipce="1.75")
    e = enroll_at(p2, a1, utc(2023, 5, 3))
    certify_at(claim_at(e, utc(2023, 6, 15), ama_pra_1="1.50"), utc(2023, 6, 15, 1), delivery="pending")
    n1_a1 = claim_at(enroll_at(n1, a1, utc(2023, 5, 20)), utc(2023, 5, 21), nursing="1.00")
    e = enroll_at(p3, b1, utc(2023, 8, 8))
    certify_at(claim_at(e, utc(2023, 8, 9), ama_pra_1="1.00"), utc(2023, 8, 9, 1), delivery="sent")
    p3_a1 = enroll_at(p3, a1, utc(2023, 11, 30))
    enroll_at(n2, a1, utc(2023, 12, 15))

    certify_at(n1_a1, utc(2024, 1, 2), delivery="sent")
    certify_at(
        claim_at(n2_a2, utc(2024, 1, 5), nursing="1.50", ipce="1.50"), utc(2024, 1, 5, 1), delivery="sent"
    )
    certify_at(
        claim_at(p3_a1, utc(2024, 1, 10), ama_pra_1="0.75"),
        utc(2024, 1, 10, 1),
        delivery="failed",
        staff=staff,
    )
    claim_at(enroll_at(n3, a1, utc(2024, 2, 1)), utc(2024, 3, 5), nursing="1.50")
    e = enroll_at(p2, a3, utc(2024, 4, 1))
    certify_at(claim_at(e, utc(2024, 4, 2), ama_pra_1="1.00"), utc(2024, 4, 2, 1), delivery="pending")
    enroll_at(n1, a3, utc(2024, 7, 1))
    e = enroll_at(n2, b1, utc(2024, 9, 9))
    certify_at(claim_at(e, utc(2024, 9, 10)), utc(2024, 9, 10, 1), delivery="sent")
    enroll_at(p1, b1, utc(2024, 12, 31, 23, 30))
    return World(a1=a1, a2=a2, a3=a3, a4=a4, b1=b1)
