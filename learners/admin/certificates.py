"""Certificates in the admin: their versions, revoking, reissuing and resending, and the name as certified."""

from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from learners.admin.forms import ReasonForm
from learners.models import (
    Certificate,
    CertificateVersion,
    OutboxMessage,
    ReportingEntry,
)
from learners.services import certificates, snapshots
from portal import audit
from portal.admin import PortalFormFields, ProviderScopedAdmin, ReadOnlyAdmin


class DeliveryFilter(admin.SimpleListFilter):
    title = _("delivery")
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [*OutboxMessage.State.choices, ("none", _("No email yet"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(latest_delivery__isnull=True)
        if value in OutboxMessage.State.values:
            return queryset.filter(latest_delivery=value)
        return queryset


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("valid", _("Valid")), ("revoked", _("Revoked"))]

    def queryset(self, request, queryset):
        if self.value() == "valid":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class CertificateVersionInline(ReadOnlyAdmin, PortalFormFields, admin.TabularInline):
    model = CertificateVersion
    extra = 0
    readonly_fields = ["number", "issued_at", "reason", "issued_by"]
    fields = tuple(readonly_fields)
    can_delete = False


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    list_display = ["code", "learner", "activity", "created", "status", "delivery", "name_check"]
    list_filter = [StatusFilter, DeliveryFilter, ("enrollment__activity", RelatedOnlyFieldListFilter)]
    search_fields = [
        "code",
        "enrollment__learner__email",
        "enrollment__learner__last_name",
        "enrollment__activity__title",
    ]
    list_select_related = ["enrollment__learner__profile", "enrollment__activity"]
    readonly_fields = [
        "code",
        "verification_id",
        "enrollment",
        "name_check",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
        "created",
    ]
    fields = tuple(readonly_fields)
    inlines = [CertificateVersionInline]
    actions = ["revoke", "reissue", "resend"]
    # Issued by claims, never typed in; kept for verification, never deleted (revoke it instead). Revoking,
    # reissuing and resending need the change permission: the fields themselves are all read only.
    writable = frozenset({"change"})

    def get_queryset(self, request):
        latest = OutboxMessage.objects.filter(version__certificate=OuterRef("pk")).order_by("-created")
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_delivery=Subquery(latest.values("state")[:1]),
                certified_name=snapshots.certified_name_of("pk"),
            )
        )

    @admin.display(description=_("name"))
    def name_check(self, obj):
        """The name as certified, flagged when the learner's name has changed since: the registry rows keep
        the certified one until the certificate is reissued."""
        learner = obj.enrollment.learner
        if not snapshots.name_changed_since_issue(certified_name=obj.certified_name, learner=learner):
            return obj.certified_name or "—"
        return format_html(
            '<strong class="name-changed">{}</strong> {}',
            _("Name changed since issue:"),
            _("certified as “%(old)s”, now “%(new)s”. Reissue to certify the new name.")
            % {
                "old": obj.certified_name,
                "new": snapshots.certificate_name(learner, getattr(learner, "profile", None)),
            },
        )

    @admin.display(description=_("learner"), ordering="enrollment__learner__last_name")
    def learner(self, obj):
        return obj.enrollment.learner.get_full_name() or obj.enrollment.learner.email

    @admin.display(description=_("activity"))
    def activity(self, obj):
        return obj.enrollment.activity.title

    @admin.display(description=_("status"))
    def status(self, obj):
        return _("Revoked") if obj.is_revoked else _("Valid")

    @admin.display(description=_("delivery"))
    def delivery(self, obj):
        return dict(OutboxMessage.State.choices).get(obj.latest_delivery, _("No email yet"))

    @admin.action(description=_("Revoke selected certificates (with a reason)"), permissions=["change"])
    def revoke(self, request, queryset):
        def act(will, data):
            for certificate in will:
                certificates.revoke_certificate(
                    certificate=certificate, reason=data["reason"], by=audit.actor_of(request)
                )
            count = len(will)
            self.message_user(
                request, ngettext("%d certificate revoked.", "%d certificates revoked.", count) % count
            )
            self._warn_of_reported_credit(request, [certificate.pk for certificate in will])

        return self.confirm_then(
            request,
            queryset,
            action="revoke",
            title=_("Revoke certificates"),
            form_class=ReasonForm,
            refusal=certificates.revoke_refusal,
            act=act,
        )

    def _warn_of_reported_credit(self, request, certificate_ids):
        """Revoked credit already sent to a registry stays on its record until staff correct it there."""
        sent = ReportingEntry.objects.filter(
            claim__enrollment__certificate__in=certificate_ids,
            state__in=[ReportingEntry.State.EXPORTED, ReportingEntry.State.ACCEPTED],
        ).count()
        if sent:
            self.message_user(
                request,
                ngettext(
                    "%d reporting row of these certificates was already sent to its registry: correct it "
                    "there. Rows not yet sent are withdrawn.",
                    "%d reporting rows of these certificates were already sent to their registries: correct "
                    "them there. Rows not yet sent are withdrawn.",
                    sent,
                )
                % sent,
                messages.WARNING,
            )

    @admin.action(description=_("Reissue selected certificates from current details"), permissions=["change"])
    def reissue(self, request, queryset):
        def act(will, data):
            count = 0
            for certificate in will:
                try:
                    certificates.reissue_certificate(
                        certificate=certificate, by=audit.actor_of(request), reason=data["reason"]
                    )
                    count += 1
                except certificates.CertificateError as exc:  # revoked since the preview
                    self.message_user(request, f"{certificate.code}: {exc}", messages.WARNING)
            self.message_user(
                request,
                ngettext(
                    "%d certificate reissued and emailed.", "%d certificates reissued and emailed.", count
                )
                % count,
            )

        return self.confirm_then(
            request,
            queryset,
            action="reissue",
            title=_("Reissue certificates"),
            form_class=ReasonForm,
            refusal=certificates.reissue_refusal,
            act=act,
        )

    @admin.action(description=_("Email selected certificates again"), permissions=["change"])
    def resend(self, request, queryset):
        def act(will, data):
            sent = 0
            for certificate in will:
                try:
                    certificates.resend_certificate(certificate=certificate, by=audit.actor_of(request))
                    sent += 1
                except certificates.CertificateError as exc:
                    self.message_user(request, f"{certificate.code}: {exc}", messages.WARNING)
            self.message_user(
                request,
                ngettext("%d certificate queued to email.", "%d certificates queued to email.", sent) % sent,
            )

        return self.confirm_then(
            request,
            queryset,
            action="resend",
            title=_("Email certificates again"),
            refusal=certificates.resend_refusal,
            act=act,
        )
