"""Sessions of live activities: the model's rules and the database's constraints, the repeating schedule, and
what the activity page and the API show."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from activities import sessions
from activities.models import Session, SessionCredit
from portal.models import AuditEntry
from tests.factories import ActivityFactory
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def course(provider_a):
    start = dt.datetime(2027, 3, 1, 8, tzinfo=CHICAGO)
    return ActivityFactory(
        provider=provider_a,
        title="Cardiology update",
        activity_type="course",
        format="in_person",
        start=start,
        end=start + dt.timedelta(days=2),
        credits={"ama_pra_1": "6.00", "nursing": "6.00"},
        sessions=[],
    )


def session_of(activity, **fields) -> Session:
    start = fields.pop("start", activity.start)
    return Session(
        activity=activity,
        start=start,
        end=fields.pop("end", start + dt.timedelta(hours=1)),
        time_zone=fields.pop("time_zone", "America/Chicago"),
        venue=fields.pop("venue", "Hyatt Regency"),
        **fields,
    )


def errors_of(obj) -> dict:
    with pytest.raises(ValidationError) as caught:
        obj.full_clean()
    return caught.value.message_dict


# --- The model -----------------------------------------------------------------------------------------


def test_validation_errors_name_the_field(course):
    assert "time_zone" in errors_of(session_of(course, time_zone="America/Springfield"))
    assert "end" in errors_of(session_of(course, end=course.start))
    assert "venue" in errors_of(session_of(course, venue=""))
    session_of(course, venue="", online=True).full_clean()  # online needs no venue


def test_session_credit_hours_follow_the_increment_and_the_designation(course):
    session = session_of(course)
    session.save()
    assert "hours" in errors_of(SessionCredit(session=session, credit_type_id="ama_pra_1", hours="0.10"))
    assert "hours" in errors_of(SessionCredit(session=session, credit_type_id="ama_pra_1", hours="6.25"))
    assert "credit_type" in errors_of(SessionCredit(session=session, credit_type_id="pharmacy", hours="1.00"))
    SessionCredit(session=session, credit_type_id="ama_pra_1", hours="1.50").full_clean()


def test_the_database_refuses_what_the_rules_forbid(course):
    session = session_of(course)
    session.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=session.pk).update(end=session.start)
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours=Decimal("0"))
    SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours=Decimal("1.00"))


def test_local_times_are_read_in_the_sessions_zone(course):
    session = session_of(
        course, start=dt.datetime(2027, 3, 1, 14, tzinfo=dt.UTC), time_zone="America/Chicago"
    )
    assert session.local_start.hour == 8
    assert session.date == dt.date(2027, 3, 1)
    assert session.place == "Hyatt Regency"
    session.city, session.state, session.country = "Chicago", "IL", "US"
    assert session.place == "Hyatt Regency, Chicago, IL, US"


# --- The repeating schedule ----------------------------------------------------------------------------


def tuesdays(**fields) -> sessions.Schedule:
    values = {
        "weekday": 1,
        "start_time": dt.time(7),
        "end_time": dt.time(8),
        "first": dt.date(2027, 1, 1),
        "last": dt.date(2027, 6, 30),
        "time_zone": "America/Chicago",
        "venue": "Grand Rounds Hall",
        **fields,
    }
    return sessions.Schedule(**values)


def test_a_plan_lists_every_weekday_in_the_range_but_the_skipped_ones():
    plan = sessions.plan_schedule(tuesdays())
    assert len(plan.starts) == 26
    assert {start.weekday() for start, _end in plan.starts} == {1}
    assert plan.starts[0][0] == dt.datetime(2027, 1, 5, 7, tzinfo=CHICAGO)
    assert plan.summary() == "would add 26 sessions, Jan 5, 2027 – Jun 29, 2027"
    # Wall-clock times stay put across the change to daylight saving time (March 14, 2027).
    assert {start.astimezone(CHICAGO).hour for start, _end in plan.starts} == {7}
    skipped = sessions.plan_schedule(tuesdays(skip=frozenset({dt.date(2027, 1, 5)}), every_weeks=2))
    assert len(skipped.starts) == 12
    assert skipped.starts[0][0].date() == dt.date(2027, 1, 19)


def test_scheduling_adds_the_sessions_in_one_go_with_one_audit_entry(provider_a, staff_a):
    series = ActivityFactory(provider=provider_a, activity_type="rss", format="in_person", sessions=[])
    added = sessions.schedule_sessions(activity=series, schedule=tuesdays(), actor=staff_a)
    assert len(added) == series.sessions.count() == 26
    entry = AuditEntry.objects.get(action="session.scheduled")
    assert entry.actor == staff_a and entry.provider_id == provider_a.pk and entry.data["count"] == 26


def test_a_series_past_12_months_is_refused_and_nothing_is_added(provider_a, staff_a):
    series = ActivityFactory(provider=provider_a, activity_type="rss", format="in_person", sessions=[])
    with pytest.raises(sessions.SessionError, match="at most 12 months"):
        sessions.schedule_sessions(
            activity=series, schedule=tuesdays(last=dt.date(2028, 2, 1)), actor=staff_a
        )
    sessions.schedule_sessions(activity=series, schedule=tuesdays(), actor=staff_a)
    # With the sessions it has, a later schedule would stretch it past 12 months: refused too.
    with pytest.raises(sessions.SessionError, match="at most 12 months"):
        sessions.schedule_sessions(
            activity=series,
            schedule=tuesdays(first=dt.date(2027, 12, 1), last=dt.date(2028, 3, 1)),
            actor=staff_a,
        )
    assert series.sessions.count() == 26
    assert AuditEntry.objects.filter(action="session.scheduled").count() == 1


def test_a_course_may_run_longer_and_an_enduring_material_has_no_sessions(course, activity_a, staff_a):
    sessions.schedule_sessions(activity=course, schedule=tuesdays(last=dt.date(2028, 2, 1)), actor=staff_a)
    with pytest.raises(sessions.SessionError, match="live activity"):
        sessions.schedule_sessions(activity=activity_a, schedule=tuesdays(), actor=staff_a)
    assert not activity_a.sessions.exists()


# --- The activity page and the API ---------------------------------------------------------------------


def add_sessions(activity, count: int) -> None:
    for n in range(count):
        session = session_of(
            activity, start=activity.start + dt.timedelta(hours=2 * n), track="Imaging" if n % 2 else ""
        )
        session.save()
        SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours="1.00")
        SessionCredit.objects.create(session=session, credit_type_id="nursing", hours="1.00")


def page_queries(client, activity) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(activity.get_absolute_url())
    assert response.status_code == 200
    return len(queries)


def test_the_activity_page_lists_the_sessions_in_a_fixed_number_of_queries(client, course):
    add_sessions(course, 1)
    one = page_queries(client, course)
    add_sessions(course, 5)
    assert page_queries(client, course) == one
    text = page_text(client.get(course.get_absolute_url()))
    assert "Sessions" in text
    assert "Mon, Mar 1, 2027" in text
    assert "Mon, Mar 1, 2027 8:00 AM – 9:00 AM America/Chicago Hyatt Regency" in text
    assert "Hyatt Regency" in text
    assert "Imaging" in text
    assert "1 AMA PRA Category 1 Credit™" in text


def test_an_online_session_says_online(client, course):
    session_of(course, online=True, venue="").save()
    assert "Online" in page_text(client.get(course.get_absolute_url()))


def test_the_api_shows_sessions_on_the_detail_and_the_list(client, course):
    add_sessions(course, 2)
    data = client.get(f"/api/activities/{course.slug}/").json()
    assert data["sessions"][0] == {
        "start": "2027-03-01T14:00:00Z",
        "end": "2027-03-01T15:00:00Z",
        "time_zone": "America/Chicago",
        "local_start": "2027-03-01T08:00:00-06:00",
        "local_end": "2027-03-01T09:00:00-06:00",
        "online": False,
        "location": {"venue": "Hyatt Regency", "city": "", "state": "", "country": ""},
        "track": None,
        "credits": [
            {"type": "AMA PRA Category 1 Credit™", "hours": "1.00"},
            {"type": "ANCC Nursing Contact Hours", "hours": "1.00"},
        ],
    }
    assert data["sessions"][1]["track"] == "Imaging"
    listed = client.get("/api/activities/", {"include_past": "1"}).json()["results"]
    assert [item["sessions"] for item in listed if item["slug"] == course.slug] == [data["sessions"]]


def test_the_api_list_reads_sessions_in_one_query_whatever_the_page(client, provider_a):
    def queries(count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            body = client.get("/api/activities/", {"include_past": "1", "page_size": 50}).json()
        assert len(body["results"]) == count
        return len(captured)

    first = ActivityFactory(provider=provider_a, activity_type="course", format="in_person", sessions=[])
    add_sessions(first, 1)
    few = queries(1)
    for _ in range(4):
        add_sessions(
            ActivityFactory(provider=provider_a, activity_type="course", format="in_person", sessions=[]), 3
        )
    assert queries(5) == few
