"""Sessions of live activities: the repeating schedule staff add in the admin, and the session an import makes.

Services write (``schedule_sessions``, ``sync_listing_sessions``); the schedule itself is worked out by
``plan_schedule``, a plain function, so the admin can preview exactly what would be created.
"""

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from activities import rules
from activities.models import Activity, Session
from portal import audit
from portal.audit import Actor

MAX_SCHEDULED = 200  # sessions one schedule may add: a weekly series for a year is 53


class SessionError(Exception):
    """A schedule that cannot be added; the message is fit to show staff."""


@dataclass(frozen=True)
class Schedule:
    """ "Every <weekday> <start>–<end> from <first> to <last>", every ``every_weeks`` weeks, skipping dates."""

    weekday: int  # Monday is 0
    start_time: dt.time
    end_time: dt.time
    first: dt.date
    last: dt.date
    time_zone: str
    every_weeks: int = 1
    skip: frozenset[dt.date] = field(default_factory=frozenset)
    online: bool = False
    venue: str = ""
    city: str = ""
    state: str = ""
    country: str = ""
    track: str = ""


@dataclass(frozen=True)
class Plan:
    starts: list[tuple[dt.datetime, dt.datetime]]

    def summary(self) -> str:
        if not self.starts:
            return _("would add no sessions")
        first, last = self.starts[0][0], self.starts[-1][0]
        return _("would add %(count)d sessions, %(first)s – %(last)s") % {
            "count": len(self.starts),
            "first": f"{first:%b} {first.day}, {first.year}",
            "last": f"{last:%b} {last.day}, {last.year}",
        }


def plan_schedule(schedule: Schedule) -> Plan:
    """The (start, end) of each session ``schedule`` describes, aware in its time zone. Raises
    ``SessionError`` for a schedule that describes nothing sensible."""
    try:
        zone = zoneinfo.ZoneInfo(schedule.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SessionError(_("%(zone)s is not a known time zone.") % {"zone": schedule.time_zone}) from None
    if schedule.end_time <= schedule.start_time:
        raise SessionError(_("A session must end after it starts."))
    if schedule.last < schedule.first:
        raise SessionError(_("The last date is before the first."))
    if schedule.every_weeks < 1:
        raise SessionError(_("Repeat every one week or more."))
    day = schedule.first + dt.timedelta(days=(schedule.weekday - schedule.first.weekday()) % 7)
    starts = []
    while day <= schedule.last:
        if day not in schedule.skip:
            starts.append(
                (
                    dt.datetime.combine(day, schedule.start_time, tzinfo=zone),
                    dt.datetime.combine(day, schedule.end_time, tzinfo=zone),
                )
            )
            if len(starts) > MAX_SCHEDULED:
                raise SessionError(_("A schedule adds at most %(max)d sessions.") % {"max": MAX_SCHEDULED})
        day += dt.timedelta(weeks=schedule.every_weeks)
    return Plan(starts)


def series_error(*, activity: Activity, starts: Iterable[dt.datetime]) -> str | None:
    """Why sessions starting at ``starts`` (with the activity's current ones) break the 12-month rule."""
    moments = sorted(starts)
    if not moments:
        return None
    first, last = moments[0], moments[-1]
    bounds = activity.sessions.order_by("start").values_list("start", flat=True)
    stored = list(bounds[:1]) + list(activity.sessions.order_by("-start").values_list("start", flat=True)[:1])
    if stored:
        first, last = min(first, *stored), max(last, *stored)
    return rules.series_span_error(activity_type=activity.activity_type, first=first, last=last)


def schedule_sessions(*, activity: Activity, schedule: Schedule, actor: Actor) -> list[Session]:
    """Add the sessions ``schedule`` describes to ``activity`` in one transaction, with one audit entry.
    Raises ``SessionError`` (nothing added) for an empty schedule or one breaking the 12-month rule."""
    plan = plan_schedule(schedule)
    if not plan.starts:
        raise SessionError(_("The schedule has no dates."))
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if not activity.is_live:
            raise SessionError(_("Only a live activity has sessions."))
        problem = series_error(activity=activity, starts=[start for start, _end in plan.starts])
        if problem:
            raise SessionError(problem)
        sessions = Session.objects.bulk_create(
            [
                Session(
                    activity=activity,
                    start=start,
                    end=end,
                    time_zone=schedule.time_zone,
                    online=schedule.online,
                    venue=schedule.venue,
                    city=schedule.city,
                    state=schedule.state,
                    country=schedule.country,
                    track=schedule.track,
                )
                for start, end in plan.starts
            ]
        )
        audit.record(
            actor=actor,
            action=audit.AuditAction.SESSION_SCHEDULED,
            obj=activity,
            provider_id=activity.provider_id,
            data={
                "count": len(sessions),
                "first": plan.starts[0][0].isoformat(),
                "last": plan.starts[-1][0].isoformat(),
            },
        )
    return sessions


ONLINE_FORMATS = frozenset({"online", "live_online"})


def _zone_name(moment: dt.datetime) -> str:
    zone = moment.tzinfo
    return zone.key if isinstance(zone, zoneinfo.ZoneInfo) else "UTC"


def sync_listing_sessions(activities: list[Activity], *, now: dt.datetime) -> set[int]:
    """Inside the import's transaction: give each live activity without sessions one from its listing's dates,
    and keep the import's own session in step while staff have not edited it. Staff sessions are never
    touched. Two queries and at most two bulk statements for the batch; returns the ids of activities whose
    sessions changed."""
    live = [activity for activity in activities if activity.is_live]
    if not live:
        return set()
    counts: dict[int, int] = {}
    own: dict[int, Session] = {}
    for session in Session.objects.filter(activity_id__in=[a.pk for a in live]):
        counts[session.activity_id] = counts.get(session.activity_id, 0) + 1
        if session.from_listing:
            own[session.activity_id] = session
    create, update, changed = [], [], set()
    for activity in live:
        online = activity.format in ONLINE_FORMATS
        wanted = {"start": activity.start, "end": activity.end, "online": online}
        if activity.pk not in counts:
            if activity.end > activity.start:
                create.append(
                    Session(
                        activity_id=activity.pk,
                        time_zone=_zone_name(activity.start),
                        from_listing=True,
                        created=now,
                        modified=now,
                        **wanted,
                    )
                )
                changed.add(activity.pk)
            continue
        mine = own.get(activity.pk)
        if mine is None or counts[activity.pk] != 1 or activity.end <= activity.start:
            continue
        if any(getattr(mine, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(mine, name, value)
            mine.modified = now
            update.append(mine)
            changed.add(activity.pk)
    if create:
        Session.objects.bulk_create(create)
    if update:
        # INSERT ... ON CONFLICT (id) DO UPDATE: one statement, far cheaper than bulk_update's CASE per row.
        Session.objects.bulk_create(
            update,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["start", "end", "online", "modified"],
        )
    return changed


def record_session_edits(
    *, added: list[Session], changed: list[Session], deleted: list[Session], actor: Actor
) -> None:
    """Save sessions staff added or changed in the admin (a changed one is staff's from then on, so the
    import leaves it alone), delete the ones they removed, and audit each, in the caller's transaction."""
    for session in deleted:
        audit.record(
            actor=actor,
            action=audit.AuditAction.SESSION_DELETED,
            obj=session,
            provider_id=session.activity.provider_id,
            data={"via": "admin"},
        )
        session.delete()
    edits = [(session, True) for session in added] + [(session, False) for session in changed]
    for session, _new in edits:
        session.from_listing = False
        session.save()
    if edits:
        audit.record_many(
            actor=actor,
            entries=[
                (
                    audit.AuditAction.SESSION_ADDED if new else audit.AuditAction.SESSION_CHANGED,
                    session,
                    session.activity.provider_id,
                    {"via": "admin"},
                )
                for session, new in edits
            ],
        )
