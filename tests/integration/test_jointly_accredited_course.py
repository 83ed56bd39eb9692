"""A physician, a nurse, a pharmacist and a PA complete the same jointly accredited, jointly provided course:
each gets the certificate their accreditor asks for, and the provider's PARS and CPE Monitor files carry
them as the registries take them, written out by hand here from the registries' fields."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from learners.models import ReportingEntry
from learners.pdf.certificate import render_certificate
from learners.services.reporting import exports
from tests.factories import ActivityFactory, ProviderFactory, UserFactory
from tests.helpers import complete, issue, make_learner, text_of

pytestmark = pytest.mark.django_db

UAN = "JA0000421-0000-26-017-L01-P"
DAY = datetime(2026, 10, 14, 13, tzinfo=UTC)
OWN = {"physician": "ama_pra_1", "nurse": "nursing", "pharmacist": "pharmacy", "physician_assistant": "aapa"}
CERTIFICATES = {
    "physician": ("Certificate of Credit", "6.00 AMA PRA Category 1 Credit™"),
    "nurse": ("Certificate of Completion", "6.00 ANCC Nursing Contact Hours"),
    "pharmacist": ("Certificate of Completion", "6.00 ACPE Pharmacy Contact Hours"),
    "physician_assistant": ("Certificate of Completion", "6.00 AAPA Category 1 CME Credit"),
}
JA = "Metro Health CME is jointly accredited by the Accreditation Council for Continuing Medical Education"


@pytest.fixture
def course(staff_a):
    provider = ProviderFactory(
        name="Metro Health CME",
        address="1 Health Way, Springfield, IL 62701",
        joint_accreditation=True,
        aapa_authorized=True,
        accme_provider_id="0000421",
        acpe_provider_number="JA0000421",
    )
    staff_a.memberships.update(provider=provider)
    activity = ActivityFactory(
        provider=provider,
        title="Safer opioid prescribing for the care team",
        activity_type="course",
        format="in_person",
        location="Springfield Convention Center",
        start=DAY,
        end=DAY.replace(hour=19),
        providership="joint",
        joint_provider="Springfield Pain Society",
        accreditor_activity_id="260017001",
        credits={code: "6.00" for code in ("ama_pra_1", "ipce", "nursing", "pharmacy", "aapa")},
        moc=[("ABIM", "medical_knowledge", "6.00")],
    )
    activity.credits.filter(credit_type="pharmacy").update(
        activity_number=UAN, acpe_activity_type="knowledge"
    )
    learners = {}
    for n, profession in enumerate(OWN):
        learner = make_learner(
            UserFactory(email=f"{profession}@example.com"),
            first_name="Pat",
            last_name=f"Example{n}",
            profession=profession,
            consent=True,
            birth=(3, 9 + n),
            board_ids=[("ABIM", "123456")] if profession == "physician" else [],
            npi="1234567893" if profession == "physician" else "",
            eprofile="7654321" if profession == "pharmacist" else "",
        )
        amounts = {OWN[profession]: Decimal("6.00"), "ipce": Decimal("6.00")}
        moc = ["ABIM"] if profession == "physician" else []
        learners[profession] = complete(
            learner, activity, amounts=amounts, moc_boards=moc, at=DAY.replace(hour=20)
        )
    return activity, learners


def test_each_learner_gets_the_certificate_their_accreditor_asks_for(
    course, django_capture_on_commit_callbacks
):
    _activity, learners = course
    for profession, enrollment in learners.items():
        text = text_of(
            render_certificate(issue(enrollment, django_capture_on_commit_callbacks).versions.get())
        )
        title, credit = CERTIFICATES[profession]
        assert title in text and credit in text and "6.00 IPCE Credit" in text, profession
        assert JA in text and "Springfield Pain Society" in text, profession


def test_the_providers_files_load_into_pars_and_cpe_monitor_as_written(course, staff_a):
    with time_machine.travel(datetime(2026, 10, 20, 12, tzinfo=UTC), tick=False):
        pars = exports.export_for_providers(
            entries=ReportingEntry.objects.all(), destination="accreditor", by=staff_a
        )
        cpe = exports.export_for_providers(
            entries=ReportingEntry.objects.all(), destination="cpe_monitor", by=staff_a
        )

    (pars_file,) = pars.batches
    assert pars_file.content.split("\r\n") == [
        "\t".join(
            [
                "0000421", "260017001", "Safer opioid prescribing for the care team", "Pat", "Example0",
                "03/09", "2026-10-14", "add",
                "NPI", "1234567893", "AMA PRA Category 1", "6.00",
                "ABIM", "123456", "MK", "6.00",
            ]
        ),
        "",
    ]  # fmt: skip
    (cpe_file,) = cpe.batches
    assert cpe_file.content.splitlines() == [
        "provider_number,epid,date_of_birth,uan,date_of_participation,action",
        f"JA0000421,7654321,0311,{UAN},2026-10-14,I",
    ]
    assert pars.refused == cpe.refused == ()
