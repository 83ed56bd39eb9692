"""The steps to credit on the learner's pages (the activity page, /me/, the claim page), the claim gate and
the MOC gate as the learner meets them, and who may see a learner's tests and attempts: only the learner."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Answer, Attempt
from assessments.services import versions
from learners import services
from learners.models import CreditClaim
from tests.factories import ActivityFactory, make_assessment
from tests.helpers import answers, attempt, page_text

pytestmark = pytest.mark.django_db


def take_url(enrollment, kind="post_test") -> str:
    return reverse("assessments:take", kwargs={"public_id": enrollment.public_id, "kind": kind})


def result_url(enrollment, kind="post_test", number=1) -> str:
    return reverse(
        "assessments:result", kwargs={"public_id": enrollment.public_id, "kind": kind, "number": number}
    )


def attempts_url(enrollment) -> str:
    return reverse("assessments:attempts", kwargs={"public_id": enrollment.public_id})


def claim_url(enrollment) -> str:
    return reverse("learners:claim", kwargs={"public_id": enrollment.public_id})


def steps(response) -> list[str]:
    """Each step of the first list of steps on the page, as its text: state, name, detail, links."""
    block = re.search(r'<ol class="steps".*?</ol>', response.content.decode(), re.S)
    assert block, "no steps on the page"
    items = re.findall(r"<li class=\"step step-\w+\".*?</li>", block.group(0), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def current_step(response) -> str:
    match = re.search(
        r'<li class="step step-current" aria-current="step">(.*?)</li>', response.content.decode(), re.S
    )
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def claim(client, enrollment, **extra):
    return client.post(claim_url(enrollment), {"credit_ama_pra_1": "1.50", "attested": "on", **extra})


# Who sees a learner's tests and attempts


@pytest.fixture
def taken(enrollment, post_test, evaluation):
    """Learner A failed the post-test once and evaluated."""
    attempt(enrollment, post_test, right=2)
    attempt(enrollment, evaluation)
    return enrollment


@pytest.mark.parametrize("who", ["physician_b", "staff_a", "staff_b", "viewer_a", "mixed_role", "accreditor"])
def test_nobody_else_sees_or_takes_a_learners_tests(client, request, taken, post_test, who):
    client.force_login(request.getfixturevalue(who))
    version = versions.current_version(post_test)
    data = {**answers(version, right=4), "version": str(version.pk)}

    pages = [
        take_url(taken),
        take_url(taken, "evaluation"),
        result_url(taken),
        result_url(taken, "evaluation"),
        attempts_url(taken),
    ]

    assert [client.get(url).status_code for url in pages] == [404] * 5
    assert client.post(take_url(taken), data).status_code == 404
    assert Attempt.objects.count() == 2 and Answer.objects.filter(attempt__number=2).count() == 0


def test_signed_out_visitors_are_sent_to_sign_in(client, taken):
    response = client.get(take_url(taken))

    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert client.get(attempts_url(taken)).status_code == 302


def test_the_learner_lists_their_own_attempts_and_opens_each(client, physician, taken, physician_b, activity):
    other = services.enroll(learner=physician_b, activity=activity)[0]
    attempt(other, taken.activity.assessments.get(kind="post_test"), right=4)
    client.force_login(physician)

    response = client.get(attempts_url(taken))

    text = page_text(response)
    assert "Post-test: Post-test" in text and "Evaluation: Evaluation" in text
    assert "50 % Not passed See attempt 1 at the Post-test" in text
    assert result_url(taken) in response.content.decode()
    assert result_url(taken, "evaluation") in response.content.decode()
    assert client.get(result_url(taken, number=2)).status_code == 404  # no second attempt of mine
    assert client.get(result_url(other)).status_code == 404  # B's attempt, through B's enrollment


# Steps on the activity page, /me/ and the claim page


def test_the_activity_page_tells_a_visitor_what_earning_credit_takes(client, activity, post_test, evaluation):
    response = client.get(activity.get_absolute_url())

    assert steps(response) == [
        "Next : Enroll Free to start; your progress is saved.",
        "To do : Post-test 70 % needed to pass; 2 attempts allowed.",
        "To do : Evaluation A few questions about the activity; not scored.",
        "To do : Claim credit Claim the credit your participation earned.",
        "To do : Certificate Emailed to you when you claim.",
    ]


def test_the_activity_page_shows_an_enrolled_learner_where_they_stand(
    client, physician, enrollment, activity, post_test, evaluation
):
    make_assessment(activity, "pre_test", questions=4)
    attempt(enrollment, post_test, right=2)
    client.force_login(physician)

    response = client.get(activity.get_absolute_url())

    assert steps(response) == [
        "Done : Enroll",
        "Closed : Pre-test Not taken: the pre-test comes before the post-test.",
        "Next : Post-test 70 % needed; your best is 50 %, not passed; 1 attempt left. Try the post-test again "
        "Your post-test result",
        "To do : Evaluation A few questions about the activity; not scored. Complete the evaluation",
        "To do : Claim credit Pass the post-test (70 % needed; your best is 50 %, 1 attempt left). "
        "Complete the evaluation.",
        "To do : Certificate Emailed to you when you claim.",
    ]
    html = response.content.decode()
    assert f'<a class="button" href="{take_url(enrollment)}">Try the post-test again</a>' in html
    assert f'href="{take_url(enrollment, "evaluation")}"' in html
    assert f'href="{result_url(enrollment)}"' in html


def test_the_dashboard_shows_each_enrollment_with_its_steps(
    client, physician, enrollment, post_test, evaluation
):
    plain = services.enroll(learner=physician, activity=ActivityFactory(title="No tests here"))[0]
    attempt(enrollment, post_test, right=4)
    client.force_login(physician)

    response = client.get(reverse("learners:dashboard"))

    text = page_text(response)
    assert "Done : Post-test Passed with 100 % (70 % needed)." in text
    assert "Next : Evaluation A few questions about the activity; not scored. Complete the evaluation" in text
    assert "To do : Claim credit Complete the evaluation." in text
    assert "Next : Claim credit Claim credit" in text  # the activity without tests
    html = response.content.decode()
    assert f'href="{take_url(enrollment, "evaluation")}"' in html
    assert f'href="{claim_url(plain)}"' in html
    assert f'href="{attempts_url(enrollment)}"' in html
    assert f'href="{attempts_url(plain)}"' not in html  # nothing taken there


def _dashboard_queries(client, learner, provider, count) -> int:
    for n in range(count):
        activity = ActivityFactory(provider=provider, title=f"Activity {n} for {learner.email}")
        test = make_assessment(activity, "post_test", questions=3)
        make_assessment(activity, "evaluation", questions=2)
        enrollment = services.enroll(learner=learner, activity=activity)[0]
        attempt(enrollment, test, right=n % 4)
    client.force_login(learner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("learners:dashboard"))
    assert response.status_code == 200
    assert len(steps(response)) == 5  # enroll, post-test, evaluation, claim, certificate
    assert page_text(response).count(": Post-test ") == count
    return len(queries)


def test_the_dashboards_queries_do_not_grow_with_enrollments(client, physician, physician_b, provider_a):
    two = _dashboard_queries(client, physician, provider_a, 2)
    ten = _dashboard_queries(client, physician_b, provider_a, 10)

    assert ten == two


def test_the_claim_page_names_what_is_unmet_and_offers_no_form_until_it_is_met(
    client, physician, enrollment, post_test, evaluation
):
    client.force_login(physician)
    attempt(enrollment, post_test, right=2)

    page = client.get(claim_url(enrollment))
    refused = claim(client, enrollment)

    for response in (page, refused):
        text = page_text(response)
        assert "You can claim credit once you have met this activity's requirements:" in text
        assert (
            "Pass the post-test (70 % needed; your best is 50 %, 1 attempt left). Try the post-test again"
            in text
        )
        assert "Complete the evaluation. Complete the evaluation" in text
        assert 'class="claim-form"' not in response.content.decode()
    assert refused.status_code == 400
    assert not CreditClaim.objects.filter(enrollment=enrollment).exists()

    attempt(enrollment, post_test, right=4)
    still = page_text(client.get(claim_url(enrollment)))
    assert "Complete the evaluation." in still and "Pass the post-test" not in still
    attempt(enrollment, evaluation)
    open_ = client.get(claim_url(enrollment))
    assert 'class="claim-form"' in open_.content.decode()
    assert "Next : Claim credit Every requirement is met." in page_text(open_)

    assert claim(client, enrollment).status_code == 302
    recorded = CreditClaim.objects.get(enrollment=enrollment)
    assert recorded.credits.get().amount == Decimal("1.50")


def test_the_moc_checkbox_waits_for_a_moc_only_post_test(client, physician, enrollment, activity):
    test = make_assessment(activity, "post_test", questions=4, required_for="moc", moc_boards=["ABIM"])
    client.force_login(physician)

    before = client.get(claim_url(enrollment))

    assert 'class="claim-form"' in before.content.decode()  # the credit does not wait for the post-test
    assert 'name="moc_ABIM"' not in before.content.decode()
    assert (
        "ABIM: ABIM MOC points are reported once you have met its requirements: Pass the post-test (70 % needed; "
        "2 attempts left)." in page_text(before)
    )
    assert "Needed for ABIM MOC points only." in page_text(before)

    attempt(enrollment, test, right=4)
    after = client.get(claim_url(enrollment))

    assert 'name="moc_ABIM"' in after.content.decode()
    assert "MOC points are reported once" not in page_text(after)
    assert claim(client, enrollment, moc_ABIM="on").status_code == 302
    assert CreditClaim.objects.get(enrollment=enrollment).moc.get().board == "ABIM"


def test_after_the_claim_the_steps_show_the_certificate_on_its_way(
    client, physician, enrollment, post_test, evaluation
):
    attempt(enrollment, post_test, right=4)
    attempt(enrollment, evaluation)
    client.force_login(physician)
    claim(client, enrollment)

    response = client.get(claim_url(enrollment))

    assert steps(response)[-2:] == [
        f"Done : Claim credit Claimed on {CreditClaim.objects.get().claimed_at:%b %-d, %Y}.",
        "Next : Certificate On its way by email.",
    ]


def test_a_result_page_links_to_the_next_step(client, physician, enrollment, post_test, evaluation):
    client.force_login(physician)
    attempt(enrollment, post_test, right=4)

    response = client.get(result_url(enrollment))

    assert current_step(response).startswith("Next : Evaluation")
    assert (
        f'<p><a class="button" href="{take_url(enrollment, "evaluation")}">Complete the evaluation</a></p>'
        in (response.content.decode())
    )
