"""Learners checking in to a session: by the rotating code on the room's screen or the fixed code staff
opened, inside the session's check-in window, once per learner and session however many requests arrive
at once. A learner not yet enrolled is enrolled on the way in (within the activity's capacity): walk-ins
get credit too. Repeated wrong codes are throttled per learner and session."""

import datetime as dt
import hmac
from dataclasses import dataclass

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from activities.models import Activity, Session
from attendance import codes
from attendance.models import Attendance, SessionCheckin
from learners.models import Enrollment
from learners.services.enrollments import EnrollmentError, enroll
from portal import audit
from portal.models import User

MAX_WRONG = 5  # wrong codes a learner may enter for one session ...
WRONG_WINDOW = 10 * 60  # ... within this many seconds, before check-in is refused until it passes


class CheckinError(Exception):
    """Why a check-in was refused, in words for the learner."""


@dataclass(frozen=True)
class CheckinResult:
    attendance: Attendance
    created: bool  # False: the learner had already checked in
    enrolled: bool  # the check-in enrolled a walk-in


def window(session: Session, activity: Activity) -> tuple[dt.datetime, dt.datetime]:
    """When check-in for ``session`` opens and closes."""
    return (
        session.start - dt.timedelta(minutes=activity.checkin_opens_minutes),
        session.end + dt.timedelta(minutes=activity.checkin_closes_minutes),
    )


def checkin_for(session: Session) -> SessionCheckin:
    """The session's check-in point, made on first use."""
    checkin, _created = SessionCheckin.objects.get_or_create(session=session)
    return checkin


def _throttle_key(learner: User, checkin: SessionCheckin) -> str:
    return f"checkin-wrong:{checkin.pk}:{learner.pk}"


def _wrong_codes(learner: User, checkin: SessionCheckin) -> int:
    return cache.get(_throttle_key(learner, checkin), 0)


def _count_wrong(learner: User, checkin: SessionCheckin) -> None:
    key = _throttle_key(learner, checkin)
    cache.add(key, 0, WRONG_WINDOW)  # the window starts at the first wrong code
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WRONG_WINDOW)


def _judge_code(checkin: SessionCheckin, code: str, at: dt.datetime) -> tuple[codes.Verdict, str]:
    """The code's verdict, and the source of the check-in when it is accepted."""
    typed, fixed = codes.normalise(code), codes.normalise(checkin.fixed_code)
    if fixed and typed.isascii() and fixed.isascii() and hmac.compare_digest(typed, fixed):
        return codes.Verdict.CURRENT, Attendance.Source.FIXED
    return codes.judge(checkin.secret, typed, at), Attendance.Source.SCREEN


def check_in(
    *, learner: User, checkin: SessionCheckin, code: str, at: dt.datetime | None = None
) -> CheckinResult:
    """Check ``learner`` in to ``checkin``'s session with ``code``; raises ``CheckinError``.

    Refused: outside the window, after too many wrong codes, with an expired or wrong code, a draft
    activity, or a full one for a learner not yet enrolled. A second check-in returns the first."""
    at = at or timezone.now()
    session = checkin.session
    activity = session.activity
    opens, closes = window(session, activity)
    already = Attendance.objects.filter(session=session, enrollment__learner=learner).first()
    if already is not None:
        return CheckinResult(already, created=False, enrolled=False)
    if at < opens:
        raise CheckinError(
            _("Check-in for this session opens at %(when)s.")
            % {"when": formats.date_format(opens.astimezone(session.zone), "M j, G:i")}
        )
    if at > closes:
        raise CheckinError(
            _(
                "Check-in for this session closed at %(when)s. If you attended, ask the organizers to record it."
            )
            % {"when": formats.date_format(closes.astimezone(session.zone), "M j, G:i")}
        )
    if _wrong_codes(learner, checkin) >= MAX_WRONG:
        raise CheckinError(
            _(
                "Too many wrong codes. Wait a few minutes and try again, or ask the organizers to check you in."
            )
        )
    verdict, source = _judge_code(checkin, code, at)
    if verdict is codes.Verdict.EXPIRED:
        raise CheckinError(_("That code has expired. Scan or type the code on the screen now."))
    if verdict is codes.Verdict.WRONG:
        _count_wrong(learner, checkin)
        raise CheckinError(_("That code is not right. Type the code on the screen now."))
    return record(learner=learner, session=session, at=at, source=source, actor=learner)


def record(
    *,
    learner: User,
    session: Session,
    at: dt.datetime,
    source: str,
    actor: User | None,
    reason: str = "",
) -> CheckinResult:
    """Store ``learner``'s attendance at ``session`` (enrolling them first when needed), once; audited.

    The caller has checked the code, or is staff recording it (``source`` staff, roster or invitation,
    with a ``reason``)."""
    activity = session.activity
    with transaction.atomic():
        enrollment = Enrollment.objects.filter(learner=learner, activity=activity).first()
        enrolled = False
        if enrollment is None:
            try:
                enrollment, enrolled = enroll(
                    learner=learner,
                    activity=activity,
                    at=min(at, activity.end),  # checking in just after the last session still enrolls
                )
            except EnrollmentError as exc:
                raise CheckinError(str(exc)) from None
        try:
            with transaction.atomic():
                attendance = Attendance.objects.create(
                    session=session,
                    enrollment=enrollment,
                    checked_in_at=at,
                    source=source,
                    recorded_by=actor
                    if source not in (Attendance.Source.SCREEN, Attendance.Source.FIXED)
                    else None,
                    reason=reason,
                )
        except IntegrityError:  # the same learner, a moment ago, in another request
            return CheckinResult(
                Attendance.objects.get(session=session, enrollment=enrollment), created=False, enrolled=False
            )
        audit.record(
            actor=actor,
            action=audit.AuditAction.ATTENDANCE_CHECKED_IN
            if source in (Attendance.Source.SCREEN, Attendance.Source.FIXED)
            else audit.AuditAction.ATTENDANCE_RECORDED,
            obj=attendance,
            provider_id=activity.provider_id,
            data={"session": session.pk, "source": source, **({"reason": reason} if reason else {})},
        )
    return CheckinResult(attendance, created=True, enrolled=enrolled)
