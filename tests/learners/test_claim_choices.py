"""What a learner chooses to claim, and what follows: credit types of their choice (at least one), amounts
prefilled only where the sessions fix them, steps per credit type and provider, MOC points by each board's
rules from the AMA credit claimed, boards not reported through PARS, the certificate the page announces, and
the professions and degrees that may claim."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from activities.models import SessionCredit
from learners import services
from learners.models import ClaimedCredit, ClaimedMoc, CreditClaim
from learners.services import corrections
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import attend, make_learner, page_text
from tests.learners.conftest import field_error, inputs
from tests.learners.test_claims import claim_url, enrolled, nothing_written, post_claim

pytestmark = pytest.mark.django_db

D = Decimal


def moc_rows(enrollment) -> list[tuple[str, str, Decimal]]:
    return list(
        ClaimedMoc.objects.filter(claim__enrollment=enrollment)
        .order_by("board", "credit_type")
        .values_list("board", "credit_type", "points")
    )


def surgeon(user=None, **boards):
    """A physician with consent and the board IDs given (``ABA="A1"``)."""
    return make_learner(user, consent=True, board_ids=list(boards.items()))


# Choosing credit types


def test_a_physician_claims_ipce_without_ama(client, physician, seed_like_activity):
    client.force_login(physician)
    enrollment = enrolled(physician, seed_like_activity)

    response = post_claim(client, enrollment, ipce="1.50", ama_pra_1="")

    assert response.status_code == 302
    claim = CreditClaim.objects.get(enrollment=enrollment)
    assert list(claim.credits.values_list("credit_type_id", "amount")) == [("ipce", D("1.50"))]


def test_claiming_nothing_at_all_is_refused_beside_the_first_credit(client, physician, seed_like_activity):
    client.force_login(physician)
    enrollment = enrolled(physician, seed_like_activity)

    response = post_claim(client, enrollment, ipce="", ama_pra_1="")

    assert response.status_code == 400
    assert (
        field_error(response, "id_credit_ama_pra_1")
        == "Enter the credit you earned for at least one credit type."
    )
    assert nothing_written(enrollment)


def test_moc_needs_the_ama_credit_it_follows(client, physician, seed_like_activity):
    client.force_login(physician)
    enrollment = enrolled(physician, seed_like_activity)

    response = post_claim(client, enrollment, ipce="1.50", moc=["ABIM"])

    assert response.status_code == 400
    assert "MOC points follow the AMA PRA Category 1 Credit™ you claim" in page_text(response)
    assert nothing_written(enrollment)


def test_a_live_activitys_amounts_are_prefilled_with_the_sessions_hours(client, physician, provider_a):
    start = dt.datetime(2026, 5, 4, 13, tzinfo=dt.UTC)
    activity = ActivityFactory(
        provider=provider_a,
        activity_type="course",
        format="in_person",
        start=start,
        end=start + dt.timedelta(hours=2),
        credits={"ama_pra_1": "2.00", "ipce": "2.00"},
        sessions=[(start, start + dt.timedelta(hours=2))],
    )
    attend(physician, activity.sessions.get())
    client.force_login(physician)

    with time_machine.travel(start + dt.timedelta(hours=3)):
        found = inputs(client.get(claim_url(activity.enrollments.get(learner=physician))))

    assert found["credit_ama_pra_1"]["value"] == "2.00"
    assert found["credit_ipce"]["value"] == "2.00"


# Steps


def test_contact_hours_follow_the_providers_step(client, nurse, provider_a):
    provider_a.contact_hour_increment = D("0.50")
    provider_a.save()
    activity = ActivityFactory(provider=provider_a, credits={"nursing": "2.00"})
    client.force_login(nurse)
    enrollment = enrolled(nurse, activity)

    assert inputs(client.get(claim_url(enrollment)))["credit_nursing"]["step"] == "0.50"
    refused = post_claim(client, enrollment, nursing="1.25")

    assert refused.status_code == 400
    assert (
        field_error(refused, "id_credit_nursing") == "ANCC Nursing Contact Hours is claimed in steps of 0.5."
    )
    assert nothing_written(enrollment)
    assert post_claim(client, enrollment, nursing="1.50").status_code == 302
    assert ClaimedCredit.objects.get(claim__enrollment=enrollment).amount == D("1.50")


def test_contact_hours_default_to_quarter_hours(client, nurse, provider_a):
    activity = ActivityFactory(provider=provider_a, credits={"nursing": "2.00"})
    client.force_login(nurse)
    enrollment = enrolled(nurse, activity)

    response = post_claim(client, enrollment, nursing="1.10")

    assert (
        field_error(response, "id_credit_nursing")
        == "ANCC Nursing Contact Hours is claimed in steps of 0.25."
    )


# MOC points by each board's rules


def claim_with_moc(learner, activity, ama: str, boards: list[str]):
    enrollment = enrolled(learner, activity)
    services.claim_credit(
        enrollment=enrollment, amounts={"ama_pra_1": D(ama)}, attested=True, moc_boards=boards
    )
    return enrollment


def test_a_quarter_credit_claimed_records_a_quarter_abim_point_not_the_approval(physician, provider_a):
    activity = ActivityFactory(
        provider=provider_a, credits={"ama_pra_1": "8.00"}, moc=[("ABIM", "medical_knowledge", "8.00")]
    )

    enrollment = claim_with_moc(physician, activity, "0.25", ["ABIM"])

    assert moc_rows(enrollment) == [("ABIM", "medical_knowledge", D("0.25"))]


def test_aba_records_split_the_cme_claimed_into_the_rest_and_patient_safety(provider_a):
    learner = surgeon(ABA="ABA-1")
    activity = ActivityFactory(
        provider=provider_a,
        credits={"ama_pra_1": "6.25"},
        moc=[("ABA", "lifelong_learning", "6.25"), ("ABA", "patient_safety", "2.00")],
    )

    enrollment = claim_with_moc(learner, activity, "5.50", ["ABA"])

    assert moc_rows(enrollment) == [
        ("ABA", "lifelong_learning", D("3.50")),
        ("ABA", "patient_safety", D("2.00")),
    ]


def test_abs_rows_carry_its_one_amount(provider_a):
    learner = surgeon(ABS="ABS-1")
    activity = ActivityFactory(
        provider=provider_a,
        credits={"ama_pra_1": "1.50"},
        moc=[("ABS", "accredited_cme", "1.50"), ("ABS", "self_assessment", "1.50")],
    )

    enrollment = claim_with_moc(learner, activity, "1.00", ["ABS"])

    assert moc_rows(enrollment) == [
        ("ABS", "accredited_cme", D("1.00")),
        ("ABS", "self_assessment", D("1.00")),
    ]


def test_abp_takes_the_full_activity_only(client, provider_a):
    learner = surgeon(ABP="ABP-1")
    activity = ActivityFactory(
        provider=provider_a, credits={"ama_pra_1": "1.50"}, moc=[("ABP", "lifelong_learning", "2")]
    )
    client.force_login(learner)
    enrollment = enrolled(learner, activity)

    partial = post_claim(client, enrollment, ama_pra_1="1.00", moc=["ABP"])

    assert partial.status_code == 400
    assert "ABP gives no partial credit: its 2 MOC points are reported only when you claim" in page_text(
        partial
    )
    assert nothing_written(enrollment)
    assert post_claim(client, enrollment, ama_pra_1="1.50", moc=["ABP"]).status_code == 302
    assert moc_rows(enrollment) == [("ABP", "lifelong_learning", D("2"))]


def test_a_board_not_reported_through_pars_is_shown_not_offered(client, provider_a):
    learner = surgeon(ABFM="ABFM-1")
    activity = ActivityFactory(
        provider=provider_a, credits={"ama_pra_1": "1.00"}, moc=[("ABFM", "accredited_cme", "1.00")]
    )
    client.force_login(learner)
    enrollment = enrolled(learner, activity)

    page = client.get(claim_url(enrollment))

    assert "moc_ABFM" not in inputs(page)
    text = page_text(page)
    assert "up to 1 Accredited CME (not reported by the provider)" in text
    assert "The provider does not report MOC to ABFM" in text
    assert "report this activity to ABFM yourself" in text
    with pytest.raises(services.ClaimError) as refused:
        services.claim_credit(
            enrollment=enrollment, amounts={"ama_pra_1": D("1")}, attested=True, moc_boards=["ABFM"]
        )
    assert "report this activity to ABFM yourself" in refused.value.errors["moc_ABFM"]
    assert nothing_written(enrollment)


def test_a_series_recomputes_the_points_as_sessions_are_added(physician, provider_a):
    first = dt.datetime(2026, 3, 3, 13, tzinfo=dt.UTC)
    sessions = [(first + dt.timedelta(weeks=n), first + dt.timedelta(weeks=n, hours=1)) for n in range(2)]
    activity = ActivityFactory(
        provider=provider_a,
        activity_type="rss",
        format="in_person",
        start=sessions[0][0],
        end=sessions[-1][1],
        credits={"ama_pra_1": "2.00"},
        moc=[("ABIM", "medical_knowledge", "2.00")],
        sessions=sessions,
    )
    one, two = activity.sessions.order_by("start")
    for session in (one, two):
        SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours=D("1.00"))
    enrollment = attend(physician, one).enrollment
    attend(physician, two)
    for session in (one, two):
        with time_machine.travel(session.end, tick=False):
            services.claim_credit(
                enrollment=enrollment, amounts={"ama_pra_1": D("1")}, attested=True, moc_boards=["ABIM"]
            )

    assert moc_rows(enrollment) == [("ABIM", "medical_knowledge", D("2.00"))]


def test_a_correction_moves_the_points_with_the_ama_credit(physician, provider_a, staff_a):
    activity = ActivityFactory(
        provider=provider_a, credits={"ama_pra_1": "4.00"}, moc=[("ABIM", "medical_knowledge", "4.00")]
    )
    enrollment = claim_with_moc(physician, activity, "3.00", ["ABIM"])

    corrections.correct_claim(
        claim=enrollment.claim, amounts={"ama_pra_1": D("1.25")}, sessions=None, by=staff_a, reason="typo"
    )

    assert moc_rows(enrollment) == [("ABIM", "medical_knowledge", D("1.25"))]


# What the certificate will be


def test_the_page_says_what_the_certificate_will_be_for_each_choice(client, physician, seed_like_activity):
    client.force_login(physician)

    text = page_text(client.get(claim_url(enrolled(physician, seed_like_activity))))

    assert (
        "If you claim AMA PRA Category 1 Credit™, your certificate will be a Certificate of Credit stating the "
        "credit you claim."
    ) in text
    assert (
        "If you claim only IPCE Credit, your certificate will be a Certificate of Completion stating the credits "
        "you claim."
    ) in text


# Who may claim


def test_a_pharmacy_technician_may_claim_pharmacy_credit(client, provider_a):
    technician = make_learner(UserFactory(), profession="pharmacy_technician", degree="CPhT")
    activity = ActivityFactory(provider=provider_a, credits={"pharmacy": "1.00", "ama_pra_1": "1.00"})
    activity.credits.filter(credit_type="pharmacy").update(
        activity_number="0197-0000-26-001-L01-P", technician_activity_number="0197-0000-26-001-L01-T"
    )
    client.force_login(technician)
    enrollment = enrolled(technician, activity)

    found = inputs(client.get(claim_url(enrollment)))
    assert "credit_pharmacy" in found and "credit_ama_pra_1" not in found
    assert post_claim(client, enrollment, pharmacy="1.00").status_code == 302
    assert ClaimedCredit.objects.get(claim__enrollment=enrollment).credit_type_id == "pharmacy"


@pytest.mark.parametrize("degree", ["MBBS", "MBChB", "BMBS", "MBBCh"])
def test_a_physician_with_an_international_degree_claims_ama_credit(client, provider_a, degree):
    doctor = make_learner(UserFactory(), profession="physician", degree=degree)
    activity = ActivityFactory(provider=provider_a, credits={"ama_pra_1": "1.00"})
    client.force_login(doctor)
    enrollment = enrolled(doctor, activity)

    assert post_claim(client, enrollment, ama_pra_1="1.00").status_code == 302
    assert ClaimedCredit.objects.get(claim__enrollment=enrollment).credit_type_id == "ama_pra_1"


def test_a_technician_cannot_claim_pharmacy_credit_on_a_pharmacists_uan(client, provider_a):
    technician = make_learner(UserFactory(), profession="pharmacy_technician", degree="CPhT")
    activity = ActivityFactory(provider=provider_a, credits={"pharmacy": "1.00"})
    activity.credits.update(activity_number="0197-0000-26-001-L01-P", technician_activity_number="")
    client.force_login(technician)
    enrollment = enrolled(technician, activity)

    page = client.get(claim_url(enrollment))
    assert "credit_pharmacy" not in inputs(page)
    assert "no UAN for pharmacy technicians (ending in T)" in page_text(page)
    # A crafted post of the amount is not credit: the claim, if any, is a participation certificate's.
    post_claim(client, enrollment, pharmacy="1.00")
    assert not ClaimedCredit.objects.filter(claim__enrollment=enrollment).exists()
