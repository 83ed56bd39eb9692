"""Reads for the check-in pages: the session a staff member may project, the check-in point a learner
reached by its short address, and what the projector shows at a given moment."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from activities.models import Activity, Session
from attendance import codes
from attendance.models import Attendance, SessionCheckin
from attendance.services.checkin import window
from portal.lib import qr
from portal.models import User
from portal.scoping import provider_ids, sees_everything

MAX_ID = 2**63 - 1


def session_for_screen(*, user: User, session_id: int) -> Session:
    """The session with its activity and provider, if ``user`` may see that provider (any role there, or
    accreditation staff); otherwise ``Http404``, as for a session that does not exist."""
    if not 0 < session_id <= MAX_ID:
        raise Http404  # no such row, and a larger number would overflow the database's integer
    sessions = Session.objects.select_related("activity__provider")
    if not sees_everything(user):
        sessions = sessions.filter(activity__provider_id__in=provider_ids(user))
    try:
        return sessions.get(pk=session_id)
    except Session.DoesNotExist:
        raise Http404 from None


def checkin_by_slug(*, slug: str) -> SessionCheckin:
    """The check-in point at ``/in/<slug>/`` of a published activity; ``Http404`` otherwise. The slug is
    read in either case, as learners type it off a projector."""
    try:
        return SessionCheckin.objects.select_related("session__activity__provider").get(
            slug=slug.lower(), session__activity__status=Activity.Status.PUBLISHED
        )
    except SessionCheckin.DoesNotExist:
        raise Http404 from None


def scanned_code_expired(*, checkin: SessionCheckin, code: str, at: dt.datetime | None = None) -> bool:
    """Whether ``code``, arriving in the scanned address, has left the screen since: the usual case for a
    learner who had to sign in first. Says nothing of a code that is current or wrong (and counts nothing),
    so it tells no one more than that a code was on the screen minutes ago."""
    return bool(code) and codes.judge(checkin.secret, code, at or timezone.now()) is codes.Verdict.EXPIRED


def checkin_url(checkin: SessionCheckin, code: str = "") -> str:
    """The absolute address of the learner's check-in page (``SITE_URL``), with ``code`` prefilled."""
    url = settings.SITE_URL.rstrip("/") + checkin.get_absolute_url()
    return f"{url}?{urlencode({'c': code})}" if code else url


def short_url(checkin: SessionCheckin) -> str:
    """What the screen asks people to type: the host and ``/in/<slug>``, no scheme, no trailing slash."""
    host = settings.SITE_URL.split("://", 1)[-1].rstrip("/")
    return f"{host}/in/{checkin.slug}"


@dataclass(frozen=True)
class ScreenState:
    code: str
    seconds_left: int
    count: int
    url: str  # what the QR code encodes
    qr_svg: str
    short_url: str
    status: str  # "open", "not_yet" or "closed"
    note: str  # when check-in opens or closed, in the session's time zone; "" while open

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "seconds_left": self.seconds_left,
            "count": self.count,
            "url": self.url,
            "qr_svg": self.qr_svg,
            "short_url": self.short_url,
            "status": self.status,
            "note": self.note,
        }


def screen_state(*, checkin: SessionCheckin, at: dt.datetime | None = None) -> ScreenState:
    """What the projector shows at ``at`` (now): the current code, the QR code of the learner's page with
    that code, the seconds until it changes, and how many learners have checked in."""
    at = at or timezone.now()
    session = checkin.session
    code = codes.current_code(checkin.secret, at)
    url = checkin_url(checkin, code)
    opens, closes = window(session, session.activity)
    status, note = "open", ""
    if at < opens:
        status = "not_yet"
        note = _("Check-in opens at %(when)s.") % {"when": _local(opens, session)}
    elif at > closes:
        status = "closed"
        note = _("Check-in closed at %(when)s.") % {"when": _local(closes, session)}
    return ScreenState(
        code=code,
        seconds_left=codes.seconds_left(at),
        count=Attendance.objects.filter(session=session).count(),
        url=url,
        qr_svg=qr.svg(url, label=_("QR code: scan to check in")),
        short_url=short_url(checkin),
        status=status,
        note=note,
    )


def _local(when: dt.datetime, session: Session) -> str:
    return formats.date_format(when.astimezone(session.zone), "M j, G:i")
