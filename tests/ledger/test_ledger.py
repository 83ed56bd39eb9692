"""The reporting ledger: one row per claim line and registry, held with the reason until the learner has
consented and given what the registry needs, and following later profile changes while still open."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from learners.models import LearnerProfile, ReportingEntry, StateLicense
from learners.services.reporting import exports
from learners.services.reporting import ledger as ledger_service
from tests.factories import UserFactory
from tests.helpers import ABIM_ID, BIRTH, EPROFILE_ID, change_profile, complete, make_learner
from tests.ledger.conftest import ABPATH_ID, ledger, make_activity

pytestmark = pytest.mark.django_db

ACCREDITOR, CPE = "accreditor", "cpe_monitor"
READY, WAITING = "ready", "waiting"
ABIM_MK = (ACCREDITOR, "ABIM", "medical_knowledge", Decimal("1.50"))
ABIM_PS = (ACCREDITOR, "ABIM", "patient_safety", Decimal("0.50"))
ABPATH_LL = (ACCREDITOR, "ABPATH", "lifelong_learning", Decimal("1.00"))
STATE_AMA = (ACCREDITOR, "STATE", "ama_pra_1", Decimal("1.50"))
CPE_PHARMACY = (CPE, "", "pharmacy", Decimal("1.50"))


def ready(line) -> tuple:
    return (*line, READY, "")


def waiting(line, reason: str) -> tuple:
    return (*line, WAITING, reason)


def export(user, destination, by, provider):
    return exports.export_entries(
        entries=ReportingEntry.objects.filter(learner=user),
        destination=destination,
        by=by,
        description="test export",
        provider=provider,
    )


# --- physicians: MOC points to the accreditor -----------------------------------------------------------------


def test_a_moc_claim_makes_one_ready_row_per_claimed_moc_line(physician, activity):
    enrollment = complete(physician, activity, moc_boards=["ABIM"], at=datetime(2025, 5, 6, 9, tzinfo=UTC))

    assert ledger(physician) == [ready(ABIM_MK), ready(ABIM_PS)]  # not ABPath: not opted in
    for entry in ReportingEntry.objects.filter(learner=physician):
        assert entry.claim == enrollment.claim
        assert entry.activity == activity
        assert entry.completed_on == date(2025, 5, 6)
        assert entry.due_on == date(2025, 6, 5)
        assert entry.batch is None and entry.exported_at is None


def test_each_board_opted_into_gets_its_rows(physician, activity):
    complete(physician, activity, moc_boards=["ABIM", "ABPATH"])

    assert ledger(physician) == [ready(ABIM_MK), ready(ABIM_PS), ready(ABPATH_LL)]


def test_a_moc_row_waits_for_the_birth_date_then_becomes_ready(activity):
    user = make_learner(consent=True, board_ids=[("ABIM", ABIM_ID)])
    complete(user, activity, moc_boards=["ABIM"])
    reason = "Waiting for: birth month and day."
    assert ledger(user) == [waiting(ABIM_MK, reason), waiting(ABIM_PS, reason)]

    change_profile(user, birth=BIRTH)

    assert ledger(user) == [ready(ABIM_MK), ready(ABIM_PS)]


def test_withdrawing_consent_puts_ready_rows_back_to_waiting_and_giving_it_again_readies_them(
    physician, activity
):
    complete(physician, activity, moc_boards=["ABIM"])

    change_profile(physician, consent=False)
    reason = "Waiting for: consent to reporting."
    assert ledger(physician) == [waiting(ABIM_MK, reason), waiting(ABIM_PS, reason)]

    change_profile(physician, consent=True)
    assert ledger(physician) == [ready(ABIM_MK), ready(ABIM_PS)]


def test_removing_a_board_id_holds_only_that_boards_rows_and_names_the_board(physician, activity):
    complete(physician, activity, moc_boards=["ABIM", "ABPATH"])

    change_profile(physician, board_ids=[("ABIM", ABIM_ID)])

    # the board's abbreviation as learners know it ("ABPath"), not its code
    assert ledger(physician) == [
        ready(ABIM_MK),
        ready(ABIM_PS),
        waiting(ABPATH_LL, "Waiting for: ABPath ID."),
    ]

    change_profile(physician, board_ids=[("ABIM", ABIM_ID), ("ABPATH", ABPATH_ID)])
    assert ledger(physician) == [ready(ABIM_MK), ready(ABIM_PS), ready(ABPATH_LL)]


def test_the_reason_names_everything_missing_for_each_row(activity):
    user = make_learner(consent=True, birth=BIRTH, board_ids=[("ABIM", ABIM_ID)], licenses=[("CA", "A123")])
    complete(user, activity, moc_boards=["ABIM"])

    change_profile(user, consent=False, birth=None, board_ids=[])

    assert ledger(user) == [
        waiting(ABIM_MK, "Waiting for: consent to reporting, birth month and day, ABIM ID."),
        waiting(ABIM_PS, "Waiting for: consent to reporting, birth month and day, ABIM ID."),
        waiting(STATE_AMA, "Waiting for: consent to reporting, birth month and day."),
    ]


def test_the_physicians_other_credit_is_not_reported(physician, activity):
    """IPCE credit goes nowhere from here; only MOC and (for licensed physicians) AMA credit do."""
    complete(physician, activity, moc_boards=["ABIM"])

    assert {row[2] for row in ledger(physician)} == {"medical_knowledge", "patient_safety"}


# --- physicians: AMA credit for the state boards ---------------------------------------------------------------


def test_a_licensed_physician_gets_one_state_row_for_the_ama_credit(activity):
    user = make_learner(consent=True, birth=BIRTH, licenses=[("CA", "A123"), ("NY", "223344")])
    complete(user, activity, at=datetime(2025, 5, 6, 9, tzinfo=UTC))

    assert ledger(user) == [ready(STATE_AMA)]  # one row; the export file lists it once per license
    assert ReportingEntry.objects.get(learner=user).due_on == date(2025, 6, 5)


def test_a_state_row_waits_for_consent_and_birth_date_one_at_a_time(activity):
    user = make_learner(licenses=[("CA", "A123")])
    complete(user, activity)
    assert ledger(user) == [waiting(STATE_AMA, "Waiting for: consent to reporting, birth month and day.")]

    change_profile(user, consent=True)
    assert ledger(user) == [waiting(STATE_AMA, "Waiting for: birth month and day.")]

    change_profile(user, birth=BIRTH)
    assert ledger(user) == [ready(STATE_AMA)]


def test_a_first_license_added_later_adds_state_rows_for_earlier_claims(physician, activity, other_activity):
    first = complete(physician, activity, moc_boards=["ABIM"], at=datetime(2025, 3, 1, 10, tzinfo=UTC))
    second = complete(physician, other_activity, at=datetime(2025, 4, 2, 10, tzinfo=UTC))  # no MOC
    assert ledger(physician) == [ready(ABIM_MK), ready(ABIM_PS)]

    change_profile(physician, licenses=[("CA", "A123")])

    state_rows = ReportingEntry.objects.filter(learner=physician, board="STATE").order_by("completed_on")
    assert [(e.claim_id, e.state, e.reason, e.amount) for e in state_rows] == [
        (first.claim.pk, READY, "", Decimal("1.50")),
        (second.claim.pk, READY, "", Decimal("1.50")),
    ]
    # the deadline runs from completion, not from when the license was added
    assert [(e.completed_on, e.due_on) for e in state_rows] == [
        (date(2025, 3, 1), date(2025, 3, 31)),
        (date(2025, 4, 2), date(2025, 5, 2)),
    ]
    assert ReportingEntry.objects.filter(learner=physician).count() == 4

    change_profile(physician, licenses=[("CA", "A123"), ("NY", "223344")])  # a second license: no new rows
    assert ReportingEntry.objects.filter(learner=physician).count() == 4


def test_a_state_row_added_later_waits_for_what_is_still_missing(activity):
    user = make_learner()  # a physician with nothing given
    complete(user, activity)
    assert ledger(user) == []

    change_profile(user, licenses=[("TX", "Q55")])

    assert ledger(user) == [waiting(STATE_AMA, "Waiting for: consent to reporting, birth month and day.")]


def test_removing_the_last_license_holds_the_open_state_row(activity):
    user = make_learner(consent=True, birth=BIRTH, licenses=[("CA", "A123")])
    complete(user, activity)

    change_profile(user, licenses=[])

    assert ledger(user) == [waiting(STATE_AMA, "Waiting for: a state license.")]


# --- pharmacists: CPE Monitor ----------------------------------------------------------------------------------


def test_an_identified_pharmacists_credit_is_ready_for_cpe_monitor(activity):
    user = make_learner(profession="pharmacist", consent=True, birth=BIRTH, eprofile=EPROFILE_ID)
    complete(user, activity, at=datetime(2025, 5, 6, 9, tzinfo=UTC))

    assert ledger(user) == [ready(CPE_PHARMACY)]  # the pharmacist's IPCE credit goes nowhere
    entry = ReportingEntry.objects.get(learner=user)
    assert (entry.completed_on, entry.due_on) == (date(2025, 5, 6), date(2025, 7, 5))


def test_a_cpe_row_waits_naming_each_missing_detail_until_all_are_given(pharmacist, activity):
    """Giving CPE Monitor the e-Profile ID and birth date is the pharmacist's act: no general board-reporting
    consent is asked for (ACPE providers must report to CPE Monitor)."""
    complete(pharmacist, activity)
    assert ledger(pharmacist) == [
        waiting(CPE_PHARMACY, "Waiting for: birth month and day, NABP e-Profile ID.")
    ]

    change_profile(pharmacist, eprofile=EPROFILE_ID)
    assert ledger(pharmacist) == [waiting(CPE_PHARMACY, "Waiting for: birth month and day.")]

    change_profile(pharmacist, birth=BIRTH)
    assert ledger(pharmacist) == [ready(CPE_PHARMACY)]
    assert not LearnerProfile.objects.get(user=pharmacist).has_reporting_consent

    change_profile(pharmacist, eprofile="")
    assert ledger(pharmacist) == [waiting(CPE_PHARMACY, "Waiting for: NABP e-Profile ID.")]


def test_giving_the_details_on_the_profile_page_readies_the_waiting_row(client, pharmacist, activity):
    complete(pharmacist, activity)
    client.force_login(pharmacist)

    response = client.post(
        reverse("learners:profile"),
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "profession": "pharmacist",
            "degree": "PharmD",
            "npi": "",
            "nabp_eprofile_id": EPROFILE_ID,
            "birth_month": "7",
            "birth_day": "14",
            "reporting_consent": "on",
            "licenses-TOTAL_FORMS": "1",
            "licenses-INITIAL_FORMS": "0",
            "boards-TOTAL_FORMS": "1",
            "boards-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    assert ledger(pharmacist) == [ready(CPE_PHARMACY)]


# --- who gets no rows ------------------------------------------------------------------------------------------


def test_a_nurses_nursing_credit_makes_no_rows(activity):
    nurse = make_learner(profession="nurse", consent=True, birth=BIRTH, licenses=[("CA", "RN1")])
    enrollment = complete(nurse, activity)

    assert {c.credit_type_id for c in enrollment.claim.credits.all()} == {"ipce", "nursing"}
    assert ledger(nurse) == []
    assert ledger_service.refresh_learner(learner=nurse) == 0
    assert ledger(nurse) == []


def test_a_physician_without_moc_opt_in_or_licenses_makes_no_rows(physician, activity):
    enrollment = complete(physician, activity)  # consent, birth date, board IDs: but no MOC asked for

    assert enrollment.claim.credits.filter(credit_type_id="ama_pra_1").exists()
    assert ledger(physician) == []
    assert ledger_service.refresh_learner(learner=physician) == 0


def test_a_licensed_physicians_claim_without_ama_credit_makes_no_state_row(provider_a):
    ipce_only = make_activity(provider_a, credits={"ipce": "1.50"}, moc=[])
    user = make_learner(consent=True, birth=BIRTH, licenses=[("CA", "A123")])
    complete(user, ipce_only)

    assert ledger(user) == []


def test_a_pharmacists_license_adds_no_state_row(activity):
    user = make_learner(profession="pharmacist", consent=True, birth=BIRTH, eprofile=EPROFILE_ID)
    complete(user, activity)

    change_profile(user, licenses=[("CA", "RPH1")])

    assert ledger(user) == [ready(CPE_PHARMACY)]


# --- rows that have left the learner's hands -------------------------------------------------------------------


def test_exported_rows_do_not_move_when_the_profile_changes(physician, activity, provider_a, staff_a):
    complete(physician, activity, moc_boards=["ABIM"])
    batch = export(physician, ACCREDITOR, staff_a, provider_a)
    assert batch.row_count == 2

    change_profile(physician, consent=False, birth=None, board_ids=[])

    rows = list(ReportingEntry.objects.filter(learner=physician))
    assert [(e.state, e.reason, e.batch_id) for e in rows] == [("exported", "", batch.pk)] * 2


def test_accepted_and_rejected_rows_do_not_move_when_the_profile_changes(
    physician, activity, provider_a, staff_a
):
    complete(physician, activity, moc_boards=["ABIM"])
    export(physician, ACCREDITOR, staff_a, provider_a)
    mk, ps = ReportingEntry.objects.filter(learner=physician).order_by("credit_type")
    ledger_service.settle_entries(entries=[mk], accepted=True, by=staff_a)
    ledger_service.settle_entries(entries=[ps], accepted=False, reason="Board ID not found", by=staff_a)

    change_profile(physician, consent=False)
    change_profile(physician, consent=True, board_ids=[("ABIM", "ABIM-000002")])

    assert ledger(physician) == [
        (*ABIM_MK, "accepted", ""),
        (*ABIM_PS, "rejected", "Board ID not found"),  # the registry's reason, not a profile one
    ]


def test_a_license_added_after_export_adds_the_state_row_and_leaves_exported_rows(
    physician, activity, provider_a, staff_a
):
    complete(physician, activity, moc_boards=["ABIM"])
    export(physician, ACCREDITOR, staff_a, provider_a)

    change_profile(physician, licenses=[("CA", "A123")])

    assert ledger(physician) == [
        (*ABIM_MK, "exported", ""),
        (*ABIM_PS, "exported", ""),
        ready(STATE_AMA),
    ]


def test_a_changed_row_records_when_it_changed(physician, activity, time_machine):
    time_machine.move_to(datetime(2025, 5, 6, 9, tzinfo=UTC), tick=False)
    complete(physician, activity, moc_boards=["ABIM"])
    time_machine.move_to(datetime(2025, 5, 8, 9, tzinfo=UTC), tick=False)

    change_profile(physician, consent=False)

    assert {e.modified for e in ReportingEntry.objects.filter(learner=physician)} == {
        datetime(2025, 5, 8, 9, tzinfo=UTC)
    }


def test_a_requeued_row_records_when_it_was_requeued(physician, activity, provider_a, staff_a, time_machine):
    time_machine.move_to(datetime(2025, 5, 6, 9, tzinfo=UTC), tick=False)
    complete(physician, activity, moc_boards=["ABIM"])
    export(physician, ACCREDITOR, staff_a, provider_a)
    entries = list(ReportingEntry.objects.filter(learner=physician))
    ledger_service.settle_entries(entries=entries, accepted=False, reason="Board ID not found", by=staff_a)
    time_machine.move_to(datetime(2025, 5, 9, 9, tzinfo=UTC), tick=False)

    assert len(ledger_service.requeue_entries(entries=entries, by=staff_a).changed) == 2

    assert ledger(physician) == [ready(ABIM_MK), ready(ABIM_PS)]
    assert {(e.batch_id, e.modified) for e in ReportingEntry.objects.filter(learner=physician)} == {
        (None, datetime(2025, 5, 9, 9, tzinfo=UTC))
    }


# --- deadlines -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profession", "completed_at", "completed_on", "due_on"),
    [
        # the accreditor: 30 days, across the end of February (2025 is not a leap year, 2024 is)
        ("physician", datetime(2025, 1, 31, 15, tzinfo=UTC), date(2025, 1, 31), date(2025, 3, 2)),
        ("physician", datetime(2024, 1, 31, 15, tzinfo=UTC), date(2024, 1, 31), date(2024, 3, 1)),
        ("physician", datetime(2025, 12, 10, 23, 59, tzinfo=UTC), date(2025, 12, 10), date(2026, 1, 9)),
        # CPE Monitor: 60 days, across month and year ends
        ("pharmacist", datetime(2025, 1, 31, 15, tzinfo=UTC), date(2025, 1, 31), date(2025, 4, 1)),
        ("pharmacist", datetime(2025, 12, 15, 0, 0, tzinfo=UTC), date(2025, 12, 15), date(2026, 2, 13)),
    ],
)
def test_due_dates_count_days_from_completion(activity, profession, completed_at, completed_on, due_on):
    user = make_learner(
        profession=profession,
        consent=True,
        birth=BIRTH,
        board_ids=[("ABIM", ABIM_ID)],
        eprofile=EPROFILE_ID if profession == "pharmacist" else "",
    )
    complete(user, activity, moc_boards=["ABIM"] if profession == "physician" else (), at=completed_at)

    entries = list(ReportingEntry.objects.filter(learner=user))
    assert entries
    assert {(e.completed_on, e.due_on) for e in entries} == {(completed_on, due_on)}


def test_the_completion_date_is_the_portals_local_date(settings, physician, activity):
    settings.TIME_ZONE = "America/New_York"
    complete(physician, activity, moc_boards=["ABIM"], at=datetime(2025, 2, 1, 3, 30, tzinfo=UTC))

    entry = ReportingEntry.objects.filter(learner=physician).first()
    assert (entry.completed_on, entry.due_on) == (date(2025, 1, 31), date(2025, 3, 2))


# --- once per line ---------------------------------------------------------------------------------------------


def test_recording_a_claim_twice_is_refused_by_the_database(physician, activity):
    enrollment = complete(physician, activity, moc_boards=["ABIM"])

    with pytest.raises(IntegrityError), transaction.atomic():
        ledger_service.record_claim(claim=enrollment.claim)

    assert ReportingEntry.objects.filter(learner=physician).count() == 2


def test_the_database_refuses_a_second_row_for_a_cpe_line(activity):
    """CPE rows have no board (""), which must still count as the same line."""
    user = make_learner(profession="pharmacist", consent=True, birth=BIRTH, eprofile=EPROFILE_ID)
    entry = ReportingEntry.objects.get(learner=complete(user, activity).learner)

    entry.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.save()


def test_refreshing_twice_adds_nothing_the_second_time(physician, activity, other_activity):
    complete(physician, activity, moc_boards=["ABIM"])
    complete(physician, other_activity)
    # a license written without update_profile, so the ledger does not know of it yet
    StateLicense.objects.create(profile=LearnerProfile.objects.get(user=physician), state="CA", number="A1")

    assert ledger_service.refresh_learner(learner=physician) == 2
    after_first = ledger(physician)
    assert ledger_service.refresh_learner(learner=physician) == 0

    assert ledger(physician) == after_first
    assert len(after_first) == 4


def test_rows_belong_to_their_learner_only(physician, activity):
    other = make_learner(UserFactory(), consent=True, birth=BIRTH, board_ids=[("ABIM", "ABIM-000009")])
    complete(physician, activity, moc_boards=["ABIM"])
    complete(other, activity, moc_boards=["ABIM"])

    change_profile(other, consent=False)

    assert ledger(physician) == [ready(ABIM_MK), ready(ABIM_PS)]
    assert [row[4] for row in ledger(other)] == [WAITING, WAITING]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_refreshing_works_outside_a_transaction(activity):
    """A shell, command or admin action may call it without a transaction of its own (it locks rows)."""
    user = make_learner(consent=True, birth=BIRTH)
    complete(user, activity)
    StateLicense.objects.create(profile=LearnerProfile.objects.get(user=user), state="CA", number="A1")

    assert ledger_service.refresh_learner(learner=user) == 1
    assert ledger(user) == [ready(STATE_AMA)]
