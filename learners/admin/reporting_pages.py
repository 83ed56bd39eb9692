"""The reporting pages of the ledger's admin, in one place, "Export files": the registries' learner files
(presets for last month, or a chosen registry, activity and period), the activity report with learner counts
for JA-PARS or PARS, one activity's enrollment CSV, and the past files; beside it, recording registry results
from a CSV of our own format.

``ReportingEntryAdmin`` is built on ``ReportingPages``, whose ``reportable`` and ``has_report_permission``
say which rows the user may export or settle. The rules are the services': ``exports.export_for_providers``
makes the learner files (one per provider, every provider's or none), ``ja_pars.activity_report`` the
activity report (which changes nothing, so viewers may make it, as they may download the dashboard's CSV),
``ledger.apply_returned_file`` settles the rows a results CSV names; the pages collect the choices and show
the answer on the page itself: how many rows, what was left out and why, and the link to each file.

Dates on these pages are in the admin's ``DATE_FORMAT`` (the settings leave Django's for en-us: "Oct. 3,
2026", as every changelist shows dates), times in its ``DATETIME_FORMAT``; the files keep the registries'
own formats."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from activities.models import Activity
from learners.admin.forms import ActivityPickForm, ActivityReportForm, ExportForm, ReturnedFileForm
from learners.models import Destination, ExportBatch, ReportingEntry
from learners.selectors import dashboards
from learners.selectors.activity_csv import activity_csv
from learners.services.reporting import exports, ja_pars, ledger
from portal import audit, scoping
from portal.admin import ProviderScopedAdmin, scope_queryset
from portal.lib.http import csv_attachment
from portal.lib.querystring import with_params

PAST_FILES_SHOWN = 10


def last_month(today: date) -> tuple[date, date]:
    """The first and last day of the calendar month before ``today``'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


# The page where staff record what a registry reported back: the CSV is ours, not a registry's file.
RESULTS_PAGE_TITLE = gettext_lazy("Record registry results from a CSV (our own format)")


def _only(providers):
    """The one provider of ``providers``, or None when there are several (or none)."""
    first_two = list(providers[:2])
    return first_two[0] if len(first_two) == 1 else None


def refusals_of(result: exports.ExportResult) -> list[tuple[str, str]]:
    """``(activity, why)`` for each activity whose ready rows a ledger export could not send, as the page
    lists them, with how many rows wait on it."""
    return [
        (
            title,
            ngettext("%(why)s (%(n)d row waits)", "%(why)s (%(n)d rows wait)", rows)
            % {"why": why, "n": rows},
        )
        for title, why, rows in result.refused
    ]


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
            path(
                "export/activity-report.csv",
                view(self.activity_report_view),
                name="learners_reportingentry_activity_report",
            ),
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

    def report_providers(self, request):
        """The providers whose activity report the user may make: those they see (any role)."""
        return dashboards.dashboard_providers(user=request.user)

    def export_view(self, request):
        """The one page for files: choose what to make and make it; the result (each file with its rows and
        its link, what was left out and why) is shown here, under the choices, and the past files below.

        A POST (a preset, or the form) exports ledger rows through the service and marks them exported; a GET
        with ``report=activities`` makes the activity report, which changes nothing."""
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
        export_result = None
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
                export_result = self._export(request, **chosen)
        providers = self.report_providers(request)
        asked = request.GET.get("report") == "activities"
        report_form = ActivityReportForm(
            request.GET if asked else None,
            providers=providers,
            initial={"year": timezone.localdate().year - 1, "provider": _only(providers)},
        )
        activity_result = None
        if asked and report_form.is_valid():
            activity_result = self._activity_report(report_form.cleaned_data)
        elif asked and request.GET.get("provider") and "provider" in report_form.errors:
            raise Http404(_("No such provider, or not one of yours."))
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
            export_result=export_result,
            report_form=report_form,
            activity_result=activity_result,
            csv_form=csv_form,
            past_files=self._past_files(request),
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

    def _export(self, request, *, destination, activity, start, end) -> dict:
        """Export through the service; what the page shows of it: each file (name, rows, download link),
        the rows still waiting, and the activities the service refused, with why."""
        result = exports.export_for_providers(
            entries=self.reportable(request),
            destination=destination,
            by=audit.actor_of(request),
            activity=activity,
            start=start,
            end=end,
        )
        return {
            "description": result.description,
            "files": [
                {
                    "batch": batch,
                    "url": reverse("admin:learners_exportbatch_download", args=[batch.pk]),
                }
                for batch in result.batches
            ],
            "waiting": result.waiting,
            "refused": refusals_of(result),
        }

    def _activity_report(self, choice: dict) -> dict:
        report = ja_pars.activity_report(provider=choice["provider"], year=choice["year"])
        query = {"provider": choice["provider"].pk, "year": choice["year"]}
        return {
            "report": report,
            "url": reverse("admin:learners_reportingentry_activity_report") + with_params(query),
        }

    def _past_files(self, request):
        return (
            scope_queryset(ExportBatch.objects.defer("content"), request.user)
            .select_related("provider", "made_by")
            .order_by("-created", "-pk")[:PAST_FILES_SHOWN]
        )

    def activity_report_view(self, request):
        """The activity report's CSV. A provider the user may not see (or none such) is a 404, never another
        provider's activities; a year that is not one is a 400 naming it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ActivityReportForm(request.GET, providers=self.report_providers(request))
        if not form.is_valid():
            if "provider" in form.errors:
                raise Http404(_("No such provider, or not one of yours."))
            raise BadRequest(
                _("year: %(error)s") % {"error": " ".join(str(e) for e in form.errors.get("year", []))}
            )
        report = ja_pars.activity_report(
            provider=form.cleaned_data["provider"], year=form.cleaned_data["year"]
        )
        return csv_attachment(report.content, report.filename)

    def returned_view(self, request):
        """Settle exported rows from a results CSV of our own format (``row_id,status,reason``, which staff
        fill in from what the registry reported through its own channel); every line that could not be
        applied is listed, and lines naming rows outside the user's providers touch nothing."""
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
        return self._page(request, "returned.html", RESULTS_PAGE_TITLE, form=form, result=result)

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
