"""The import gives a live activity one session from its listing's dates, and never touches staff's sessions."""

import datetime as dt

import pytest

from activities.listing import parse_listing
from activities.models import Activity, Session
from activities.services import import_listing
from tests.activities.test_import import variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_text(seed_text) -> bytes:
    return variant(
        seed_text,
        ("Activity Type: Enduring Material", "Activity Type: Course"),
        ("CME Finder Type: Online Learning", "CME Finder Type: In Person"),
        ("- End Date: 2023-09-01 05:00:00", "- End Date: 2023-09-01 09:00:00"),
    )


def test_a_live_listing_gets_one_session_from_its_dates(live_text):
    result = import_listing(listing=parse_listing(live_text))
    session = Session.objects.get()
    assert result.status == "created"
    assert session.activity == result.activity
    assert (session.start, session.end) == (result.activity.start, result.activity.end)
    assert session.from_listing and not session.online


def test_an_enduring_listing_gets_no_session(seed_text):
    import_listing(listing=parse_listing(seed_text))
    assert not Session.objects.exists()


def test_a_reimport_is_idempotent(live_text):
    import_listing(listing=parse_listing(live_text))
    again = import_listing(listing=parse_listing(live_text))
    assert again.status == "unchanged"
    assert Session.objects.count() == 1


def test_a_revised_listing_moves_the_imports_own_session(live_text):
    import_listing(listing=parse_listing(live_text))
    revised = variant(live_text, ("- End Date: 2023-09-01 09:00:00", "- End Date: 2023-09-01 10:00:00"))
    result = import_listing(listing=parse_listing(revised))
    assert result.status == "updated"
    assert Session.objects.get().end == Activity.objects.get().end


def test_a_reimport_never_changes_or_deletes_sessions_staff_edited(live_text):
    import_listing(listing=parse_listing(live_text))
    session = Session.objects.get()
    Session.objects.filter(pk=session.pk).update(
        from_listing=False, venue="Main auditorium", end=session.start + dt.timedelta(hours=1)
    )
    before = list(Session.objects.values())
    revised = variant(live_text, ("- End Date: 2023-09-01 09:00:00", "- End Date: 2023-09-01 11:00:00"))
    import_listing(listing=parse_listing(revised))
    assert list(Session.objects.values()) == before


def test_a_reimport_leaves_an_activity_alone_once_staff_have_added_sessions(live_text):
    result = import_listing(listing=parse_listing(live_text))
    extra = Session.objects.get()
    Session.objects.create(
        activity=result.activity, start=extra.end, end=extra.end + dt.timedelta(hours=1), venue="Room 2"
    )
    before = list(Session.objects.order_by("pk").values())
    revised = variant(live_text, ("- End Date: 2023-09-01 09:00:00", "- End Date: 2023-09-01 11:00:00"))
    import_listing(listing=parse_listing(revised))
    assert list(Session.objects.order_by("pk").values()) == before
