"""Sessions in the admin: an inline on the activity, their own page with credit hours, and the repeating
schedule; editors write, viewers read, other providers' sessions are 404, and every change is audited."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from activities.models import Session, SessionCredit
from portal.models import AuditEntry
from tests.activities.test_admin import activity_form, change_url
from tests.factories import ActivityFactory
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def live(provider, **fields):
    start = dt.datetime(2027, 1, 4, 8, tzinfo=CHICAGO)
    values = {
        "provider": provider,
        "activity_type": "rss",
        "format": "in_person",
        "start": start,
        "end": start + dt.timedelta(days=180),
        "sessions": [],
        **fields,
    }
    return ActivityFactory(**values)


@pytest.fixture
def series_a(provider_a):
    return live(provider_a, title="Grand rounds A")


@pytest.fixture
def series_b(provider_b):
    return live(provider_b, title="Grand rounds B")


def session_at(activity, hours_after=0) -> Session:
    start = activity.start + dt.timedelta(hours=hours_after)
    return Session.objects.create(
        activity=activity, start=start, end=start + dt.timedelta(hours=1), venue="Hall", from_listing=True
    )


def with_session_forms(activity, sessions=(), new=None, delete=()):
    data = activity_form(activity)
    rows = list(sessions) + ([new] if new else [])
    data["sessions-TOTAL_FORMS"] = str(len(rows))
    data["sessions-INITIAL_FORMS"] = str(len(sessions))
    for n, row in enumerate(rows):
        if isinstance(row, Session):
            local = row.local_start
            row = {
                "id": row.pk,
                "activity": activity.pk,
                "start_0": local.strftime("%Y-%m-%d"),
                "start_1": f"{local.hour:02d}:00:00",
                "end_0": local.strftime("%Y-%m-%d"),
                "end_1": f"{local.hour + 1:02d}:00:00",
                "time_zone": row.time_zone,
                "venue": "Renamed hall",
                **({"DELETE": "on"} if row.pk in delete else {}),
            }
        data.update({f"sessions-{n}-{key}": value for key, value in row.items()})
    return data


def new_session(activity, **fields):
    return {
        "activity": activity.pk,
        "start_0": "2027-01-11",
        "start_1": "07:00:00",
        "end_0": "2027-01-11",
        "end_1": "08:00:00",
        "time_zone": "America/Chicago",
        "venue": "Room 3",
        **fields,
    }


def post_ok(client, url, data):
    response = client.post(url, data)
    errors = (
        response.context["adminform"].form.errors
        if response.context and "adminform" in response.context
        else ""
    )
    assert response.status_code == 302, (
        errors,
        page_text(response)[:2000] if response.status_code == 200 else "",
    )
    return response


# --- The inline ----------------------------------------------------------------------------------------


def test_an_editor_adds_changes_and_deletes_sessions_inline_and_each_is_audited(
    as_staff_a, series_a, staff_a
):
    kept, gone = session_at(series_a), session_at(series_a, 2)
    post_ok(
        as_staff_a,
        change_url(series_a),
        with_session_forms(series_a, [kept, gone], new_session(series_a), delete={gone.pk}),
    )

    assert sorted(series_a.sessions.values_list("venue", flat=True)) == ["Renamed hall", "Room 3"]
    kept.refresh_from_db()
    assert not kept.from_listing  # staff's now: a re-import leaves it alone
    actions = sorted(AuditEntry.objects.filter(action__startswith="session.").values_list("action", "actor"))
    assert actions == [
        ("session.added", staff_a.pk),
        ("session.changed", staff_a.pk),
        ("session.deleted", staff_a.pk),
    ]


def test_an_inline_session_ending_before_it_starts_is_an_error_on_its_end(as_staff_a, series_a):
    response = as_staff_a.post(
        change_url(series_a), with_session_forms(series_a, new=new_session(series_a, end_1="06:00:00"))
    )
    assert response.status_code == 200
    assert "end" in response.context["inline_admin_formsets"][-1].formset.errors[0]
    assert not series_a.sessions.exists()


def test_the_mixed_role_user_cannot_write_to_bs_sessions(client, mixed_role, series_b):
    session = session_at(series_b)
    before = list(Session.objects.values())
    client.force_login(mixed_role)

    assert client.get(change_url(series_b)).status_code == 200  # a viewer at B reads
    response = client.post(
        change_url(series_b), with_session_forms(series_b, [session], new_session(series_b))
    )
    assert response.status_code == 403
    assert client.post(change_url(session), {"activity": series_b.pk, "venue": "Mine now"}).status_code == 403
    response = client.post(reverse("admin:activities_session_delete", args=[session.pk]), {"post": "yes"})
    assert response.status_code == 403
    response = client.post(
        reverse("admin:activities_activity_schedule", args=[series_b.pk]), schedule_form(confirm="1")
    )
    assert response.status_code == 403
    # Adding a session to B's activity from the session page: B's activities are no choice of hers.
    response = client.post(reverse("admin:activities_session_add"), {**new_session(series_b), **CREDITS_NONE})
    assert response.status_code == 200 and "activity" in response.context["adminform"].form.errors
    assert list(Session.objects.values()) == before
    assert not AuditEntry.objects.filter(action__startswith="session.").exists()


def test_a_viewer_reads_sessions_and_another_provider_gets_404(client, viewer_a, staff_b, series_a):
    session = session_at(series_a)
    client.force_login(viewer_a)
    assert client.get(change_url(session)).status_code == 200
    assert client.post(change_url(session), {"activity": series_a.pk}).status_code == 403
    client.force_login(staff_b)
    assert client.get(change_url(session)).status_code == 404
    assert client.get(reverse("admin:activities_activity_schedule", args=[series_a.pk])).status_code == 404


CREDITS_NONE = {"credits-TOTAL_FORMS": "0", "credits-INITIAL_FORMS": "0"}


def test_credit_hours_on_the_sessions_page_stay_within_the_designation(as_staff_a, series_a, staff_a):
    session = session_at(series_a)
    url = change_url(session)
    local = session.local_start
    base = {
        "activity": series_a.pk,
        "start_0": local.strftime("%Y-%m-%d"),
        "start_1": local.strftime("%H:%M:%S"),
        "end_0": local.strftime("%Y-%m-%d"),
        "end_1": "09:00:00",
        "time_zone": "America/Chicago",
        "venue": "Hall",
        "credits-TOTAL_FORMS": "1",
        "credits-INITIAL_FORMS": "0",
        "credits-0-session": session.pk,
        "credits-0-credit_type": "ama_pra_1",
    }
    response = as_staff_a.post(url, {**base, "credits-0-hours": "2.00"})  # the activity designates 1.50
    assert response.status_code == 200
    assert "hours" in response.context["inline_admin_formsets"][0].formset.errors[0]
    assert not SessionCredit.objects.exists()

    post_ok(as_staff_a, url, {**base, "credits-0-hours": "1.00"})
    assert SessionCredit.objects.get().hours == 1
    assert AuditEntry.objects.get(action="session.changed").actor == staff_a


# --- The repeating schedule ----------------------------------------------------------------------------


def schedule_form(**fields):
    return {
        "weekday": "1",
        "every_weeks": "1",
        "start_time": "07:00",
        "end_time": "08:00",
        "first": "2027-01-01",
        "last": "2027-06-30",
        "skip": "2027-03-16, 2027-03-23",
        "time_zone": "America/Chicago",
        "venue": "Grand Rounds Hall",
        "city": "Chicago",
        "state": "IL",
        "country": "US",
        **fields,
    }


def test_the_schedule_is_previewed_then_added(as_staff_a, series_a, staff_a):
    url = reverse("admin:activities_activity_schedule", args=[series_a.pk])
    assert "Add a repeating schedule" in page_text(as_staff_a.get(change_url(series_a)))

    preview = as_staff_a.post(url, schedule_form(preview="1"))
    assert preview.status_code == 200
    assert "would add 24 sessions, Jan 5, 2027 – Jun 29, 2027" in page_text(preview)
    assert not series_a.sessions.exists()

    response = as_staff_a.post(url, schedule_form(confirm="1"))
    assert response.status_code == 302
    added = list(series_a.sessions.all())
    assert len(added) == 24
    assert {s.local_start.strftime("%a %H:%M") for s in added} == {"Tue 07:00"}
    assert added[0].place == "Grand Rounds Hall, Chicago, IL, US"
    assert AuditEntry.objects.get(action="session.scheduled").actor == staff_a


def test_a_schedule_past_12_months_is_refused(as_staff_a, series_a):
    url = reverse("admin:activities_activity_schedule", args=[series_a.pk])
    response = as_staff_a.post(url, schedule_form(last="2028-02-01", confirm="1"))
    assert response.status_code == 200
    assert "at most 12 months" in page_text(response)
    assert not series_a.sessions.exists()


def test_schedule_form_errors_name_the_field(as_staff_a, series_a):
    url = reverse("admin:activities_activity_schedule", args=[series_a.pk])
    response = as_staff_a.post(
        url, schedule_form(end_time="06:00", time_zone="Mars/Olympus", skip="someday", venue="", preview="1")
    )
    errors = response.context["form"].errors
    assert {"end_time", "time_zone", "skip", "venue"} <= set(errors)


def test_an_imported_session_without_a_venue_does_not_block_saving_the_activity(as_staff_a, series_a):
    imported = Session.objects.create(
        activity=series_a,
        start=series_a.start,
        end=series_a.start + dt.timedelta(hours=1),
        time_zone="UTC",
        from_listing=True,
    )
    data = activity_form(series_a, title="Renamed")
    local = imported.local_start
    data.update(
        {
            "sessions-TOTAL_FORMS": "1",
            "sessions-INITIAL_FORMS": "1",
            "sessions-0-id": imported.pk,
            "sessions-0-activity": series_a.pk,
            "sessions-0-start_0": local.strftime("%Y-%m-%d"),
            "sessions-0-start_1": local.strftime("%H:%M:%S"),
            "sessions-0-end_0": local.strftime("%Y-%m-%d"),
            "sessions-0-end_1": imported.local_end.strftime("%H:%M:%S"),
            "sessions-0-time_zone": "UTC",
        }
    )
    post_ok(as_staff_a, change_url(series_a), data)
    imported.refresh_from_db()
    assert imported.from_listing  # unchanged, so still the import's
    assert not AuditEntry.objects.filter(action__startswith="session.").exists()


def test_times_are_typed_and_shown_in_the_sessions_own_time_zone(as_staff_a, series_a):
    post_ok(
        as_staff_a,
        change_url(series_a),
        with_session_forms(series_a, new=new_session(series_a, time_zone="America/New_York")),
    )
    session = series_a.sessions.get()
    assert session.start == dt.datetime(2027, 1, 11, 12, tzinfo=dt.UTC)  # 07:00 in New York
    assert session.local_start.hour == 7
    page = as_staff_a.get(change_url(session)).content.decode()
    assert 'value="07:00:00"' in page


@pytest.mark.parametrize("zone", ["Mars/Olympus", "²", "../etc", ""])
def test_an_unknown_time_zone_is_an_error_on_its_field(as_staff_a, series_a, zone):
    response = as_staff_a.post(
        reverse("admin:activities_session_add"), {**new_session(series_a, time_zone=zone), **CREDITS_NONE}
    )
    assert response.status_code == 200
    assert "time_zone" in response.context["adminform"].form.errors
    assert not Session.objects.exists()
