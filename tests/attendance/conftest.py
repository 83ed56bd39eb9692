"""What the attendance tests share: a live course with one session and its check-in point (the check-in page,
rule and screen tests), and a grand-rounds series of three weekly sessions (the staff records tests)."""

import datetime as dt
from decimal import Decimal as D

import pytest

from activities.models import SessionCredit
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


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def rounds(provider_a):
    """Medicine grand rounds at provider A: Tuesdays 3, 10 and 17 March 2026, 13:00-14:00 UTC, 1 AMA credit
    each, 3 designated."""
    first = utc(2026, 3, 3, 13)
    spans = [(first + dt.timedelta(weeks=n), first + dt.timedelta(weeks=n, hours=1)) for n in range(3)]
    activity = ActivityFactory(
        provider=provider_a,
        title="Medicine grand rounds",
        activity_type="rss",
        format="in_person",
        start=spans[0][0],
        end=spans[-1][1],
        credits={"ama_pra_1": "3.00"},
        sessions=spans,
    )
    for session in activity.sessions.all():
        SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours=D("1.00"))
    return activity


@pytest.fixture
def rounds_b(provider_b):
    """Provider B's one-session live course."""
    start = utc(2026, 3, 4, 13)
    return ActivityFactory(
        provider=provider_b,
        title="Provider B course",
        activity_type="course",
        format="in_person",
        start=start,
        end=start + dt.timedelta(hours=2),
        credits={"ama_pra_1": "2.00"},
    )


def sessions_of(activity):
    return list(activity.sessions.order_by("start"))
