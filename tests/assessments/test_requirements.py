"""What the post-test and the evaluation gate: the claim, refused while one it needs is unmet (naming it);
MOC points, recorded only once the board's requirement is met; and the completion date, which is when the
last requirement was met, on the certificate and in the ledger's deadlines."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from assessments.services import requirements
from learners import services
from learners.models import ClaimedMoc, CreditClaim, ReportingEntry
from learners.services.reporting import ledger
from tests.factories import ActivityFactory, make_assessment
from tests.helpers import attempt, issue

pytestmark = pytest.mark.django_db

AMA = {"ama_pra_1": Decimal("1.50")}


@pytest.fixture
def activity(provider_a):
    return ActivityFactory(provider=provider_a, moc=[("ABIM", "medical_knowledge", "1.50")])


@pytest.fixture
def enrollment(physician, activity):
    enrollment, _ = services.enroll(learner=physician, activity=activity)
    return enrollment


def claim(enrollment, **kwargs):
    return services.claim_credit(enrollment=enrollment, amounts=AMA, attested=True, **kwargs)


def refusal_of(enrollment, **kwargs) -> str:
    with pytest.raises(services.ClaimError) as refused:
        claim(enrollment, **kwargs)
    assert not CreditClaim.objects.filter(enrollment=enrollment).exists()
    return refused.value.errors["__all__"]


# --- the claim gate --------------------------------------------------------------------------------------------


def test_the_claim_waits_for_the_post_test_and_says_where_the_learner_stands(enrollment, activity):
    post_test = make_assessment(activity, "post_test", questions=10, passing_score=70, max_attempts=2)
    assert refusal_of(enrollment) == "Pass the post-test (70 % needed; 2 attempts left)."
    attempt(enrollment, post_test, right=6)
    assert refusal_of(enrollment) == "Pass the post-test (70 % needed; your best is 60 %, 1 attempt left)."
    attempt(enrollment, post_test, right=5)
    assert refusal_of(enrollment) == (
        "Pass the post-test (70 % needed; your best is 60 %, no attempts left: ask the provider)."
    )


def test_the_claim_is_recorded_once_the_post_test_is_passed_and_the_evaluation_done(enrollment, activity):
    post_test = make_assessment(activity, "post_test", max_attempts=None)
    evaluation = make_assessment(activity, "evaluation")
    assert (
        refusal_of(enrollment)
        == "Pass the post-test (70 % needed; unlimited attempts). Complete the evaluation."
    )
    attempt(enrollment, post_test)
    assert refusal_of(enrollment) == "Complete the evaluation."
    attempt(enrollment, evaluation)
    assert claim(enrollment).credits.get().amount == Decimal("1.50")


def test_the_pre_test_never_gates(enrollment, activity):
    make_assessment(activity, "pre_test")
    assert claim(enrollment)


def test_an_optional_evaluation_and_an_assessment_without_questions_gate_nothing(enrollment, activity):
    make_assessment(activity, "evaluation", required_for="nothing")
    make_assessment(activity, "post_test", questions=0)
    assert claim(enrollment)


def test_the_claim_form_shows_the_refusal_and_records_nothing(client, physician, enrollment, activity):
    make_assessment(activity, "post_test")
    client.force_login(physician)
    response = client.post(enrollment.get_absolute_url(), {"credit_ama_pra_1": "1.50", "attested": "on"})
    assert response.status_code == 400
    assert "Pass the post-test (70 % needed; 2 attempts left)." in response.content.decode()
    assert not CreditClaim.objects.exists()


# --- the MOC gate ----------------------------------------------------------------------------------------------


def test_moc_points_need_the_boards_post_test_where_credit_does_not(enrollment, activity):
    post_test = make_assessment(activity, "post_test", required_for="moc", moc_boards=["ABIM"])
    options = services.claim_options(enrollment=enrollment, profile=enrollment.learner.profile)
    assert options.moc[0].reason == (
        "ABIM MOC points are reported once you have met its requirements: "
        "Pass the post-test (70 % needed; 2 attempts left)."
    )
    with pytest.raises(services.ClaimError) as refused:
        claim(enrollment, moc_boards=["ABIM"])
    assert refused.value.errors == {"moc_ABIM": options.moc[0].reason}
    assert not CreditClaim.objects.exists()

    attempt(enrollment, post_test)
    claim(enrollment, moc_boards=["ABIM"])
    assert list(ClaimedMoc.objects.values_list("board", "points")) == [("ABIM", Decimal("1.50"))]


def test_credit_alone_may_be_claimed_without_the_moc_post_test(enrollment, activity):
    make_assessment(activity, "post_test", required_for="moc")
    claim(enrollment)
    assert not ClaimedMoc.objects.exists()
    assert not ReportingEntry.objects.filter(board="ABIM").exists()


def test_a_moc_post_test_for_another_board_leaves_abim_alone(enrollment, activity):
    make_assessment(activity, "post_test", required_for="moc", moc_boards=["ABS"])
    claim(enrollment, moc_boards=["ABIM"])
    assert ClaimedMoc.objects.filter(board="ABIM").exists()


# --- the completion date ---------------------------------------------------------------------------------------

PASSED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
EVALUATED = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
CLAIMED = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def spring_activity(provider_a):
    return ActivityFactory(
        provider=provider_a,
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2027, 1, 1, tzinfo=UTC),
        moc=[("ABIM", "medical_knowledge", "1.50")],
    )


def test_the_completion_date_is_when_the_last_requirement_was_met(
    physician, spring_activity, django_capture_on_commit_callbacks
):
    with time_machine.travel(PASSED - timedelta(days=3), tick=False):
        enrollment, _ = services.enroll(learner=physician, activity=spring_activity)
    post_test = make_assessment(spring_activity, "post_test")
    evaluation = make_assessment(spring_activity, "evaluation")
    attempt(enrollment, post_test, right=1, at=PASSED - timedelta(days=1))
    attempt(enrollment, post_test, at=PASSED)
    attempt(enrollment, evaluation, at=EVALUATED)
    with time_machine.travel(CLAIMED, tick=False):
        claim(enrollment, moc_boards=["ABIM"], at=CLAIMED)
    enrollment.refresh_from_db()
    assert enrollment.completed_at == EVALUATED
    assert enrollment.claim.claimed_at == CLAIMED

    certificate = issue(enrollment, django_capture_on_commit_callbacks)
    snapshot = certificate.versions.get().snapshot
    assert (snapshot["completed_on"], snapshot["claimed_on"]) == ("2026-03-05", "2026-04-20")

    moc_row = ReportingEntry.objects.get(board="ABIM")
    assert moc_row.completed_on.isoformat() == "2026-03-05"
    assert moc_row.due_on == moc_row.completed_on + timedelta(days=ledger.DAYS_TO_REPORT[moc_row.destination])


def test_a_moc_only_post_test_counts_for_the_date_only_when_its_points_are_claimed(
    physician, spring_activity
):
    enrollment, _ = services.enroll(
        learner=physician, activity=spring_activity, at=PASSED - timedelta(days=1)
    )
    post_test = make_assessment(spring_activity, "post_test", required_for="moc")
    attempt(enrollment, post_test, at=PASSED)
    progress = requirements.progress(enrollment)
    assert progress.completed_at() is None
    assert progress.completed_at(moc_boards=["ABIM"]) == PASSED
    with time_machine.travel(CLAIMED, tick=False):
        claim(enrollment, at=CLAIMED)
    enrollment.refresh_from_db()
    assert enrollment.completed_at == CLAIMED  # no requirement: the claim completes the activity


def test_progress_for_many_enrollments_takes_two_queries(physician, provider_a, django_assert_num_queries):
    enrollments = []
    for n in range(5):
        activity = ActivityFactory(provider=provider_a)
        make_assessment(activity, "post_test")
        make_assessment(activity, "evaluation")
        enrollment, _ = services.enroll(learner=physician, activity=activity)
        if n % 2:
            attempt(enrollment, activity.assessments.get(kind="post_test"), right=1)
        enrollments.append(enrollment)
    with django_assert_num_queries(2):
        progress = requirements.progress_for_many(enrollments)
    assert [p.of("post_test").used for p in progress.values()] == [0, 1, 0, 1, 0]
    assert all(not p.may_claim() for p in progress.values())
