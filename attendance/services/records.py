"""Staff fixing learners' attendance records: attendance added for a learner (or, by email, for someone with
no account yet), removed, imported from a sign-in sheet; a claim window extended for one learner; a
session's fixed check-in code set or cleared. Every change carries a reason (the fixed code excepted: it
records nothing about a learner) and is audited in its own transaction.

Each operation returns a ``Summary`` saying what it did and what it left alone and why, so the admin can
run it under ``portal.lib.dry_run`` for the preview ("2 learners would get 3 sessions, 1 not, because...")
and then run it for real. The services check nothing about the staff member's role: the admin loads the
objects through the provider-scoped admin and asks for the editor role first.

Sign-in sheets (``parse_roster``): CSV with the header ``email,name,sessions``. ``sessions`` names one or
more of the activity's sessions, separated by ``;``, each by its date in the session's time zone
(``2026-03-03``); when a day has several sessions, by the date and start time (``2026-03-03 13:00``) or the
date and the track (``2026-03-03 Track A``). A line naming an email twice for the same session is counted
as a duplicate, attendance already on record as already recorded: neither is an error.
"""

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activities.models import Activity, Session
from attendance.models import Attendance, ClaimWindowExtension, Invitation, SessionCheckin
from attendance.services import checkin, credit
from learners.models import ClaimedSession, Enrollment
from portal import audit
from portal.lib.csv import starts_like_formula
from portal.lib.field_errors import NON_FIELD, FieldErrors
from portal.models import User

logger = logging.getLogger(__name__)

MAX_REASON = 300
MAX_ROSTER_LINES = 2000  # a sign-in sheet, not a registry file
ROSTER_HEADER = ("email", "name", "sessions")


class RecordsError(FieldErrors):
    """A refused change: ``errors`` maps each form field (or ``__all__``) to why, in words for staff."""


@dataclass
class Summary:
    """What an operation did (or, under ``dry_run``, would do): who got which sessions, who was invited by
    email, what was on record already, and who got nothing and why."""

    added: dict[str, list[Session]] = field(default_factory=dict)  # learner or email -> sessions recorded
    invited: list[str] = field(default_factory=list)  # emails sent an invitation
    already: int = 0  # attendance (or invited sessions) already on record
    duplicates: int = 0  # the same email and session twice in one sheet
    refused: list[tuple[str, str]] = field(default_factory=list)  # (who, why)

    @property
    def sessions_added(self) -> int:
        return sum(len(sessions) for sessions in self.added.values())

    def text(self, *, preview: bool) -> str:
        """ "2 learners would get 3 sessions, 1 not, because ...", or what was done."""
        n, m, k = len(self.added), self.sessions_added, len(self.refused)
        if preview:
            head = ngettext("%(n)d learner would get %(m)s.", "%(n)d learners would get %(m)s.", n) % {
                "n": n,
                "m": ngettext("%d session", "%d sessions", m) % m,
            }
        else:
            head = ngettext("%(n)d learner got %(m)s.", "%(n)d learners got %(m)s.", n) % {
                "n": n,
                "m": ngettext("%d session", "%d sessions", m) % m,
            }
        parts = [head]
        if self.invited:
            parts.append(
                (
                    ngettext(
                        "%d would be invited by email.", "%d would be invited by email.", len(self.invited)
                    )
                    if preview
                    else ngettext("%d invited by email.", "%d invited by email.", len(self.invited))
                )
                % len(self.invited)
            )
        if self.already:
            parts.append(
                ngettext("%d already on record.", "%d already on record.", self.already) % self.already
            )
        if self.duplicates:
            parts.append(
                ngettext("%d duplicate line ignored.", "%d duplicate lines ignored.", self.duplicates)
                % self.duplicates
            )
        if k:
            parts.append(
                ngettext("%(k)d not, because: %(why)s", "%(k)d not, because: %(why)s", k)
                % {"k": k, "why": "; ".join(f"{who}: {why}" for who, why in self.refused)}
            )
        return " ".join(parts)


@dataclass(frozen=True)
class RosterLine:
    line: int
    email: str
    name: str
    sessions: list[Session]


def _reason(reason: str, *, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise RecordsError({"reason": what})
    if len(reason) > MAX_REASON:
        raise RecordsError({"reason": _("Keep the reason under %(n)d characters.") % {"n": MAX_REASON}})
    return reason


def _check_sessions(activity: Activity, sessions: Sequence[Session]) -> None:
    if not sessions:
        raise RecordsError({"sessions": _("Choose at least one session.")})
    if any(session.activity_id != activity.pk for session in sessions):
        raise RecordsError({"sessions": _("That session is not one of this activity's.")})


def describe(session: Session) -> str:
    """A session as staff read it in a summary: "2026-03-03 13:00 (UTC) · Track A"."""
    text = f"{session.local_start:%Y-%m-%d %H:%M} ({session.time_zone})"
    return f"{text} · {session.track}" if session.track else text


def _record_for(
    *, learner: User, sessions: Sequence[Session], by: User, reason: str, source: str, summary: Summary
) -> None:
    """Record ``learner`` at each of ``sessions`` not yet on record; counts go into ``summary``."""
    who = learner.email
    have = set(
        Attendance.objects.filter(enrollment__learner=learner, session__in=list(sessions)).values_list(
            "session_id", flat=True
        )
    )
    for session in sessions:
        if session.pk in have:
            summary.already += 1
            continue
        try:
            result = checkin.record(
                learner=learner, session=session, at=session.start, source=source, actor=by, reason=reason
            )
        except checkin.CheckinError as exc:
            summary.refused.append((who, str(exc)))
            return
        if result.created:
            summary.added.setdefault(who, []).append(session)
        else:
            summary.already += 1


def add_attendance(
    *, learner: User, sessions: Sequence[Session], by: User, reason: str, summary: Summary | None = None
) -> Summary:
    """Record ``learner`` as present at ``sessions`` (one activity's), enrolling them when needed (within
    the activity's capacity; a full activity is reported in the summary, not raised). Sessions already on
    record are counted, so a repeat changes nothing. Audited per attendance (``ATTENDANCE_RECORDED``)."""
    summary = summary if summary is not None else Summary()
    reason = _reason(reason, what=_("Say why the attendance is recorded by staff."))
    if not sessions:
        raise RecordsError({"sessions": _("Choose at least one session.")})
    _check_sessions(sessions[0].activity, sessions)
    with transaction.atomic():
        _record_for(
            learner=learner,
            sessions=sessions,
            by=by,
            reason=reason,
            source=Attendance.Source.STAFF,
            summary=summary,
        )
    return summary


def _user_with_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def add_by_email(
    *,
    activity: Activity,
    email: str,
    name: str = "",
    sessions: Sequence[Session],
    by: User,
    reason: str,
    source: str = Attendance.Source.STAFF,
    summary: Summary | None = None,
) -> Summary:
    """Attendance for whoever ``email`` is: an account with that email gets it at once (``add_attendance``);
    anyone else an ``Invitation`` (one open per activity and address: a repeat adds sessions to it and sends
    nothing again), emailed after commit, and the attendance when they sign up and confirm the address.
    Audited ``INVITATION_SENT``."""
    summary = summary if summary is not None else Summary()
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise RecordsError({"email": _("Enter a valid email address.")}) from None
    reason = _reason(reason, what=_("Say why the attendance is recorded by staff."))
    _check_sessions(activity, sessions)
    with transaction.atomic():
        learner = _user_with_email(email)
        if learner is not None:
            _record_for(
                learner=learner, sessions=sessions, by=by, reason=reason, source=source, summary=summary
            )
            return summary
        invitation = (
            Invitation.objects.select_for_update()
            .filter(activity=activity, email__iexact=email, accepted_at__isnull=True)
            .first()
        )
        created = invitation is None
        if invitation is None:
            invitation = Invitation.objects.create(
                activity=activity, email=email, name=name.strip()[:200], invited_by=by, reason=reason
            )
        have = set(invitation.sessions.values_list("pk", flat=True))
        new = [session for session in sessions if session.pk not in have]
        summary.already += len(sessions) - len(new)
        if new:
            invitation.sessions.add(*new)
            summary.added.setdefault(email, []).extend(new)
        if created:
            summary.invited.append(email)
            audit.record(
                actor=by,
                action=audit.AuditAction.INVITATION_SENT,
                obj=invitation,
                provider_id=activity.provider_id,
                data={"email": email, "sessions": [s.pk for s in new], "reason": reason},
            )
            invitation_id = invitation.pk
            transaction.on_commit(lambda: send_invitation(invitation_id=invitation_id), robust=True)
    return summary


def send_invitation(*, invitation_id: int) -> bool:
    """Email the invitation, once: ``emailed_at`` is claimed by a conditional update before the send (and
    given back if the send fails, so a later call may try again). Returns whether this call sent it."""
    now = timezone.now()
    if not Invitation.objects.filter(pk=invitation_id, emailed_at__isnull=True).update(emailed_at=now):
        return False
    invitation = Invitation.objects.select_related("activity__provider").get(pk=invitation_id)
    context = {
        "invitation": invitation,
        "activity": invitation.activity,
        "provider": invitation.activity.provider,
        "sessions": [describe(s) for s in invitation.sessions.order_by("start")],
        "signup_url": settings.SITE_URL + reverse("account_signup"),
    }
    email = EmailMultiAlternatives(
        subject=_("Your attendance at %(activity)s") % {"activity": invitation.activity.title},
        body=render_to_string("attendance/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
        headers={"X-CME-Invitation": str(invitation.pk)},
    )
    email.attach_alternative(render_to_string("attendance/email/invitation.html", context), "text/html")
    try:
        email.send()
    except Exception:
        Invitation.objects.filter(pk=invitation_id, emailed_at=now).update(emailed_at=None)
        logger.warning("could not email invitation %s", invitation_id, exc_info=True)
        return False
    return True


def accept_invitations(*, user: User, email: str) -> int:
    """Turn the open invitations for ``email`` into ``user``'s attendance (``Source.INVITATION``, enrolled
    on the way), each invitation once: it is locked and marked accepted in the same transaction, so a
    repeat (the signal sent twice, a second address confirmed) finds nothing. An invitation whose activity
    is full stays open. Returns how many invitations were accepted. Audited ``INVITATION_ACCEPTED``."""
    accepted = 0
    ids = list(
        Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True).values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            invitation = (
                Invitation.objects.select_for_update()
                .select_related("activity")
                .filter(pk=pk, accepted_at__isnull=True)
                .first()
            )
            if invitation is None:
                continue
            enrollment = None
            try:
                with transaction.atomic():
                    for session in invitation.sessions.order_by("start"):
                        result = checkin.record(
                            learner=user,
                            session=session,
                            at=session.start,
                            source=Attendance.Source.INVITATION,
                            actor=invitation.invited_by,
                            reason=invitation.reason,
                        )
                        enrollment = result.attendance.enrollment
            except checkin.CheckinError:
                logger.info("invitation %s left open: %s", pk, "could not enroll", exc_info=True)
                continue
            invitation.accepted_at = timezone.now()
            invitation.enrollment = enrollment
            invitation.save(update_fields=["accepted_at", "enrollment", "modified"])
            audit.record(
                actor=user,
                action=audit.AuditAction.INVITATION_ACCEPTED,
                obj=invitation,
                provider_id=invitation.activity.provider_id,
                data={"email": email, "learner": user.pk},
            )
            accepted += 1
    return accepted


def remove_attendance(*, attendance: Attendance, by: User, reason: str) -> Summary:
    """Remove an attendance (a mistaken check-in or record). Refused while a claim covers that session:
    correct the claim first. Audited ``ATTENDANCE_REMOVED`` with what was removed."""
    reason = _reason(reason, what=_("Say why the attendance is removed."))
    with transaction.atomic():
        Enrollment.objects.select_for_update().get(pk=attendance.enrollment_id)
        row = (
            Attendance.objects.select_related("enrollment__learner", "session__activity")
            .filter(pk=attendance.pk)
            .first()
        )
        summary = Summary()
        if row is None:
            return summary  # removed a moment ago
        if ClaimedSession.objects.filter(claim__enrollment=row.enrollment, session=row.session).exists():
            raise RecordsError(
                {
                    NON_FIELD: _(
                        "%(learner)s's claim covers this session: correct the claim first, then remove "
                        "the attendance."
                    )
                    % {"learner": row.enrollment.learner.email}
                }
            )
        audit.record(
            actor=by,
            action=audit.AuditAction.ATTENDANCE_REMOVED,
            obj=row,
            provider_id=row.session.activity.provider_id,
            data={
                "session": row.session_id,
                "learner": row.enrollment.learner_id,
                "source": row.source,
                "checked_in_at": row.checked_in_at.isoformat(),
                "reason": reason,
            },
        )
        summary.added[row.enrollment.learner.email] = []
        row.delete()
    return summary


def current_deadline(enrollment: Enrollment) -> dt.date:
    """The last day ``enrollment``'s learner may claim now: the latest session deadline (with any extension)
    for a live activity, the activity's end otherwise."""
    activity = enrollment.activity
    extended = credit.extension_for(enrollment)
    sessions = list(activity.sessions.all())
    if activity.is_live and sessions:
        return max(credit.claim_deadline(s, activity, extended_until=extended) for s in sessions)
    end = activity.end.date()
    return max(end, extended) if extended else end


def extend_claim_window(
    *, enrollment: Enrollment, until: dt.date, by: User, reason: str
) -> ClaimWindowExtension:
    """Let ``enrollment``'s learner claim until ``until`` (the day included), which must be later than the
    current deadline. Audited ``CLAIM_WINDOW_EXTENDED``."""
    reason = _reason(reason, what=_("Say why the claim window is extended."))
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().select_related("activity").get(pk=enrollment.pk)
        deadline = current_deadline(enrollment)
        if until <= deadline:
            raise RecordsError(
                {"until": _("Choose a day after the current deadline, %(day)s.") % {"day": deadline}}
            )
        extension = ClaimWindowExtension.objects.create(
            enrollment=enrollment, until=until, granted_by=by, reason=reason
        )
        audit.record(
            actor=by,
            action=audit.AuditAction.CLAIM_WINDOW_EXTENDED,
            obj=extension,
            provider_id=enrollment.activity.provider_id,
            data={"until": until.isoformat(), "before": deadline.isoformat(), "reason": reason},
        )
    return extension


def set_fixed_code(*, session: Session, code: str, by: User, reason: str = "") -> SessionCheckin:
    """Open check-in at ``session`` by a fixed code (``code``), or close it (``""``). Audited
    ``CHECKIN_CHANGED``; setting the code it already has changes nothing."""
    code = code.strip()
    if code and (len(code) < 4 or len(code) > 12 or not (code.isascii() and code.isalnum())):
        raise RecordsError({"fixed_code": _("Use 4 to 12 letters (A to Z) or digits.")})
    with transaction.atomic():
        point = checkin.checkin_for(session)
        point = SessionCheckin.objects.select_for_update().get(pk=point.pk)
        if point.fixed_code == code:
            return point
        before = point.fixed_code
        point.fixed_code = code
        point.save(update_fields=["fixed_code"])
        audit.record(
            actor=by,
            action=audit.AuditAction.CHECKIN_CHANGED,
            obj=point,
            provider_id=session.activity.provider_id,
            data={
                "session": session.pk,
                "fixed_code": "set" if code else "cleared",
                "had_code": bool(before),
                **({"reason": reason.strip()} if reason.strip() else {}),
            },
        )
    return point


# --- sign-in sheets -----------------------------------------------------------------------------------------


def _session_index(activity: Activity) -> dict[str, list[Session]]:
    """Each way a sheet may name a session -> the sessions it names (more than one: ambiguous)."""
    index: dict[str, list[Session]] = {}
    for session in activity.sessions.order_by("start", "track", "pk"):
        local = session.local_start
        keys = {f"{local:%Y-%m-%d}", f"{local:%Y-%m-%d %H:%M}"}
        if session.track:
            keys.add(f"{local:%Y-%m-%d} {session.track.strip().casefold()}")
        for key in keys:
            index.setdefault(key, []).append(session)
    return index


def _lookup(index: dict[str, list[Session]], item: str) -> tuple[Session | None, str]:
    text = " ".join(item.split())
    date, _sep, rest = text.partition(" ")
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        return None, _("%(item)r is not a date (YYYY-MM-DD).") % {"item": item}
    key = f"{date} {rest.casefold()}" if rest and ":" not in rest else text
    found = index.get(key, [])
    if not found:
        return None, _("no session on %(item)s.") % {"item": text}
    if len(found) > 1:
        return None, _("%(item)s has several sessions: add the start time (%(date)s HH:MM) or the track.") % {
            "item": text,
            "date": date,
        }
    return found[0], ""


def _roster_line(
    number: int, row: list[str], index: dict[str, list[Session]], errors: list[str]
) -> RosterLine | None:
    """One line of a sheet, its problems added to ``errors`` by line number and column."""
    if len(row) != 3:
        errors.append(_("line %(n)d: expected 3 columns, found %(k)d.") % {"n": number, "k": len(row)})
        return None
    email, name, names = (cell.strip() for cell in row)
    try:
        validate_email(email)
    except ValidationError:
        errors.append(_("line %(n)d, email: %(v)r is not an email address.") % {"n": number, "v": email})
    if starts_like_formula(name) or len(name) > 200:
        errors.append(_("line %(n)d, name: not a name.") % {"n": number})
    sessions: list[Session] = []
    items = [item for item in names.split(";") if item.strip()]
    if not items:
        errors.append(_("line %(n)d, sessions: name at least one session.") % {"n": number})
    for item in items:
        session, problem = _lookup(index, item)
        if session is None:
            errors.append(_("line %(n)d, sessions: %(why)s") % {"n": number, "why": problem})
        elif session not in sessions:
            sessions.append(session)
    return RosterLine(number, email, name, sessions)


def parse_roster(*, activity: Activity, content: str) -> list[RosterLine]:
    """The sheet's lines, each with its sessions; raises ``RecordsError`` naming every bad line and column
    (``{"file": "line 3, email: ...; line 5, sessions: ..."}``) and nothing is used."""
    content = content.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(content))
    errors: list[str] = []
    lines: list[RosterLine] = []
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise RecordsError({"file": _("The file is not readable CSV: %(error)s") % {"error": exc}}) from None
    if not rows:
        raise RecordsError({"file": _("The file is empty.")})
    header = [cell.strip().casefold() for cell in rows[0]]
    if tuple(header) != ROSTER_HEADER:
        raise RecordsError(
            {"file": _("Line 1: the header must be %(header)s.") % {"header": ",".join(ROSTER_HEADER)}}
        )
    if len(rows) - 1 > MAX_ROSTER_LINES:
        raise RecordsError(
            {"file": _("At most %(n)d lines in one sheet; split it.") % {"n": MAX_ROSTER_LINES}}
        )
    index = _session_index(activity)
    for number, row in enumerate(rows[1:], start=2):
        if any(cell.strip() for cell in row):
            line = _roster_line(number, row, index, errors)
            if line is not None:
                lines.append(line)
    if errors:
        raise RecordsError({"file": " ".join(errors)})
    if not lines:
        raise RecordsError({"file": _("The file has a header but no lines.")})
    return lines


def import_roster(*, activity: Activity, content: str, by: User, reason: str) -> Summary:
    """Record a sign-in sheet's attendance (``Source.ROSTER``): each line by ``add_by_email``, all in one
    transaction, so nothing is written if any line fails (``RecordsError`` by line and column)."""
    reason = _reason(reason, what=_("Say where the sign-in sheet comes from."))
    lines = parse_roster(activity=activity, content=content)
    summary = Summary()
    seen: set[tuple[str, int]] = set()
    with transaction.atomic():
        for line in lines:
            fresh = []
            for session in line.sessions:
                key = (line.email.casefold(), session.pk)
                if key in seen:
                    summary.duplicates += 1
                else:
                    seen.add(key)
                    fresh.append(session)
            if fresh:
                add_by_email(
                    activity=activity,
                    email=line.email,
                    name=line.name,
                    sessions=fresh,
                    by=by,
                    reason=reason,
                    source=Attendance.Source.ROSTER,
                    summary=summary,
                )
    return summary


def enrolled_absent(session: Session) -> Iterable[Enrollment]:
    """Enrollments of the session's activity with no attendance at it: whom "Mark attended" offers."""
    return (
        Enrollment.objects.filter(activity_id=session.activity_id)
        .exclude(attendances__session=session)
        .select_related("learner")
        .order_by("learner__email")
    )
