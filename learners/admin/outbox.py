"""The email outbox in the admin: what was sent, what is waiting and why, read only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from learners.models import (
    OutboxMessage,
)
from learners.services import outbox_alerts
from portal.admin import ProviderScopedAdmin, ReadOnlyAdmin


class OverdueFilter(admin.SimpleListFilter):
    title = _("delivery")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        hours = int(outbox_alerts.alert_after().total_seconds() // 3600)
        return [("yes", ngettext("Undelivered after %d hour", "Undelivered after %d hours", hours) % hours)]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=outbox_alerts.overdue_emails().values("pk"))
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    list_display = [
        "subject", "kind", "recipient", "state", "attempts", "created", "sent_at", "alerted_at", "last_error_short",
    ]  # fmt: skip
    list_filter = [OverdueFilter, "kind", "state"]
    search_fields = ["recipient", "subject", "version__certificate__code"]
    list_select_related = ["version__certificate"]
    readonly_fields = [
        "kind", "version", "digest", "recipient", "subject", "state", "attempts", "last_error", "next_attempt_at",
        "sending_since", "lease_expires_at", "sent_at", "alerted_at", "requested_by", "created",
    ]  # fmt: skip
    fields = tuple(readonly_fields)

    @admin.display(description=_("last error"))
    def last_error_short(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error
