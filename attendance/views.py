"""The check-in pages: the learner's (``/in/<slug>/``, reached from the QR code or by typing the short
address) and the room's projector screen, with the JSON its script polls."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from activities.models import Session
from attendance import selectors
from attendance.forms import CheckinForm, normalised_code
from attendance.models import Attendance
from attendance.services.checkin import CheckinError, CheckinResult, check_in, checkin_for
from portal.lib.http import private

SCREEN_POLL_SECONDS = 5  # how often the screen's script asks for the count (and, on time, the next code)


@require_http_methods(["GET", "POST"])
@login_required
def checkin(request, slug):
    """A learner checks in with the code on the screen. A scan of the QR code arrives with ``?c=<code>``,
    which fills the field: one tap on the button posts it (with the CSRF token), and a refused code is
    shown on the field. A scanned code that has already left the screen (the learner signed in first) is
    not filled in; the page asks for a fresh scan instead. After a check-in the page redirects to itself
    and shows the attendance."""
    point = selectors.checkin_by_slug(slug=slug)
    session = point.session
    status = 200
    if request.method == "POST":
        form = CheckinForm(request.POST)
        if form.is_valid():
            try:
                result = check_in(learner=request.user, checkin=point, code=form.cleaned_data["code"])
            except CheckinError as exc:
                form.add_error("code", str(exc))
            else:
                messages.success(request, _result_message(result))
                return redirect(point)
        status = 400
    attendance = Attendance.objects.filter(session=session, enrollment__learner=request.user).first()
    if request.method == "GET":
        scanned = normalised_code(request.GET.get("c", ""))
        if attendance is None and selectors.scanned_code_expired(checkin=point, code=scanned):
            messages.warning(
                request,
                _(
                    "The code you scanned has changed since. Scan the screen again, or type the code it shows now."
                ),
            )
            scanned = ""
        form = CheckinForm(initial={"code": scanned})
    context = {
        "checkin": point,
        "session": session,
        "activity": session.activity,
        "form": form,
        "attendance": attendance,
        "checked_in_at": _local_time(attendance, session) if attendance else "",
    }
    return private(render(request, "attendance/checkin.html", context, status=status))


def _local_time(attendance: Attendance, session: Session) -> str:
    return formats.date_format(attendance.checked_in_at.astimezone(session.zone), "M j, G:i")


def _result_message(result: CheckinResult) -> str:
    when = _local_time(result.attendance, result.attendance.session)
    if not result.created:
        return _("You had already checked in, at %(when)s.") % {"when": when}
    if result.enrolled:
        return _("You are checked in (%(when)s) and enrolled in this activity as a walk-in.") % {"when": when}
    return _("You are checked in (%(when)s).") % {"when": when}


@require_GET
@login_required
def screen(request, session_id):
    """The room's projector: the QR code and the code, which change every 30 seconds, the short address to
    type, and the count of learners checked in. For staff who may see the session's provider; the page's
    script polls ``screen_state``, and without it the page reloads when the code changes."""
    session = selectors.session_for_screen(user=request.user, session_id=session_id)
    point = checkin_for(session)
    point.session = session
    context = {
        "checkin": point,
        "session": session,
        "activity": session.activity,
        "state": selectors.screen_state(checkin=point),
        "poll_seconds": SCREEN_POLL_SECONDS,
    }
    return private(render(request, "attendance/screen.html", context))


@require_GET
@login_required
def screen_state(request, session_id):
    """What the screen shows now, as JSON: ``code``, ``seconds_left``, ``count``, ``url`` (what the QR code
    encodes), ``qr_svg``, ``short_url``, ``status`` (open, not_yet, closed) and ``note``."""
    session = selectors.session_for_screen(user=request.user, session_id=session_id)
    point = checkin_for(session)
    point.session = session
    return private(JsonResponse(selectors.screen_state(checkin=point).as_json()))
