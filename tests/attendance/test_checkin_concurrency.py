"""Check-in under concurrent requests, on PostgreSQL (threads, each with its own connection): the same
learner checking in from many requests at once is one attendance (and, for a walk-in, one enrollment), and
walk-ins racing for an activity's last places never take more than its capacity."""

import datetime as dt
import threading

import pytest
from django.db import connection

from attendance import codes
from attendance.models import Attendance
from attendance.services.checkin import CheckinError, check_in, checkin_for
from learners.models import Enrollment
from learners.services import enroll
from portal.models import AuditEntry
from tests.factories import ActivityFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

START = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)
AT = START + dt.timedelta(minutes=5)


def race(calls) -> tuple[list, list[BaseException]]:
    """Run each of ``calls`` in its own thread, all released at once; their results and errors."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=30)
            results.append(call())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # each thread's own connection, left open on nothing

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


@pytest.fixture
def point():
    activity = ActivityFactory(
        activity_type="course", format="in_person", start=START, end=START + dt.timedelta(hours=1)
    )
    return checkin_for(activity.sessions.get())


def attempt(learner, point):
    return lambda: check_in(learner=learner, checkin=point, code=codes.current_code(point.secret, AT), at=AT)


@pytest.mark.parametrize("walk_in", [False, True], ids=["enrolled", "walk-in"])
def test_twenty_check_ins_of_one_learner_at_once_are_one_attendance(point, walk_in):
    learner = UserFactory()
    if not walk_in:
        enroll(learner=learner, activity=point.session.activity, at=START - dt.timedelta(days=1))

    results, errors = race([attempt(learner, point)] * 20)

    assert errors == []
    attendance = Attendance.objects.get()
    assert {r.attendance.pk for r in results} == {attendance.pk}
    assert sum(r.created for r in results) == 1
    assert sum(r.enrolled for r in results) == (1 if walk_in else 0)
    assert Enrollment.objects.filter(learner=learner).count() == 1
    assert AuditEntry.objects.filter(action="attendance.checked_in").count() == 1
    assert AuditEntry.objects.filter(action="enrollment.created").count() == 1


def test_walk_ins_racing_for_the_last_places_never_exceed_the_capacity(point):
    activity = point.session.activity
    activity.capacity = 5
    activity.save()
    for _ in range(3):
        enroll(learner=UserFactory(), activity=activity, at=START - dt.timedelta(days=1))
    walk_ins = [UserFactory() for _ in range(8)]

    results, errors = race([attempt(learner, point) for learner in walk_ins])

    assert len(results) == 2 and all(r.created and r.enrolled for r in results)
    assert len(errors) == 6
    assert all(isinstance(e, CheckinError) and str(e) == "This activity is full." for e in errors)
    assert Enrollment.objects.filter(activity=activity).count() == 5
    assert Attendance.objects.count() == 2
    assert set(Attendance.objects.values_list("enrollment__learner", flat=True)) == {
        r.attendance.enrollment.learner_id for r in results
    }
