"""The rules behind the check-in codes and window, at their edges: a code changes every 30 seconds, is still
accepted for one step after it left the screen, then is recognised as expired (for ten minutes) before it
is merely wrong; a replayed old code never checks anyone in; the window opens and closes exactly at the
activity's minutes before and after the session. The clock is frozen with time-machine."""

import datetime as dt

import pytest
import time_machine

from attendance import codes
from attendance.models import Attendance
from attendance.services.checkin import MAX_WRONG, CheckinError, check_in, window
from tests.attendance.conftest import END, START

pytestmark = pytest.mark.django_db

SECRET = "0f" * 32
STEP = dt.timedelta(seconds=codes.STEP)
# A step boundary inside the session: 14:10:00 UTC is a multiple of 30 s since the epoch.
BOUNDARY = START + dt.timedelta(minutes=10)


def test_the_step_boundary_is_where_the_code_changes():
    assert int(BOUNDARY.timestamp()) % codes.STEP == 0
    last = BOUNDARY - dt.timedelta(microseconds=1)
    assert codes.step_of(last) + 1 == codes.step_of(BOUNDARY)
    assert codes.current_code(SECRET, last) != codes.current_code(SECRET, BOUNDARY)
    assert codes.current_code(SECRET, BOUNDARY) == codes.current_code(
        SECRET, BOUNDARY + STEP - dt.timedelta(seconds=1)
    )
    assert codes.seconds_left(BOUNDARY) == codes.STEP
    assert codes.seconds_left(BOUNDARY + STEP - dt.timedelta(seconds=1)) == 1


def test_codes_are_six_digits_and_differ_by_secret():
    many = {codes.code_for(SECRET, step) for step in range(1000)}
    assert all(len(c) == 6 and c.isdigit() for c in many)
    assert len(many) > 990  # a few collisions in a million are expected, not a pattern
    assert codes.code_for(SECRET, 7) != codes.code_for("a" * 64, 7)


def test_a_code_is_accepted_through_the_next_step_then_expired_then_wrong():
    shown = codes.current_code(SECRET, BOUNDARY)
    tiny = dt.timedelta(microseconds=1)
    assert codes.judge(SECRET, shown, BOUNDARY) is codes.Verdict.CURRENT
    assert codes.judge(SECRET, shown, BOUNDARY + STEP) is codes.Verdict.CURRENT  # the grace step begins
    assert codes.judge(SECRET, shown, BOUNDARY + 2 * STEP - tiny) is codes.Verdict.CURRENT  # ... and ends
    assert codes.judge(SECRET, shown, BOUNDARY + 2 * STEP) is codes.Verdict.EXPIRED
    recognised = (codes.RECOGNISED_STEPS + 1) * STEP
    assert codes.judge(SECRET, shown, BOUNDARY + recognised - tiny) is codes.Verdict.EXPIRED
    assert codes.judge(SECRET, shown, BOUNDARY + recognised) is codes.Verdict.WRONG
    # Tomorrow's code is not today's.
    assert codes.judge(SECRET, codes.current_code(SECRET, BOUNDARY + STEP), BOUNDARY) is codes.Verdict.WRONG


def test_typing_with_spaces_or_a_dash_is_the_same_code():
    shown = codes.current_code(SECRET, BOUNDARY)
    for typed in (f"{shown[:3]} {shown[3:]}", f"{shown[:3]}-{shown[3:]}", f" {shown} "):
        assert codes.judge(SECRET, typed, BOUNDARY) is codes.Verdict.CURRENT


@pytest.fixture
def learner(physician):
    return physician


def test_the_service_follows_the_clock(learner, point):
    """With no ``at``, the service reads the (frozen) clock: the code on the screen just before the change is
    still good just after it, and a minute later it is not."""
    shown = codes.current_code(point.secret, BOUNDARY - dt.timedelta(seconds=1))
    with (
        time_machine.travel(BOUNDARY + STEP + dt.timedelta(seconds=1), tick=False),
        pytest.raises(CheckinError) as late,
    ):
        check_in(learner=learner, checkin=point, code=shown)
    assert "expired" in str(late.value)
    with time_machine.travel(BOUNDARY + dt.timedelta(seconds=29), tick=False):
        result = check_in(learner=learner, checkin=point, code=shown)
    assert result.created and result.attendance.checked_in_at == BOUNDARY + dt.timedelta(seconds=29)


@pytest.mark.parametrize("steps_old", [2, 25])
def test_a_replayed_old_code_checks_no_one_in(learner, point, steps_old):
    """A photo of the screen sent outside: a minute old it is expired (and not counted as a guess); twelve
    minutes old it is no longer recognised and is simply wrong."""
    old = codes.current_code(point.secret, BOUNDARY - steps_old * STEP)
    if old in {codes.current_code(point.secret, BOUNDARY - n * STEP) for n in (0, 1)}:
        pytest.skip("the random secret repeated a recent code")
    message = "That code has expired." if steps_old <= codes.RECOGNISED_STEPS else "That code is not right."
    for _ in range(MAX_WRONG if steps_old == 2 else 1):
        with pytest.raises(CheckinError) as refused:
            check_in(learner=learner, checkin=point, code=old, at=BOUNDARY)
        assert str(refused.value).startswith(message)
    assert not Attendance.objects.exists()
    # Expired codes are not guesses: after five of them the current code still checks in.
    if steps_old == 2:
        assert check_in(
            learner=learner, checkin=point, code=codes.current_code(point.secret, BOUNDARY), at=BOUNDARY
        ).created


def _attempt(learner, point, at):
    return check_in(learner=learner, checkin=point, code=codes.current_code(point.secret, at), at=at)


def test_the_window_opens_exactly_thirty_minutes_before(learner, point, session):
    opens, closes = window(session, session.activity)
    assert (opens, closes) == (START - dt.timedelta(minutes=30), END + dt.timedelta(minutes=30))
    with pytest.raises(CheckinError, match="opens at Mar 3, 7:30"):
        _attempt(learner, point, opens - dt.timedelta(microseconds=1))
    assert _attempt(learner, point, opens).attendance.checked_in_at == opens


def test_the_window_closes_exactly_thirty_minutes_after(learner, physician_b, point, session):
    _, closes = window(session, session.activity)
    assert _attempt(learner, point, closes).created
    with pytest.raises(CheckinError, match="closed at Mar 3, 10:30"):
        _attempt(physician_b, point, closes + dt.timedelta(microseconds=1))
    assert Attendance.objects.count() == 1


def test_the_window_is_the_activitys_own(learner, physician_b, point, session, course):
    course.checkin_opens_minutes = 60
    course.checkin_closes_minutes = 0
    course.save()
    session.refresh_from_db()
    point.refresh_from_db()
    assert _attempt(learner, point, START - dt.timedelta(minutes=60)).created
    with pytest.raises(CheckinError, match="closed at Mar 3, 10:00"):
        _attempt(physician_b, point, END + dt.timedelta(seconds=1))


def test_a_code_with_letters_beyond_ascii_is_wrong_not_an_error():
    assert codes.judge("secret", "١٢٣٤٥٦", dt.datetime(2026, 3, 3, tzinfo=dt.UTC)) is codes.Verdict.WRONG
