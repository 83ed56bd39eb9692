"""The reporting ledger's admin: what the registries are owed, row by row, with each provider's deadlines,
and the actions that settle a row or put it back in the queue. Its pages (export files, returned files, an
activity's CSV) are ``reporting_pages``; the files already exported are ``exports``.

Everything here reads through ``ProviderScopedAdmin`` querysets, so a provider's staff reach only their
providers' rows, and writes only through ``learners.services.reporting``, whose services hold the rules
(which rows a file takes, which rows may be settled or requeued) and say what they did and skipped; the
admin collects the choices and shows the answer. Exporting, settling and uploading returned files change
the ledger, so they need an editor's role; viewers read and download."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from learners.admin.forms import RejectForm
from learners.admin.reporting_pages import ReportingPages
from learners.models import ReportingEntry
from learners.services import snapshots
from learners.services.reporting import ledger
from portal import audit, scoping
from portal.admin import ReadOnlyAdmin


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
class ReportingEntryAdmin(ReadOnlyAdmin, ReportingPages):
    """The ledger: its rows, their deadlines per provider, and the actions that settle or requeue them;
    who may report, and the export, returned-file and activity-CSV pages, come from ``ReportingPages``."""

    # Few, wrapping columns, so the list fits a 1280-pixel screen: the board goes with its credit type, and
    # the state with its action and reason (tests/reporting/test_ledger_browser.py checks the width).
    list_display = [
        "learner_name",
        "activity",
        "destination",
        "credit_display",
        "amount",
        "completed_on",
        "due_on",
        "state_display",
    ]
    list_filter = [
        "state",
        "destination",
        "action",
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

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if scoping.sees_everything(request.user) or len(scoping.provider_ids(request.user)) > 1:
            columns.insert(2, "provider")
        return columns

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(certified_name=snapshots.certified_name_of("claim__enrollment__certificate"))
        )

    @admin.display(description=gettext_lazy("learner"), ordering="learner__last_name")
    def learner_name(self, obj):
        """The learner, flagged when their name changed since the certificate was issued (the file carries
        the certified name until it is reissued), with the certificate a click away."""
        name = obj.learner.get_full_name() or obj.learner.email
        if not snapshots.name_changed_since_issue(certified_name=obj.certified_name, learner=obj.learner):
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

    @admin.display(description=gettext_lazy("board and credit or MOC type"), ordering="credit_type")
    def credit_display(self, obj):
        if not obj.board_label:
            return obj.credit_type_label
        return format_html("{}: {}", obj.board_label, obj.credit_type_label)

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_display(self, obj):
        """The state; a correction's delete row says so; a held or rejected row says why beneath."""
        state = obj.get_state_display()
        if obj.action == ReportingEntry.Action.DELETE:
            state = _("%(state)s (delete of a row sent)") % {"state": state}
        if not obj.reason:
            return state
        return format_html('{}<br><span class="reason">{}</span>', state, obj.reason)

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
