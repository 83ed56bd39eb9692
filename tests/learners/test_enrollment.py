"""Enrolling from the activity page: POST only, signed in, published and not over, within capacity."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from learners import services
from learners.models import Enrollment
from portal.models import AuditEntry
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import messages_of

pytestmark = pytest.mark.django_db


def enroll_url(activity) -> str:
    return reverse("learners:enroll", kwargs={"slug": activity.slug})


@pytest.fixture
def ended_activity(provider_a):
    start = timezone.now() - timedelta(days=60)
    return ActivityFactory(
        provider=provider_a,
        title="Last month's course",
        activity_type="course",
        format="in_person",
        start=start,
        end=start + timedelta(days=2),
    )


def test_enrolling_takes_a_post_and_a_get_leads_back_to_the_activity(client, learner_a, activity_a):
    """A GET (say, the return from the login page after a POST whose session had expired) enrolls nobody
    and shows the activity, where the Enroll button is."""
    client.force_login(learner_a)

    response = client.get(enroll_url(activity_a))

    assert response.status_code == 302
    assert response["Location"] == activity_a.get_absolute_url()
    assert not Enrollment.objects.exists()


def test_enrolling_requires_login(client, activity_a):
    response = client.post(enroll_url(activity_a))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not Enrollment.objects.exists()


def test_enrolling_creates_the_enrollment_and_goes_to_the_claim_page(client, learner_a, activity_a):
    client.force_login(learner_a)

    response = client.post(enroll_url(activity_a))

    enrollment = Enrollment.objects.get(learner=learner_a, activity=activity_a)
    assert enrollment.status == Enrollment.Status.ENROLLED and enrollment.completed_at is None
    assert response.status_code == 302
    assert response.url == reverse("learners:claim", kwargs={"public_id": enrollment.public_id})
    assert any("You are enrolled" in m for m in messages_of(response))


def test_enrolling_is_audited(learner_a, activity_a):
    enrollment, created = services.enroll(learner=learner_a, activity=activity_a)

    entry = AuditEntry.objects.get(action="enrollment.created")
    assert created
    assert (entry.actor, entry.object_id, entry.provider_id) == (
        learner_a,
        str(enrollment.pk),
        activity_a.provider_id,
    )


def test_enrolling_twice_is_harmless(client, learner_a, activity_a):
    client.force_login(learner_a)

    first = client.post(enroll_url(activity_a))
    second = client.post(enroll_url(activity_a))

    assert Enrollment.objects.filter(learner=learner_a, activity=activity_a).count() == 1
    assert second.status_code == 302 and second.url == first.url
    assert AuditEntry.objects.filter(action="enrollment.created").count() == 1


def test_the_service_returns_the_existing_enrollment_on_a_repeat(learner_a, activity_a):
    first, created_first = services.enroll(learner=learner_a, activity=activity_a)
    second, created_second = services.enroll(learner=learner_a, activity=activity_a)

    assert (created_first, created_second) == (True, False)
    assert second.pk == first.pk


def test_a_draft_is_not_found(client, learner_a, draft_activity):
    client.force_login(learner_a)

    response = client.post(enroll_url(draft_activity))

    assert response.status_code == 404
    assert not Enrollment.objects.exists()


def test_the_service_refuses_a_draft(learner_a, draft_activity):
    with pytest.raises(services.EnrollmentError, match="not open for enrollment"):
        services.enroll(learner=learner_a, activity=draft_activity)
    assert not Enrollment.objects.exists()


def test_an_activity_that_has_ended_refuses_with_a_message(client, learner_a, ended_activity):
    client.force_login(learner_a)

    response = client.post(enroll_url(ended_activity))

    assert response.status_code == 302
    assert response.url == ended_activity.get_absolute_url()
    assert messages_of(response) == ["This activity has ended and no longer takes enrollments."]
    page = client.get(response.url).content.decode()
    assert 'class="message message-error">This activity has ended' in page
    assert not Enrollment.objects.exists()


def test_an_enduring_material_past_its_expiry_refuses(learner_a, activity_a):
    with pytest.raises(services.EnrollmentError, match="has ended"):
        services.enroll(learner=learner_a, activity=activity_a, at=activity_a.end + timedelta(seconds=1))
    assert not Enrollment.objects.exists()


def test_enrolling_on_the_last_moment_is_allowed(learner_a, activity_a):
    enrollment, created = services.enroll(learner=learner_a, activity=activity_a, at=activity_a.end)

    assert created and enrollment.pk


def test_a_live_activity_takes_enrollments_before_it_starts(learner_a, provider_a):
    start = timezone.now() + timedelta(days=10)
    upcoming = ActivityFactory(provider=provider_a, activity_type="course", start=start, end=start)

    enrollment, created = services.enroll(learner=learner_a, activity=upcoming)

    assert created and enrollment.activity == upcoming


def test_a_full_activity_refuses_the_next_learner(client, provider_a, learner_a, learner_b):
    activity = ActivityFactory(provider=provider_a, capacity=2)
    services.enroll(learner=learner_a, activity=activity)
    services.enroll(learner=learner_b, activity=activity)
    third = UserFactory()
    client.force_login(third)

    response = client.post(enroll_url(activity))

    assert response.status_code == 302 and response.url == activity.get_absolute_url()
    assert messages_of(response) == ["This activity is full."]
    assert Enrollment.objects.filter(activity=activity).count() == 2
    assert not Enrollment.objects.filter(learner=third).exists()


def test_a_full_activity_still_answers_those_already_enrolled(provider_a, learner_a, learner_b):
    activity = ActivityFactory(provider=provider_a, capacity=1)
    mine, _ = services.enroll(learner=learner_a, activity=activity)

    again, created = services.enroll(learner=learner_a, activity=activity)

    assert (again.pk, created) == (mine.pk, False)
    with pytest.raises(services.EnrollmentError, match="full"):
        services.enroll(learner=learner_b, activity=activity)


def test_no_capacity_means_no_limit(provider_a):
    activity = ActivityFactory(provider=provider_a, capacity=None)

    for _ in range(5):
        services.enroll(learner=UserFactory(), activity=activity)

    assert Enrollment.objects.filter(activity=activity).count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_enrollments_never_exceed_the_capacity(provider_a):
    activity = ActivityFactory(provider=provider_a, capacity=3)
    learners = [UserFactory() for _ in range(10)]
    barrier = threading.Barrier(len(learners))
    enrolled, refused, unexpected = [], [], []

    def run(learner):
        try:
            barrier.wait()
            services.enroll(learner=learner, activity=activity)
            enrolled.append(learner.pk)
        except services.EnrollmentError as exc:
            refused.append(str(exc))
        except Exception as exc:  # a deadlock or integrity error would land here and fail the test
            unexpected.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(learner,)) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert len(enrolled) == 3
    assert refused == ["This activity is full."] * 7
    assert sorted(
        Enrollment.objects.filter(activity=activity).values_list("learner_id", flat=True)
    ) == sorted(enrolled)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_enrollments_of_one_learner_make_one(provider_a, learner_a):
    activity = ActivityFactory(provider=provider_a)
    barrier = threading.Barrier(6)
    results, unexpected = [], []

    def run():
        try:
            barrier.wait()
            results.append(services.enroll(learner=learner_a, activity=activity))
        except Exception as exc:
            unexpected.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert Enrollment.objects.filter(learner=learner_a, activity=activity).count() == 1
    assert sorted(created for _, created in results) == [False] * 5 + [True]
    assert len({enrollment.pk for enrollment, _ in results}) == 1
