"""A live course with one session, and its check-in point, for the check-in page, rule and screen tests."""

import datetime as dt

import pytest

from attendance.services.checkin import checkin_for
from tests.factories import ActivityFactory

START = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)  # 8:00 in America/Chicago
END = START + dt.timedelta(hours=2)


@pytest.fixture
def course(provider_a):
    """Provider A's one-session course on 3 March 2026, 14:00 to 16:00 UTC; check-in 13:30 to 16:30."""
    return ActivityFactory(
        provider=provider_a,
        title="Point-of-care ultrasound workshop",
        activity_type="course",
        format="in_person",
        start=START,
        end=END,
        sessions=[(START, END)],
    )


@pytest.fixture
def session(course):
    found = course.sessions.get()
    found.time_zone = "America/Chicago"
    found.venue = "Room 4B"
    found.save()
    return found


@pytest.fixture
def point(session):
    """The session's check-in point, as the screen makes it."""
    return checkin_for(session)
