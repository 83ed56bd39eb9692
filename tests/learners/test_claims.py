"""Claiming credit: what the form offers each profession, every rejection, and what a claim records."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from learners import services
from learners.models import ClaimedCredit, ClaimedMoc, CreditClaim, Enrollment
from portal.models import AuditEntry
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import ABIM_ID, attend, make_learner, page_text
from tests.learners.conftest import field_error, inputs

pytestmark = pytest.mark.django_db

D = Decimal


def claim_url(enrollment) -> str:
    return reverse("learners:claim", kwargs={"public_id": enrollment.public_id})


def enrolled(user, activity, *, at=None) -> Enrollment:
    return services.enroll(learner=user, activity=activity, at=at or activity.start)[0]


def post_claim(client, enrollment, *, attested=True, moc=(), **amounts):
    data = {f"credit_{code}": str(amount) for code, amount in amounts.items()}
    data |= {f"moc_{board}": "on" for board in moc}
    if attested:
        data["attested"] = "on"
    return client.post(claim_url(enrollment), data)


def nothing_written(enrollment) -> bool:
    enrollment.refresh_from_db()
    return (
        not CreditClaim.objects.filter(enrollment=enrollment).exists()
        and enrollment.status == Enrollment.Status.ENROLLED
        and enrollment.completed_at is None
        and not AuditEntry.objects.filter(action="claim.created").exists()
    )


@pytest.fixture
def recorded(monkeypatch):
    """The enrollments whose certificate was queued for issuing (``dispatch.issue_certificate``), in order."""
    calls = []
    monkeypatch.setattr("learners.services.dispatch.issue_certificate", calls.append)
    return calls


@pytest.fixture
def physician_enrollment(client, physician, seed_like_activity):
    client.force_login(physician)
    return enrolled(physician, seed_like_activity)


# What the form offers


def test_a_physician_is_offered_ama_and_ipce_up_to_the_maximum_in_their_steps(client, physician_enrollment):
    response = client.get(claim_url(physician_enrollment))

    assert response.status_code == 200
    found = inputs(response)
    credits = sorted(name for name in found if name.startswith("credit_"))
    assert credits == ["credit_ama_pra_1", "credit_ipce"]
    ama, ipce = found["credit_ama_pra_1"], found["credit_ipce"]
    # An enduring material: the learner enters what their participation earned (nothing is prefilled).
    assert (ama["value"], ama["step"], ama["max"]) == ("", "0.25", "1.50")
    assert (ipce["value"], ipce["step"], ipce["max"]) == ("", "0.25", "1.50")
    assert "attested" in found


def test_a_nurse_is_offered_nursing_not_ama_and_told_of_the_certificate_of_completion(
    client, nurse, seed_like_activity
):
    enrollment = enrolled(nurse, seed_like_activity)
    client.force_login(nurse)

    response = client.get(claim_url(enrollment))

    found = inputs(response)
    assert "credit_nursing" in found and "credit_ipce" in found
    assert "credit_ama_pra_1" not in found and "credit_pharmacy" not in found
    assert found["credit_nursing"]["value"] == ""
    page = page_text(response)
    assert (
        "Your certificate will be a Certificate of Completion stating the credits and contact hours you claim"
        in page
    )
    assert "the activity is designated for: 1.50 AMA PRA Category 1 Credit™" in page


def test_a_physician_with_the_board_id_and_consent_may_opt_in_to_moc(client, physician_enrollment):
    response = client.get(claim_url(physician_enrollment))

    found = inputs(response)
    assert "moc_ABIM" in found
    assert "checked" in found["moc_ABIM"]
    assert f"board ID {ABIM_ID}" in page_text(response)
    assert "moc_ABS" not in found  # no ABS board ID on the profile
    assert "ABS: Add your board ID to your profile" in page_text(response)


def test_a_physician_without_consent_is_told_why_moc_is_not_offered(client, learner_a, seed_like_activity):
    make_learner(learner_a, board_ids=[("ABIM", ABIM_ID)], consent=False)
    client.force_login(learner_a)

    response = client.get(claim_url(enrolled(learner_a, seed_like_activity)))

    assert not [name for name in inputs(response) if name.startswith("moc_")]
    assert "ABIM: Give your consent to reporting in your profile" in page_text(response)


def test_a_nurse_is_not_offered_moc(client, nurse, seed_like_activity):
    client.force_login(nurse)

    response = client.get(claim_url(enrolled(nurse, seed_like_activity)))

    assert not [name for name in inputs(response) if name.startswith("moc_")]
    assert "ABIM: MOC is reported for physicians." in page_text(response)


def test_an_activity_without_moc_shows_no_moc_section(client, physician, activity_a):
    client.force_login(physician)

    response = client.get(claim_url(enrolled(physician, activity_a)))

    assert "credit_ama_pra_1" in inputs(response)  # the claim form itself
    assert "Maintenance of Certification" not in page_text(response)


def test_a_learner_without_a_profile_is_asked_for_their_profession(client, learner_b, activity_a):
    client.force_login(learner_b)
    enrollment = enrolled(learner_b, activity_a)

    page = client.get(claim_url(enrollment))
    post_claim(client, enrollment, ama_pra_1="1.50")

    assert "complete your profile" in page_text(page)
    assert not [name for name in inputs(page) if name.startswith("credit_")]
    assert nothing_written(enrollment)
    with pytest.raises(services.ClaimError, match="profession"):
        services.claim_credit(enrollment=enrollment, amounts={"ama_pra_1": D("1.50")}, attested=True)


def test_another_profession_with_only_ama_gets_participation_and_claims_with_the_attestation(
    client, provider_a, recorded
):
    learner = UserFactory()
    make_learner(learner, profession="other")
    activity = ActivityFactory(provider=provider_a, credits={"ama_pra_1": "2.00"})
    enrollment = enrolled(learner, activity)
    client.force_login(learner)

    page = client.get(claim_url(enrollment))
    assert not [name for name in inputs(page) if name.startswith("credit_")]
    assert (
        "Your certificate will be a Certificate of Participation stating the credit this activity is designated for"
        in page_text(page)
    )
    assert "2 AMA PRA Category 1 Credit™" in page_text(page)

    response = post_claim(client, enrollment)

    assert response.status_code == 302
    claim = CreditClaim.objects.get(enrollment=enrollment)
    assert claim.profession == "other"
    assert not claim.credits.exists()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED


def test_participation_still_needs_the_attestation(client, provider_a):
    learner = UserFactory()
    make_learner(learner, profession="other")
    enrollment = enrolled(learner, ActivityFactory(provider=provider_a))
    client.force_login(learner)

    response = post_claim(client, enrollment, attested=False)

    assert response.status_code == 400
    assert "Confirm that you claim only the credit" in field_error(response, "id_attested")
    assert nothing_written(enrollment)


# A successful claim


def test_a_claim_records_the_credit_and_moc_and_completes_the_enrollment(
    client, physician_enrollment, recorded, django_capture_on_commit_callbacks
):
    moment = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = post_claim(client, physician_enrollment, ama_pra_1="1.25", ipce="1.5", moc=["ABIM"])
        assert recorded == []  # nothing dispatched before the claim commits

    assert response.status_code == 302
    assert response.url == reverse("learners:dashboard")
    claim = CreditClaim.objects.get(enrollment=physician_enrollment)
    assert claim.attested and claim.profession == "physician" and claim.claimed_at == moment
    assert sorted(claim.credits.values_list("credit_type_id", "amount")) == [
        ("ama_pra_1", D("1.25")),
        ("ipce", D("1.50")),
    ]
    # The points follow the AMA credit claimed (1.25), not the approval (1.50).
    assert list(claim.moc.values_list("board", "credit_type", "points", "board_id")) == [
        ("ABIM", "medical_knowledge", D("1.25"), ABIM_ID)
    ]
    physician_enrollment.refresh_from_db()
    assert physician_enrollment.status == Enrollment.Status.COMPLETED
    assert physician_enrollment.completed_at == moment
    entry = AuditEntry.objects.get(action="claim.created")
    assert (entry.actor, entry.object_id) == (physician_enrollment.learner, str(claim.pk))
    assert entry.provider_id == physician_enrollment.activity.provider_id
    assert {code: D(amount) for code, amount in entry.data["credits"].items()} == {
        "ama_pra_1": D("1.25"),
        "ipce": D("1.50"),
    }
    assert entry.data["moc"] == ["ABIM"]
    assert recorded == [claim.enrollment_id]


def test_opting_out_of_moc_records_no_moc(client, physician_enrollment):
    post_claim(client, physician_enrollment, ama_pra_1="1.50", ipce="1.50", moc=[])

    claim = CreditClaim.objects.get(enrollment=physician_enrollment)
    assert not ClaimedMoc.objects.filter(claim=claim).exists()
    assert claim.credits.count() == 2


def test_the_task_is_called_only_after_commit(
    physician_enrollment, recorded, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        claim = services.claim_credit(
            enrollment=physician_enrollment,
            amounts={"ama_pra_1": D("1.50"), "ipce": D("1.50")},
            attested=True,
        )

    assert recorded == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert recorded == [claim.enrollment_id]


def test_a_refused_claim_dispatches_nothing(
    physician_enrollment, recorded, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(services.ClaimError):
        services.claim_credit(
            enrollment=physician_enrollment, amounts={"ama_pra_1": D("9"), "ipce": D("1")}, attested=True
        )

    assert callbacks == []
    assert recorded == []


# Rejections: each with its field's message, and nothing written


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1.75", "At most 1.50 credits can be claimed for this activity."),
        ("1.30", "AMA PRA Category 1 Credit™ is claimed in steps of 0.25."),
        ("0", "Claim more than zero, or leave the activity unclaimed until you have taken part."),
        ("-0.25", "Claim more than zero, or leave the activity unclaimed until you have taken part."),
    ],
)
def test_a_bad_ama_amount_is_refused_beside_its_field(client, physician_enrollment, amount, message):
    response = post_claim(client, physician_enrollment, ama_pra_1=amount, ipce="1.50")

    assert response.status_code == 400
    assert field_error(response, "id_credit_ama_pra_1") == message
    assert field_error(response, "id_credit_ipce") == ""
    assert nothing_written(physician_enrollment)


def test_ipce_moves_in_quarters(client, physician_enrollment):
    response = post_claim(client, physician_enrollment, ama_pra_1="1.50", ipce="1.37")

    assert response.status_code == 400
    assert field_error(response, "id_credit_ipce") == "IPCE Credit is claimed in steps of 0.25."
    assert nothing_written(physician_enrollment)

    response = post_claim(client, physician_enrollment, ama_pra_1="1.50", ipce="1.25")

    assert response.status_code == 302
    assert ClaimedCredit.objects.get(credit_type_id="ipce").amount == D("1.25")


def test_a_claim_without_the_attestation_is_refused(client, physician_enrollment):
    response = post_claim(client, physician_enrollment, attested=False, ama_pra_1="1.50", ipce="1.50")

    assert response.status_code == 400
    assert field_error(response, "id_attested") == (
        "Confirm that you claim only the credit that matches your participation."
    )
    assert nothing_written(physician_enrollment)


def test_the_service_refuses_credit_the_profession_may_not_claim(physician_enrollment):
    with pytest.raises(services.ClaimError) as refused:
        services.claim_credit(
            enrollment=physician_enrollment,
            amounts={"ama_pra_1": D("1.50"), "ipce": D("1.50"), "nursing": D("1.50")},
            attested=True,
        )

    assert refused.value.errors == {"credit_nursing": "This credit is not offered to you for this activity."}
    assert nothing_written(physician_enrollment)


def test_the_service_refuses_moc_the_learner_cannot_opt_in_to(physician_enrollment):
    with pytest.raises(services.ClaimError) as refused:
        services.claim_credit(
            enrollment=physician_enrollment,
            amounts={"ama_pra_1": D("1.50"), "ipce": D("1.50")},
            attested=True,
            moc_boards=["ABS"],
        )

    assert refused.value.errors == {
        "moc_ABS": "Add your board ID to your profile to have MOC points reported."
    }
    assert nothing_written(physician_enrollment)


def test_the_service_refuses_a_board_the_activity_has_no_moc_with(physician_enrollment):
    with pytest.raises(services.ClaimError) as refused:
        services.claim_credit(
            enrollment=physician_enrollment,
            amounts={"ama_pra_1": D("1.50"), "ipce": D("1.50")},
            attested=True,
            moc_boards=["ABP"],
        )

    assert "no MOC approval" in refused.value.errors["__all__"]
    assert nothing_written(physician_enrollment)


def test_a_live_activity_cannot_be_claimed_before_its_session_ends(client, physician, provider_a):
    start = datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    course = ActivityFactory(
        provider=provider_a,
        activity_type="course",
        format="in_person",
        start=start,
        end=start + timedelta(hours=8),
    )
    enrollment = enrolled(physician, course, at=start - timedelta(days=5))
    attend(physician, course.sessions.get())

    with time_machine.travel(start + timedelta(hours=1), tick=False):
        client.force_login(physician)
        page = client.get(claim_url(enrollment))
        response = post_claim(client, enrollment, ama_pra_1="1.50")

    assert "Credit can be claimed from Dec 10, 2026, 21:00, when the session ends." in page_text(page)
    assert not [name for name in inputs(page) if name.startswith("credit_")]
    assert response.status_code == 400
    assert "when the session ends" in page_text(response)
    assert nothing_written(enrollment)


def test_a_live_activity_is_claimed_for_the_sessions_attended_until_the_claim_deadline(
    client, physician, provider_a
):
    start = datetime(2026, 1, 10, 13, 0, tzinfo=UTC)
    course = ActivityFactory(
        provider=provider_a,
        activity_type="course",
        format="in_person",
        start=start,
        end=start + timedelta(hours=8),
    )
    enrollment = enrolled(physician, course, at=start)
    attend(physician, course.sessions.get())

    client.force_login(physician)
    with time_machine.travel(start + timedelta(days=91), tick=False):
        late = post_claim(client, enrollment, ama_pra_1="1.50")
    with time_machine.travel(start + timedelta(days=90), tick=False):
        response = post_claim(client, enrollment, ama_pra_1="1.50")

    assert late.status_code == 400
    assert "The time to claim credit for the sessions you attended ended on April 10, 2026." in page_text(
        late
    )
    assert response.status_code == 302, page_text(response)
    assert CreditClaim.objects.filter(enrollment=enrollment).exists()


def test_an_enduring_material_cannot_be_claimed_after_its_expiry(client, physician_enrollment):
    activity = physician_enrollment.activity

    with time_machine.travel(activity.end + timedelta(minutes=1), tick=False):
        client.force_login(physician_enrollment.learner)
        page = client.get(claim_url(physician_enrollment))
        response = post_claim(client, physician_enrollment, ama_pra_1="1.50", ipce="1.50")

    assert "The time to claim credit for this activity ended on" in page_text(page)
    assert response.status_code == 400
    assert "The time to claim credit for this activity ended on" in page_text(response)
    assert nothing_written(physician_enrollment)


def test_an_enduring_material_can_be_claimed_until_its_expiry(physician_enrollment):
    activity = physician_enrollment.activity

    claim = services.claim_credit(
        enrollment=physician_enrollment,
        amounts={"ama_pra_1": D("1.50"), "ipce": D("1.50")},
        attested=True,
        at=activity.end,
    )

    assert claim.claimed_at == activity.end


def test_an_enduring_material_cannot_be_claimed_before_its_release(physician_enrollment):
    activity = physician_enrollment.activity

    with pytest.raises(services.ClaimError, match="Credit can be claimed from"):
        services.claim_credit(
            enrollment=physician_enrollment,
            amounts={"ama_pra_1": D("1.50"), "ipce": D("1.50")},
            attested=True,
            at=activity.start - timedelta(seconds=1),
        )
    assert nothing_written(physician_enrollment)


def test_an_unpublished_activity_takes_no_claims(physician_enrollment):
    activity = physician_enrollment.activity
    activity.status = activity.Status.DRAFT
    activity.save()

    with pytest.raises(services.ClaimError, match="not open for credit"):
        services.claim_credit(
            enrollment=physician_enrollment,
            amounts={"ama_pra_1": D("1.50"), "ipce": D("1.50")},
            attested=True,
        )
    assert nothing_written(physician_enrollment)


def test_without_an_enrollment_there_is_nothing_to_claim(client, physician, seed_like_activity):
    """Claims are reached only through the learner's own enrollment: no enrollment, no claim page."""
    client.force_login(physician)
    stranger = Enrollment(learner=physician, activity=seed_like_activity)  # never saved

    assert client.get(claim_url(stranger)).status_code == 404
    assert post_claim(client, stranger, ama_pra_1="1.50", ipce="1.50").status_code == 404
    assert not CreditClaim.objects.exists()


def test_another_learners_enrollment_is_not_found(client, physician, physician_b, seed_like_activity):
    theirs = enrolled(physician_b, seed_like_activity)
    client.force_login(physician)

    assert client.get(claim_url(theirs)).status_code == 404
    assert post_claim(client, theirs, ama_pra_1="1.50", ipce="1.50").status_code == 404
    assert nothing_written(theirs)


def test_the_claim_page_requires_login(client, physician_enrollment):
    client.logout()

    response = client.get(claim_url(physician_enrollment))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_claiming_twice_is_refused_with_a_message(client, physician_enrollment):
    post_claim(client, physician_enrollment, ama_pra_1="1.50", ipce="1.50")

    response = post_claim(client, physician_enrollment, ama_pra_1="1.00", ipce="1.00")

    assert "You claimed your credit on" in page_text(response)
    assert CreditClaim.objects.filter(enrollment=physician_enrollment).count() == 1
    assert sorted(ClaimedCredit.objects.values_list("amount", flat=True)) == [D("1.50"), D("1.50")]
    with pytest.raises(services.ClaimError, match="already claimed"):
        services.claim_credit(
            enrollment=physician_enrollment, amounts={"ama_pra_1": D("1"), "ipce": D("1")}, attested=True
        )
    assert CreditClaim.objects.count() == 1


def test_the_claimed_page_shows_what_was_claimed(client, physician_enrollment):
    post_claim(client, physician_enrollment, ama_pra_1="0.75", ipce="1.50")

    response = client.get(claim_url(physician_enrollment))

    assert "0.75 AMA PRA Category 1 Credit™" in page_text(response)
    assert "credit_ama_pra_1" not in inputs(response)


def test_claim_options_follow_the_profession(seed_like_activity, physician, nurse):
    physician_options = services.claim_options(
        enrollment=enrolled(physician, seed_like_activity), profile=physician.profile
    )
    nurse_options = services.claim_options(
        enrollment=enrolled(nurse, seed_like_activity), profile=nurse.profile
    )

    assert [o.designation.credit_type_id for o in physician_options.claimable] == ["ama_pra_1", "ipce"]
    assert [o.designation.credit_type_id for o in nurse_options.claimable] == ["ipce", "nursing"]
    assert {o.board: o.reason is None for o in physician_options.moc} == {"ABIM": True, "ABS": False}
    assert not physician_options.participation_only


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_duplicate_claims_make_one(physician, seed_like_activity):
    enrollment = enrolled(physician, seed_like_activity)
    barrier = threading.Barrier(6)
    claims, refused, unexpected = [], [], []

    def run():
        try:
            barrier.wait()
            claims.append(
                services.claim_credit(
                    enrollment=enrollment,
                    amounts={"ama_pra_1": D("1.50"), "ipce": D("1.50")},
                    attested=True,
                    moc_boards=["ABIM"],
                ).pk
            )
        except services.ClaimError as exc:
            refused.append(exc.errors)
        except Exception as exc:  # a deadlock or integrity error would land here and fail the test
            unexpected.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert len(claims) == 1
    assert refused == [{"__all__": "You have already claimed credit for this activity."}] * 5
    assert CreditClaim.objects.filter(enrollment=enrollment).count() == 1
    assert ClaimedCredit.objects.count() == 2 and ClaimedMoc.objects.count() == 1
    assert AuditEntry.objects.filter(action="claim.created").count() == 1
