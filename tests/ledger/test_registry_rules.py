"""What the registries take, and when: only the boards that take MOC through PARS, state boards only for a
provider in the State Medical Board collaboration, CPE Monitor rows that wait for the pharmacist's details
alone and expire after ACPE's 60 days, rows an activity cannot report yet held with the reason, and the
accreditor's records (one per completion; a correction is a delete, then an add)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from activities.models import CreditDesignation
from learners import tasks
from learners.models import ClaimedMoc, ReportingEntry
from learners.services import corrections
from learners.services.reporting import codes, exports
from learners.services.reporting import ledger as ledger_service
from tests.factories import UserFactory
from tests.helpers import ABIM_ID, BIRTH, EPROFILE_ID, NPI, change_profile, complete, make_learner
from tests.ledger.conftest import UAN, make_activity

pytestmark = pytest.mark.django_db

D = Decimal
JUNE_2 = datetime(2025, 6, 2, 15, tzinfo=UTC)
UAN_T = "0129-0000-24-001-H01-T"


def rows(user) -> list[tuple]:
    return sorted(
        (e.destination, e.board, e.credit_type, e.state)
        for e in ReportingEntry.objects.filter(learner=user, superseded_at__isnull=True)
    )


def export(destination, by):
    return exports.export_for_providers(entries=ReportingEntry.objects.all(), destination=destination, by=by)


def pars_records(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.split("\r\n")[:-1]]


@pytest.fixture
def technician(db):
    """Tess, a pharmacy technician, who gave her e-Profile ID and birth date (and no other consent)."""
    return make_learner(
        UserFactory(email="tess@example.com"),
        first_name="Tess",
        last_name="Tech",
        profession="pharmacy_technician",
        birth=(11, 30),
        eprofile="7654321",
    )


# --- which rows there are --------------------------------------------------------------------------------


def test_only_boards_that_take_moc_through_pars_get_accreditor_rows(physician, provider_a):
    change_profile(physician, board_ids=[("ABIM", ABIM_ID), ("ABFM", "ABFM-1")])
    activity = make_activity(
        provider_a,
        title="Family medicine update",
        moc=[("ABIM", "medical_knowledge", "1.50"), ("ABFM", "lifelong_learning", "1.50")],
    )
    enrollment = complete(physician, activity, at=JUNE_2, moc_boards=["ABIM"])
    assert [(d, b) for d, b, _t, _s in rows(physician) if d == "accreditor"] == [("accreditor", "ABIM")]
    # Points for a board outside PARS (as an older claim may hold) make no row for the accreditor.
    claim = enrollment.claim
    ClaimedMoc.objects.create(
        claim=claim, board="ABFM", credit_type="lifelong_learning", points=Decimal("1.50"), board_id="ABFM-1"
    )
    profile = physician.profile
    assert {line.board for line in ledger_service._lines(claim, profile)} == {"ABIM"}


def test_state_board_rows_only_for_a_provider_in_the_collaboration(
    physician, activity, other_activity, provider_a
):
    change_profile(physician, licenses=[("CA", "A123")])
    provider_a.state_board_reporting = False
    provider_a.save()
    complete(physician, activity, at=JUNE_2)
    assert rows(physician) == []  # no MOC claimed, and the provider does not report to the state boards

    provider_a.state_board_reporting = True
    provider_a.save()
    complete(physician, other_activity, at=JUNE_2)
    assert rows(physician) == [("accreditor", "STATE", "ama_pra_1", "ready")]


# --- CPE Monitor's 60 days -----------------------------------------------------------------------------------


def test_a_cpe_row_past_60_days_expires_tells_the_learner_and_is_never_exported(
    client, pharmacist, activity, staff_a, time_machine
):
    time_machine.move_to(JUNE_2, tick=False)
    complete(pharmacist, activity)
    (entry,) = ReportingEntry.objects.filter(learner=pharmacist)
    assert (entry.state, entry.completed_on, entry.due_on) == (
        "waiting",
        JUNE_2.date(),
        JUNE_2.date() + timedelta(60),
    )

    time_machine.move_to(JUNE_2 + timedelta(days=60), tick=False)  # the 60th day: still open
    assert ledger_service.expire_past_deadline() == 0
    time_machine.move_to(JUNE_2 + timedelta(days=61), tick=False)
    assert tasks.expire_reporting_task.delay().get() == 1
    assert ledger_service.expire_past_deadline() == 0  # a second run finds nothing more

    entry.refresh_from_db()
    assert entry.state == "expired"
    assert entry.reason.startswith("Past CPE Monitor's 60 days: ACPE accepts pharmacy credit only within 60")
    client.force_login(pharmacist)
    page = client.get(reverse("learners:dashboard")).content.decode()
    assert "Past CPE Monitor&#x27;s 60 days" in page and "2025-06-02" in page

    change_profile(pharmacist, birth=BIRTH, eprofile=EPROFILE_ID)  # the details, too late
    entry.refresh_from_db()
    assert entry.state == "expired"
    assert export("cpe_monitor", staff_a).batches == ()


def test_the_export_expires_what_the_daily_sweep_has_not_reached_yet(
    pharmacist, activity, staff_a, time_machine
):
    time_machine.move_to(JUNE_2, tick=False)
    complete(pharmacist, activity)
    change_profile(pharmacist, birth=BIRTH, eprofile=EPROFILE_ID)
    assert ReportingEntry.objects.get(learner=pharmacist).state == "ready"

    time_machine.move_to(JUNE_2 + timedelta(days=75), tick=False)
    assert export("cpe_monitor", staff_a).batches == ()
    assert ReportingEntry.objects.get(learner=pharmacist).state == "expired"


def test_a_pharmacist_is_reported_without_the_board_reporting_consent(
    pharmacist, activity, staff_a, time_machine
):
    time_machine.move_to(JUNE_2, tick=False)
    complete(pharmacist, activity)
    change_profile(pharmacist, birth=BIRTH, eprofile=EPROFILE_ID)
    time_machine.move_to(datetime(2025, 6, 10, tzinfo=UTC), tick=False)
    (batch,) = export("cpe_monitor", staff_a).batches
    assert (
        batch.content.splitlines()[1] == f"0129,{EPROFILE_ID},{BIRTH[0]:02d}{BIRTH[1]:02d},{UAN},2025-06-02,I"
    )


# --- the UAN against the learner ---------------------------------------------------------------------------


def test_uan_problem_matches_the_uans_audience_to_the_profession(activity, provider_a):
    designation = CreditDesignation.objects.select_related("activity__provider").get(
        activity=activity, credit_type="pharmacy"
    )
    assert codes.uan_problem(designation, "pharmacist") is None
    assert codes.uan_problem(designation, "pharmacy_technician") == (
        "The activity has no UAN for pharmacy technicians (ending in T)."
    )
    assert codes.uan_problem(designation, "nurse") == (
        "Only pharmacists and pharmacy technicians are reported to CPE Monitor."
    )
    assert codes.uan_problem(None, "pharmacist") == "The activity designates no pharmacy credit."

    designation.technician_activity_number = UAN_T
    assert codes.uan_problem(designation, "pharmacy_technician") is None
    assert codes.uan_for(designation, "pharmacy_technician") == UAN_T

    provider_a.acpe_provider_number = "0421"
    provider_a.save()
    designation = CreditDesignation.objects.select_related("activity__provider").get(pk=designation.pk)
    assert codes.uan_problem(designation, "pharmacist") == (
        "The UAN's provider number 0129 is not the provider's ACPE number 0421."
    )
    designation.activity_number = ""
    assert (
        codes.uan_problem(designation, "pharmacist")
        == "The activity has no UAN for pharmacists (ending in P)."
    )


def test_a_technicians_row_waits_at_export_for_a_t_uan_and_then_goes_on_it(
    technician, pharmacist, activity, staff_a, time_machine
):
    time_machine.move_to(JUNE_2, tick=False)
    pharmacy = CreditDesignation.objects.filter(activity=activity, credit_type="pharmacy")
    pharmacy.update(technician_activity_number=UAN_T)  # a technician claims only on a T UAN
    complete(technician, activity)
    complete(pharmacist, activity)
    change_profile(pharmacist, birth=BIRTH, eprofile=EPROFILE_ID)
    pharmacy.update(technician_activity_number="")  # taken off the activity since
    assert {e.learner_id: e.state for e in ReportingEntry.objects.all()} == {
        technician.pk: "ready",
        pharmacist.pk: "ready",
    }

    result = export("cpe_monitor", staff_a)
    (batch,) = result.batches
    assert [line.split(",")[1] for line in batch.content.splitlines()[1:]] == [EPROFILE_ID]  # the pharmacist
    assert result.refused == (
        ("Intrathecal drug delivery", "The activity has no UAN for pharmacy technicians (ending in T).", 1),
    )
    held = ReportingEntry.objects.get(learner=technician)
    assert (held.state, held.reason) == (
        "ready",
        "Not exported: The activity has no UAN for pharmacy technicians (ending in T).",
    )

    CreditDesignation.objects.filter(activity=activity, credit_type="pharmacy").update(
        technician_activity_number=UAN_T
    )
    (again,) = export("cpe_monitor", staff_a).batches
    assert again.content.splitlines()[1] == f"0129,7654321,1130,{UAN_T},2025-06-02,I"
    held.refresh_from_db()
    assert (held.state, held.reason) == ("exported", "")


# --- the accreditor's records --------------------------------------------------------------------------------


def test_an_activity_without_its_pars_id_is_named_and_the_rest_exports(
    physician, activity, other_activity, staff_a, time_machine
):
    time_machine.move_to(JUNE_2, tick=False)
    other_activity.accreditor_activity_id = ""
    other_activity.save()
    complete(physician, activity, moc_boards=["ABIM"])
    complete(physician, other_activity, moc_boards=["ABIM"])

    result = export("accreditor", staff_a)

    (batch,) = result.batches
    assert [record[1] for record in pars_records(batch.content)] == ["240000001"]
    assert result.refused == (
        ("Spinal cord stimulation", "The activity has no PARS activity ID (9 digits).", 2),
    )
    assert set(ReportingEntry.objects.filter(activity=other_activity).values_list("state", "reason")) == {
        ("ready", "Not exported: The activity has no PARS activity ID (9 digits).")
    }


def test_a_one_amount_board_is_one_credit_carrying_its_types(
    physician_details, provider_a, staff_a, time_machine
):
    time_machine.move_to(JUNE_2, tick=False)
    activity = make_activity(
        provider_a,
        title="Hernia repair",
        moc=[("ABS", "accredited_cme", "1.50"), ("ABS", "self_assessment", "1.50")],
    )
    surgeon = make_learner(
        UserFactory(email="surgeon@example.com"),
        first_name="Sam",
        last_name="Surgeon",
        npi=NPI,
        birth=BIRTH,
        consent=True,
        board_ids=[("ABS", "ABS-1")],
    )
    complete(surgeon, activity, moc_boards=["ABS"])

    (batch,) = export("accreditor", staff_a).batches
    (record,) = pars_records(batch.content)
    assert record[8:] == ["NPI", NPI, "AMA PRA Category 1", "1.50", "ABS", "ABS-1", "CME, SA", "1.50"]
    assert batch.row_count == 2


def test_a_correction_of_reported_credit_is_a_delete_record_then_an_add(
    physician, activity, staff_a, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(JUNE_2, tick=False)
    change_profile(physician, licenses=[("CA", "A123")])
    enrollment = complete(physician, activity)
    (first,) = export("accreditor", staff_a).batches
    (sent,) = pars_records(first.content)
    assert sent[7:] == ["add", "CA", "A123", "AMA PRA Category 1", "1.50"]

    with django_capture_on_commit_callbacks(execute=True):
        corrections.correct_claim(
            claim=enrollment.claim,
            amounts={
                **{c.credit_type_id: c.amount for c in enrollment.claim.credits.all()},
                "ama_pra_1": D("1"),
            },
            sessions=None,
            by=staff_a,
            reason="Left early",
        )
    (second,) = export("accreditor", staff_a).batches

    deleted, added = pars_records(second.content)
    assert deleted[:7] == added[:7] == sent[:7]
    assert deleted[7:] == ["delete", "CA", "A123", "AMA PRA Category 1", "1.50"]
    assert added[7:] == ["add", "CA", "A123", "AMA PRA Category 1", "1.00"]
    assert ABIM_ID not in second.content  # no MOC was claimed
