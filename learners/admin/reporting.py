"""Reporting admin: the ledger of what the registries are owed, the files exported to them, the registries'
returned files, and each activity's enrollment and completion CSV.

Everything here reads through ``ProviderScopedAdmin`` querysets, so a provider's staff reach only their
providers' rows, and writes only through ``learners.services.reporting``, whose services hold the rules
(which rows a file takes, which rows may be settled or requeued) and say what they did and skipped; the
views here collect the choices and show the answer. Exporting, settling and uploading returned files change
the ledger, so they need an editor's role; viewers read and download."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from activities.models import Activity
from learners.admin.forms import ActivityPickForm, ExportForm, RejectForm, ReturnedFileForm
from learners.models import Destination, ExportBatch, ReportingEntry
from learners.selectors.activity_csv import activity_csv
from learners.services import certificates
from learners.services.reporting import exports, ledger
from portal import audit, scoping
from portal.admin import ProviderScopedAdmin, ReadOnlyAdmin, scope_queryset
from portal.lib.http import csv_attachment, zip_attachment


def last_month(today: date) -> tuple[date, date]:
    """The first and last day of the calendar month before ``today``'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


class DeadlineFilter(admin.SimpleListFilter):
    """Rows not yet exported, by their reporting deadline (exported and settled rows have none left)."""

    title = gettext_lazy("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("soon", _("Due within %(days)d days") % {"days": ledger.DUE_SOON_DAYS}),
            ("later", _("Due later")),
        ]

    def queryset(self, request, queryset):
        overdue, soon = ledger.unreported(queryset)
        if self.value() == "overdue":
            return overdue
        if self.value() == "soon":
            return soon
        if self.value() == "later":
            horizon = timezone.localdate() + timedelta(days=ledger.DUE_SOON_DAYS)
            return queryset.filter(state__in=ledger.OPEN, due_on__gt=horizon)
        return queryset


@admin.register(ReportingEntry)
class ReportingEntryAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    list_display = [
        "learner_name",
        "activity",
        "destination",
        "board_display",
        "credit_type_display",
        "amount",
        "completed_on",
        "due_on",
        "state",
        "reason",
    ]
    list_filter = [
        "state",
        "destination",
        DeadlineFilter,
        ("activity", RelatedOnlyFieldListFilter),
        "activity__provider",
    ]
    date_hierarchy = "completed_on"
    search_fields = ["learner__email", "learner__first_name", "learner__last_name", "activity__title"]
    list_select_related = ["learner__profile", "activity__provider", "claim__enrollment__certificate"]
    readonly_fields = [
        "learner", "activity", "claim", "destination", "board", "credit_type", "amount", "completed_on",
        "due_on", "state", "reason", "batch", "exported_at", "settled_at", "created", "modified",
    ]  # fmt: skip
    fields = tuple(readonly_fields)
    actions = ["mark_accepted", "mark_rejected", "requeue"]
    # The ledger is written by claims, profiles and the reporting services, never typed in (ReadOnlyAdmin).

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

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if scoping.sees_everything(request.user) or len(scoping.provider_ids(request.user)) > 1:
            columns.insert(2, "provider")
        return columns

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(certified_name=certificates.certified_name_of("claim__enrollment__certificate"))
        )

    @admin.display(description=gettext_lazy("learner"), ordering="learner__last_name")
    def learner_name(self, obj):
        """The learner, flagged when their name changed since the certificate was issued (the file carries
        the certified name until it is reissued), with the certificate a click away."""
        name = obj.learner.get_full_name() or obj.learner.email
        if not certificates.name_changed_since_issue(certified_name=obj.certified_name, learner=obj.learner):
            return name
        certificate = obj.claim.enrollment.certificate
        return format_html(
            '{} <a class="name-changed" href="{}">{}</a>',
            name,
            reverse("admin:learners_certificate_change", args=[certificate.pk]),
            _("name changed since issue: reported as certified (“%(old)s”); reissue")
            % {"old": obj.certified_name},
        )

    @admin.display(description=gettext_lazy("provider"), ordering="activity__provider__name")
    def provider(self, obj):
        return obj.activity.provider.name

    @admin.display(description=gettext_lazy("board"), ordering="board")
    def board_display(self, obj):
        return obj.board_label or "—"

    @admin.display(description=gettext_lazy("credit or MOC type"), ordering="credit_type")
    def credit_type_display(self, obj):
        return obj.credit_type_label

    # --- the changelist: deadlines per provider, links to the reporting pages ----------------------------

    def changelist_view(self, request, extra_context=None):
        today = timezone.localdate()
        horizon = today + timedelta(days=ledger.DUE_SOON_DAYS)
        deadlines = (
            self.get_queryset(request)
            .filter(state__in=ledger.OPEN, due_on__lte=horizon)
            .values("activity__provider_id", "activity__provider__name")
            .annotate(
                overdue=Count("pk", filter=Q(due_on__lt=today)),
                soon=Count("pk", filter=Q(due_on__gte=today)),
            )
            .order_by("activity__provider__name")
        )
        context = {
            "deadlines": list(deadlines),
            "due_soon_days": ledger.DUE_SOON_DAYS,
            "may_report": self.has_report_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    # --- actions -------------------------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Mark accepted"), permissions=["report"])
    def mark_accepted(self, request, queryset):
        result = ledger.settle_entries(
            entries=self.reportable(request, queryset), accepted=True, by=audit.actor_of(request)
        )
        count = len(result.changed)
        self.message_user(
            request, ngettext("%d row marked accepted.", "%d rows marked accepted.", count) % count
        )
        self._report_skipped(request, result.skipped)

    @admin.action(description=gettext_lazy("Mark rejected (with reason)"), permissions=["report"])
    def mark_rejected(self, request, queryset):
        entries = list(self.reportable(request, queryset).select_related("learner", "activity"))

        def act(will, data):
            # Every selected row goes to the service, which judges each again as it stands now.
            result = ledger.settle_entries(
                entries=entries, accepted=False, reason=data["reason"], by=audit.actor_of(request)
            )
            count = len(result.changed)
            self.message_user(
                request, ngettext("%d row marked rejected.", "%d rows marked rejected.", count) % count
            )
            self._report_skipped(request, result.skipped)

        return self.confirm_then(
            request,
            entries,
            action="mark_rejected",
            title=_("Mark rows rejected"),
            form_class=RejectForm,
            refusal=ledger.settle_refusal,
            act=act,
        )

    @admin.action(description=gettext_lazy("Back to the queue (after a correction)"), permissions=["report"])
    def requeue(self, request, queryset):
        result = ledger.requeue_entries(
            entries=self.reportable(request, queryset), by=audit.actor_of(request)
        )
        count = len(result.changed)
        self.message_user(
            request,
            ngettext(
                "%d rejected row is back in the queue.", "%d rejected rows are back in the queue.", count
            )
            % count,
        )
        skipped = len(result.skipped)
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d row was not rejected and stays as it is.",
                    "%d rows were not rejected and stay as they are.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )

    def _report_skipped(self, request, skipped):
        """What the service left alone, and (for the first) why."""
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d row skipped: %(why)s", "%(n)d rows skipped, for example: %(why)s", len(skipped)
                )
                % {"n": len(skipped), "why": skipped[0][1]},
                messages.WARNING,
            )

    # --- pages -------------------------------------------------------------------------------------------

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


@admin.register(ExportBatch)
class ExportBatchAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    """Past export files. Downloading one again returns its stored content unchanged: no new batch, no row
    marked again. Batches are made by exporting from the ledger, and none is deleted: the ledger's rows point
    at their batch, so what was sent stays on record."""

    list_display = ["filename", "download", "description", "provider", "row_count", "made_by", "created"]
    list_filter = ["destination", "provider"]
    search_fields = ["filename", "description"]
    list_select_related = ["provider", "made_by"]
    date_hierarchy = "created"
    readonly_fields = [
        "filename", "destination", "provider", "description", "row_count", "made_by", "created", "download",
    ]  # fmt: skip
    fields = tuple(readonly_fields)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if scoping.sees_everything(request.user) or len(scoping.provider_ids(request.user)) > 1:
            return filters
        return [f for f in filters if (f[0] if isinstance(f, tuple) else f) != "provider"]

    @admin.display(description=gettext_lazy("file"))
    def download(self, obj):
        url = reverse("admin:learners_exportbatch_download", args=[obj.pk])
        return format_html('<a href="{}" class="download-again">{}</a>', url, _("Download again"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="learners_exportbatch_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, object_id):
        batch = self.get_object(request, object_id)  # 404 for another provider's batch
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        return csv_attachment(batch.content, batch.filename)
