"""Attendance in the admin: the list of who attended which session, and each session's staff page (who
checked in, when and how, the live count, the fixed code, adding attendees, a sign-in sheet, removing an
attendance, and marking an enrolled learner who forgot to check in).

Every page loads the session or attendance through the provider-scoped queryset (another provider's is a
404) and, before anything is written or previewed, asks for the editor role at that provider (a viewer is
a 403). Each change is previewed by running its service under ``dry_run`` and runs only on "Confirm"."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.models import Session
from attendance.forms import AddAttendeesForm, FixedCodeForm, ReasonForm, RosterForm
from attendance.models import Attendance, Invitation
from attendance.services import records
from learners.models import ClaimedSession, Enrollment
from portal import scoping
from portal.admin import PortalFormFields, ProviderScopedAdmin, ReadOnlyAdmin, scope_queryset
from portal.lib.dry_run import dry_run
from portal.lib.field_errors import add_to_form


def may_write(request, provider_id: int) -> bool:
    """Whether the user may change records of ``provider_id``: accreditation staff, or its editors."""
    return scoping.sees_everything(request.user) or provider_id in scoping.editable_provider_ids(request.user)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    list_display = ["email", "activity", "created", "emailed_at", "accepted_at", "invited_by"]
    list_filter = ["accepted_at"]
    search_fields = ["email", "activity__title"]
    list_select_related = ["activity", "invited_by"]
    fields = ("activity", "email", "name", "sessions", "invited_by", "reason", "emailed_at", "accepted_at")
    readonly_fields = fields


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin, ProviderScopedAdmin, PortalFormFields, admin.ModelAdmin):
    """Attendance is written by check-in and by the staff pages below, never edited as a row."""

    list_display = ["enrollment", "session_link", "checked_in_at", "source", "recorded_by", "reason"]
    list_filter = ["source"]
    search_fields = ["enrollment__learner__email", "session__activity__title"]
    list_select_related = ["enrollment__learner", "session__activity", "recorded_by"]
    date_hierarchy = "checked_in_at"
    fields = ("session", "enrollment", "checked_in_at", "source", "recorded_by", "reason")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("session"), ordering="session__start")
    def session_link(self, obj):
        url = reverse("admin:attendance_session_attendance", args=[obj.session_id])
        return format_html('<a href="{}">{}</a>', url, obj.session)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("session/<int:session_id>/", view(self.session_view), name="attendance_session_attendance"),
            path("session/<int:session_id>/add/", view(self.add_view_), name="attendance_session_add"),
            path(
                "session/<int:session_id>/import/", view(self.import_view), name="attendance_session_import"
            ),
            path(
                "session/<int:session_id>/mark/<int:enrollment_id>/",
                view(self.mark_view),
                name="attendance_session_mark",
            ),
            path("<int:attendance_id>/remove/", view(self.remove_view), name="attendance_attendance_remove"),
            *super().get_urls(),
        ]

    # --- loading --------------------------------------------------------------------------------------------

    def _session(self, request, session_id: int, *, write: bool) -> Session:
        sessions = scope_queryset(Session.objects.select_related("activity__provider"), request.user)
        session = get_object_or_404(sessions, pk=session_id)
        if write and not may_write(request, session.activity.provider_id):
            raise PermissionDenied
        return session

    def _context(self, request, session: Session, title: str, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "session": session,
            "activity": session.activity,
            "session_url": reverse("admin:attendance_session_attendance", args=[session.pk]),
            "session_change_url": reverse("admin:activities_session_change", args=[session.pk]),
            **extra,
        }

    def _done(self, request, session: Session, text: str):
        self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:attendance_session_attendance", args=[session.pk]))

    # --- the session's page ---------------------------------------------------------------------------------

    def session_view(self, request, session_id: int):
        """Who attended, when and how; the enrolled learners who did not (each with "Mark attended"); the
        fixed code form (POST sets or clears it)."""
        session = self._session(request, session_id, write=request.method == "POST")
        point = getattr(session, "checkin", None)
        form = FixedCodeForm(request.POST or None, initial={"fixed_code": point.fixed_code if point else ""})
        if request.method == "POST" and form.is_valid():
            try:
                point = records.set_fixed_code(
                    session=session, code=form.cleaned_data["fixed_code"], by=request.user
                )
            except records.RecordsError as exc:
                add_to_form(form, exc)
            else:
                text = (
                    _("Check-in by fixed code is open.")
                    if point.fixed_code
                    else _("The fixed code is cleared.")
                )
                return self._done(request, session, text)
        attendance = list(
            Attendance.objects.filter(session=session)
            .select_related("enrollment__learner", "recorded_by")
            .order_by("checked_in_at", "pk")
        )
        claimed = set(
            ClaimedSession.objects.filter(session=session).values_list("claim__enrollment_id", flat=True)
        )
        for row in attendance:
            row.claimed = row.enrollment_id in claimed  # type: ignore[attr-defined]
        absent = list(records.enrolled_absent(session))
        by_source = dict(
            Attendance.objects.filter(session=session)
            .values_list("source")
            .annotate(n=Count("pk"))
            .order_by()
        )
        context = self._context(
            request,
            session,
            _("Attendance: %(session)s") % {"session": records.describe(session)},
            attendance=attendance,
            absent=absent,
            count=len(attendance),
            claimed_count=len(claimed),
            screen_url=reverse("attendance:screen", args=[session.pk]),
            by_source=[(label, by_source.get(code, 0)) for code, label in Attendance.Source.choices],
            enrolled=len(attendance) + len(absent),
            form=form,
            can_write=may_write(request, session.activity.provider_id),
            invitations=Invitation.objects.filter(sessions=session, accepted_at__isnull=True).order_by(
                "email"
            ),
        )
        return TemplateResponse(request, "admin/attendance/session_attendance.html", context)

    # --- changes ---------------------------------------------------------------------------------------------

    def mark_view(self, request, session_id: int, enrollment_id: int):
        """The second click of "Mark attended": the preview, a reason, confirm."""
        session = self._session(request, session_id, write=True)
        enrollment = get_object_or_404(
            Enrollment.objects.select_related("learner"), pk=enrollment_id, activity_id=session.activity_id
        )
        form = ReasonForm(request.POST or None)
        preview = _("%(learner)s would be recorded as present at %(session)s.") % {
            "learner": enrollment.learner.email,
            "session": records.describe(session),
        }
        if request.method == "POST" and form.is_valid():
            try:
                summary = records.add_attendance(
                    learner=enrollment.learner,
                    sessions=[session],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except records.RecordsError as exc:
                add_to_form(form, exc)
            else:
                return self._done(request, session, summary.text(preview=False))
        context = self._context(
            request,
            session,
            _("Mark attended"),
            form=form,
            preview=preview,
            confirm_only=True,
            confirm_label=_("Mark attended"),
        )
        return TemplateResponse(request, "admin/attendance/records_form.html", context)

    def add_view_(self, request, session_id: int):
        """Add attendees by email (a learner, or an invitation), at chosen sessions: preview, then confirm."""
        session = self._session(request, session_id, write=True)
        activity = session.activity
        form = AddAttendeesForm(request.POST or None, activity=activity, initial={"sessions": [session.pk]})
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data

            def run() -> records.Summary:
                return records.add_by_email(
                    activity=activity,
                    email=data["email"],
                    name=data["name"],
                    sessions=list(data["sessions"]),
                    by=request.user,
                    reason=data["reason"],
                )

            try:
                if "confirm" in request.POST:
                    return self._done(request, session, run().text(preview=False))
                preview = dry_run(run).text(preview=True)
            except records.RecordsError as exc:
                add_to_form(form, exc)
        context = self._context(request, session, _("Add attendees"), form=form, preview=preview)
        return TemplateResponse(request, "admin/attendance/records_form.html", context)

    def import_view(self, request, session_id: int):
        """Upload a sign-in sheet: the preview lists every bad line or what it would record; "Confirm" runs
        the same content again (carried signed in the form, so it is the sheet that was previewed)."""
        session = self._session(request, session_id, write=True)
        activity = session.activity
        form = RosterForm(request.POST or None, request.FILES or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            content, reason = form.cleaned_data["content"], form.cleaned_data["reason"]

            def run() -> records.Summary:
                return records.import_roster(
                    activity=activity, content=content, by=request.user, reason=reason
                )

            try:
                if "confirm" in request.POST and not request.FILES:
                    return self._done(request, session, run().text(preview=False))
                preview = dry_run(run).text(preview=True)
                form = RosterForm(initial={"content": RosterForm.sign(content), "reason": reason})
            except records.RecordsError as exc:
                add_to_form(form, exc)
        context = self._context(
            request, session, _("Import sign-in sheet"), form=form, preview=preview, multipart=True
        )
        return TemplateResponse(request, "admin/attendance/records_form.html", context)

    def remove_view(self, request, attendance_id: int):
        """Remove one attendance, with a reason; refused (the form says why) while a claim covers it."""
        rows = scope_queryset(
            Attendance.objects.select_related("session__activity", "enrollment__learner"), request.user
        )
        attendance = rows.filter(pk=attendance_id).first()
        if attendance is None:
            raise Http404
        session = attendance.session
        if not may_write(request, session.activity.provider_id):
            raise PermissionDenied
        form = ReasonForm(request.POST or None)
        preview = _("%(learner)s's attendance at %(session)s (%(how)s) would be removed.") % {
            "learner": attendance.enrollment.learner.email,
            "session": records.describe(session),
            "how": attendance.get_source_display(),
        }
        if request.method == "GET":
            try:  # say now, not after the reason is typed, that a claim stands in the way
                dry_run(lambda: records.remove_attendance(attendance=attendance, by=request.user, reason="-"))
            except records.RecordsError as exc:
                preview = "; ".join(exc.errors.values())
        if request.method == "POST" and form.is_valid():
            try:
                records.remove_attendance(
                    attendance=attendance, by=request.user, reason=form.cleaned_data["reason"]
                )
            except records.RecordsError as exc:
                add_to_form(form, exc)
            else:
                return self._done(request, session, _("The attendance is removed."))
        context = self._context(
            request,
            session,
            _("Remove attendance"),
            form=form,
            preview=preview,
            confirm_only=True,
            confirm_label=_("Remove"),
        )
        return TemplateResponse(request, "admin/attendance/records_form.html", context)
