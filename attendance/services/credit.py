"""Credit per session attended, and when each session's credit can be claimed.

A live activity's claim covers the sessions the learner attended: each session carries hours per credit
type (``SessionCredit``), and the claimable maximum is the sum over the sessions claimed, never more than the
activity designates in all. A credit type no session states hours for is shared equally between the
activity's sessions (rounded down to the credit type's steps), so a one-session activity carries its whole
designation.

A session's credit can be claimed from the session's end until ``claim_deadline``: the activity's
``claim_days`` after the session (90 by default), and never after 31 March of the next year, when the
year's reporting in PARS closes (ACCME FAQ, "How do I complete the annual reporting requirement?": the
activities of a year, with their learner counts, are entered and closed by March 31 of the following year,
https://www.accme.org/faq/how-do-i-complete-annual-reporting-requirement). Staff may extend the
window for one learner (``ClaimWindowExtension``). Enduring materials keep their rule: from release to
expiry.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from enum import Enum

from django.utils import formats
from django.utils.translation import gettext as _

from activities.models import Activity, CreditDesignation, Session, SessionCredit
from attendance.models import Attendance, ClaimWindowExtension
from learners.models import ClaimedSession, Enrollment

PARS_CUTOFF = (3, 31)  # month, day of the year after the session


class State(Enum):
    CLAIMABLE = "claimable"
    CLAIMED = "claimed"
    NOT_ATTENDED = "not_attended"
    NOT_ENDED = "not_ended"
    CLOSED = "closed"


@dataclass
class SessionStanding:
    """One session of the activity as the learner's claim sees it."""

    session: Session
    state: State
    hours: dict[str, Decimal]
    deadline: dt.date
    attendance: Attendance | None = None

    @property
    def claimable(self) -> bool:
        return self.state is State.CLAIMABLE

    @property
    def field(self) -> str:
        return f"session_{self.session.pk}"

    def describe(self) -> str:
        """The session as a learner reads it: "Tue, Mar 3, 2026, 7:00–8:00 (America/Chicago) · Track A"."""
        start, end = self.session.local_start, self.session.local_end
        day, opens, closes = (
            formats.date_format(start, "D, M j, Y"),
            formats.time_format(start, "G:i"),
            formats.time_format(end, "G:i"),
        )
        text = f"{day}, {opens}–{closes} ({self.session.time_zone})"
        return f"{text} · {self.session.track}" if self.session.track else text

    def message(self) -> str:
        """Why the session's credit cannot be claimed now ("" when it can)."""
        if self.state is State.NOT_ENDED:
            return _("Its credit can be claimed from %(when)s, when it ends.") % {
                "when": formats.date_format(self.session.local_end, "M j, Y, G:i")
            }
        if self.state is State.CLOSED:
            return _("The time to claim its credit ended on %(day)s.") % {
                "day": formats.date_format(self.deadline)
            }
        if self.state is State.NOT_ATTENDED:
            return _("No attendance is recorded for you.")
        if self.state is State.CLAIMED:
            return _("Claimed.")
        return ""


@dataclass
class Standings:
    """Every session of a live activity for one learner, and what they may still claim."""

    sessions: list[SessionStanding]
    designated: dict[str, Decimal]
    claimed: dict[str, Decimal] = field(default_factory=dict)  # amounts the learner already claimed

    @property
    def claimable(self) -> list[SessionStanding]:
        return [s for s in self.sessions if s.claimable]

    @property
    def attended(self) -> list[SessionStanding]:
        return [s for s in self.sessions if s.attendance is not None]

    def cap(self, chosen: list[SessionStanding]) -> dict[str, Decimal]:
        """The most of each credit type a claim of ``chosen`` sessions can add: their hours, never past the
        designation with what was claimed before."""
        caps = {}
        for code, designated in self.designated.items():
            hours = sum((s.hours.get(code, Decimal(0)) for s in chosen), Decimal(0))
            caps[code] = max(Decimal(0), min(hours, designated - self.claimed.get(code, Decimal(0))))
        return caps

    def refusal(self, *, contact: str) -> str:
        """Why nothing can be claimed now, in words for the learner, naming whom to ask."""
        ask = _("If this is wrong, ask %(contact)s.") % {"contact": contact}
        attended = self.attended
        if not self.sessions:
            return _("This activity has no sessions on record yet.") + " " + ask
        if not attended:
            return _("No attendance is recorded for you at this activity's sessions.") + " " + ask
        waiting = [s for s in attended if s.state is State.NOT_ENDED]
        if waiting:
            return _("You checked in. Credit can be claimed from %(when)s, when the session ends.") % {
                "when": formats.date_format(waiting[0].session.local_end, "M j, Y, G:i")
            }
        closed = [s for s in attended if s.state is State.CLOSED]
        if closed:
            return (
                _("The time to claim credit for the sessions you attended ended on %(day)s.")
                % {"day": formats.date_format(max(s.deadline for s in closed))}
                + " "
                + _("Ask %(contact)s if you need more time.") % {"contact": contact}
            )
        return _("You have claimed credit for every session you attended.")


def claim_deadline(session: Session, activity: Activity, *, extended_until: dt.date | None = None) -> dt.date:
    """The last day (in the session's time zone) its credit can be claimed."""
    day = session.local_end.date()
    deadline = min(day + dt.timedelta(days=activity.claim_days), dt.date(day.year + 1, *PARS_CUTOFF))
    if extended_until is not None:
        deadline = max(deadline, extended_until)
    return deadline


def window_closed(session: Session, deadline: dt.date, at: dt.datetime) -> bool:
    return at.astimezone(session.zone).date() > deadline


def extension_for(enrollment: Enrollment) -> dt.date | None:
    """The furthest day staff extended this learner's claim window to, or None."""
    return (
        ClaimWindowExtension.objects.filter(enrollment=enrollment)
        .order_by("-until")
        .values_list("until", flat=True)
        .first()
    )


def session_hours(
    activity: Activity, sessions: list[Session], designations: list[CreditDesignation]
) -> dict[int, dict[str, Decimal]]:
    """The hours of each credit type each session carries (see the module's docstring)."""
    stated: dict[int, dict[str, Decimal]] = {s.pk: {} for s in sessions}
    for row in SessionCredit.objects.filter(session__activity=activity):
        stated.setdefault(row.session_id, {})[row.credit_type_id] = row.hours
    with_rows = {code for hours in stated.values() for code in hours}
    hours: dict[int, dict[str, Decimal]] = {}
    for session in sessions:
        own = {}
        for designation in designations:
            code = designation.credit_type_id
            if code in with_rows:
                own[code] = stated[session.pk].get(code, Decimal(0))
            else:
                step = designation.increment
                share = designation.max_amount / len(sessions)
                own[code] = (share / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step
        hours[session.pk] = own
    return hours


def standings(enrollment: Enrollment, *, at: dt.datetime, ignore_window: bool = False) -> Standings:
    """Each session of ``enrollment``'s live activity: attended or not, claimed, claimable at ``at``, or
    why not. ``ignore_window`` (staff recording a claim) treats an attended, ended session as claimable
    after its deadline."""
    activity = enrollment.activity
    sessions = list(activity.sessions.order_by("start", "track", "pk"))
    designations = list(activity.credits.select_related("credit_type"))
    hours = session_hours(activity, sessions, designations)
    attendance = {a.session_id: a for a in Attendance.objects.filter(enrollment=enrollment)}
    claimed_ids = set(
        ClaimedSession.objects.filter(claim__enrollment=enrollment).values_list("session_id", flat=True)
    )
    claimed_amounts: dict[str, Decimal] = {}
    claim = getattr(enrollment, "claim", None) if enrollment.pk else None
    if claim is not None:
        claimed_amounts = {c.credit_type_id: c.amount for c in claim.credits.all()}
    extended = extension_for(enrollment)
    rows = []
    for session in sessions:
        deadline = claim_deadline(session, activity, extended_until=extended)
        present = attendance.get(session.pk)
        if session.pk in claimed_ids:
            state = State.CLAIMED
        elif present is None:
            state = State.NOT_ATTENDED
        elif at < session.end:
            state = State.NOT_ENDED
        elif window_closed(session, deadline, at) and not ignore_window:
            state = State.CLOSED
        else:
            state = State.CLAIMABLE
        rows.append(SessionStanding(session, state, hours[session.pk], deadline, present))
    return Standings(rows, {d.credit_type_id: d.max_amount for d in designations}, claimed_amounts)


def contact_for(activity: Activity) -> str:
    """Whom a learner asks about attendance or a claim: the provider's contact email, or the provider."""
    provider = activity.provider
    if provider.contact_email:
        return _("%(provider)s at %(email)s") % {"provider": provider.name, "email": provider.contact_email}
    return provider.name
