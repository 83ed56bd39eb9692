"""The reporting pages of the ledger's admin: export files (presets for last month, or a chosen registry,
activity and period), upload a registry's returned file, and download one activity's enrollment CSV.

``ReportingEntryAdmin`` is built on ``ReportingPages``, whose ``reportable`` and ``has_report_permission``
say which rows the user may export or settle. The rules are the services': ``exports.export_for_providers``
makes the files (one per provider, every provider's or none), ``ledger.apply_returned_file`` settles the
rows a returned file names; the pages collect the choices and show the answer."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activities.models import Activity
from learners.admin.forms import ActivityPickForm, ExportForm, ReturnedFileForm
from learners.models import Destination, ReportingEntry
from learners.selectors.activity_csv import activity_csv
from learners.services.reporting import exports, ledger
from portal import audit, scoping
from portal.admin import ProviderScopedAdmin, scope_queryset
from portal.lib.http import csv_attachment, zip_attachment


def last_month(today: date) -> tuple[date, date]:
    """The first and last day of the calendar month before ``today``'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


class ReportingPages(ProviderScopedAdmin, admin.ModelAdmin):
    """Who may report (export, settle, requeue), and the export, returned-file and activity-CSV pages, as
    URLs of the ledger's admin."""

    def has_report_permission(self, request):
        """Export, settle and requeue: editors of a provider, and accreditation staff."""
        return self._may(request, write=True)

    def reportable(self, request, queryset=None):
        """The rows (of ``queryset``) the user may export or settle: of providers where they are editors."""
        return self.editable(request, ReportingEntry.objects.all() if queryset is None else queryset)

    def reportable_activities(self, request):
        return scope_queryset(
            Activity.objects.all(), request.user, scoping.editable_provider_ids(request.user)
        ).order_by("title")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="learners_reportingentry_export"),
            path("returned/", view(self.returned_view), name="learners_reportingentry_returned"),
            path("activity-csv/", view(self.activity_csv_view), name="learners_reportingentry_activity_csv"),
            *super().get_urls(),
        ]

    def _page(self, request, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/learners/reportingentry/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "changelist_url": reverse("admin:learners_reportingentry_changelist"),
                **context,
            },
        )

    def presets(self, today: date) -> dict[str, dict]:
        start, end = last_month(today)
        return {
            "accreditor_last_month": {
                "label": _("Accreditor file: MOC and state credit completed last month"),
                "destination": Destination.ACCREDITOR,
                "start": start,
                "end": end,
            },
            "cpe_last_month": {
                "label": _("CPE Monitor file: pharmacy credit completed last month"),
                "destination": Destination.CPE_MONITOR,
                "start": start,
                "end": end,
            },
        }

    def export_view(self, request):
        """Click 1 opens this page; click 2 (a preset, or the form) downloads the file and marks its rows
        exported. With nothing ready, a message instead of an empty file."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        may_report = self.has_report_permission(request)
        presets = self.presets(timezone.localdate())
        activities = self.reportable_activities(request)
        form = ExportForm(
            request.POST if "custom" in request.POST else None,
            activities=activities,
            admin_site=self.admin_site,
        )
        if request.method == "POST":
            if not may_report:
                raise PermissionDenied
            preset = presets.get(request.POST.get("preset", ""))
            if preset is not None:
                chosen = {
                    "destination": preset["destination"],
                    "activity": None,
                    "start": preset["start"],
                    "end": preset["end"],
                }
            elif form.is_valid():
                data = form.cleaned_data
                chosen = {
                    "destination": data["destination"],
                    "activity": data["activity"],
                    "start": data["completed_from"],
                    "end": data["completed_to"],
                }
            else:
                chosen = None
            if chosen is not None:
                return self._export(request, **chosen)
        ready = self._preset_counts(request, presets) if may_report else {}
        for key, preset in presets.items():
            preset.update(ready.get(key, {}))
        csv_form = ActivityPickForm(activities=self.get_activity_scope(request), admin_site=self.admin_site)
        return self._page(
            request,
            "export.html",
            _("Export files"),
            may_report=may_report,
            presets=presets,
            form=form,
            csv_form=csv_form,
            media=self.media + form.media + csv_form.media,
        )

    def _preset_counts(self, request, presets) -> dict[str, dict]:
        """How many rows each preset would export now, and how many of its period still wait."""
        counts = {}
        for key, preset in presets.items():
            totals = (
                self.reportable(request)
                .filter(
                    destination=preset["destination"],
                    completed_on__gte=preset["start"],
                    completed_on__lte=preset["end"],
                )
                .aggregate(
                    ready=Count("pk", filter=Q(state=ReportingEntry.State.READY)),
                    waiting=Count("pk", filter=Q(state=ReportingEntry.State.WAITING)),
                )
            )
            counts[key] = totals
        return counts

    def _export(self, request, *, destination, activity, start, end):
        """Export through the service and answer with its files: one CSV, or a zip of one per provider."""
        result = exports.export_for_providers(
            entries=self.reportable(request),
            destination=destination,
            by=audit.actor_of(request),
            activity=activity,
            start=start,
            end=end,
        )
        if not result.batches:
            message = _("Nothing is ready to report in %(what)s.") % {"what": result.description}
            if result.waiting:
                message += (
                    " "
                    + ngettext(
                        "%d row is still waiting for the learner's consent or details.",
                        "%d rows are still waiting for learners' consent or details.",
                        result.waiting,
                    )
                    % result.waiting
                )
            self.message_user(request, message, messages.WARNING)
            return HttpResponseRedirect(reverse("admin:learners_reportingentry_export"))
        for batch in result.batches:
            self.message_user(
                request,
                ngettext("%(file)s: %(n)d row exported.", "%(file)s: %(n)d rows exported.", batch.row_count)
                % {"file": batch.filename, "n": batch.row_count},
            )
        if len(result.batches) == 1:
            return csv_attachment(result.batches[0].content, result.batches[0].filename)
        return zip_attachment(
            ((b.filename, b.content) for b in result.batches),
            f"{destination}-{timezone.localtime():%Y%m%d-%H%M%S}.zip",
        )

    def returned_view(self, request):
        """Settle exported rows from the registry's returned file; every line that could not be applied is
        listed, and lines naming rows outside the user's providers touch nothing."""
        if not self.has_report_permission(request):
            raise PermissionDenied
        form = ReturnedFileForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            try:
                result = ledger.apply_returned_file(
                    content=form.cleaned_data["file"],
                    entries=self.reportable(request),
                    by=audit.actor_of(request),
                )
            except ledger.ReportingError as exc:
                form.add_error("file", str(exc))
            else:
                level = messages.WARNING if result.errors else messages.SUCCESS
                self.message_user(
                    request,
                    _("%(accepted)d accepted, %(rejected)d rejected, %(errors)d lines not applied.")
                    % {
                        "accepted": result.accepted,
                        "rejected": result.rejected,
                        "errors": len(result.errors),
                    },
                    level,
                )
        return self._page(request, "returned.html", _("Upload a returned file"), form=form, result=result)

    def get_activity_scope(self, request):
        """Activities whose enrollments the user may read."""
        return scope_queryset(Activity.objects.all(), request.user).order_by("title")

    def activity_csv_view(self, request):
        """One activity's enrollments and completions, for the provider's own records."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        activity_id = request.GET.get("activity", "")
        if not (activity_id.isascii() and activity_id.isdigit() and len(activity_id) <= 18):
            raise Http404(_("Choose an activity."))
        activity = get_object_or_404(
            self.get_activity_scope(request).select_related("provider"), pk=int(activity_id)
        )
        content = activity_csv(activity)
        filename = f"enrollments-{activity.slug}-{timezone.localdate():%Y%m%d}.csv"
        return csv_attachment(content, filename)
