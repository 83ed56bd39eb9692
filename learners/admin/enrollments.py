"""Enrollments and claims in the admin, read only: they change through the learner's own pages and the services."""

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter

from learners.models import (
    ClaimedCredit,
    ClaimedMoc,
    CreditClaim,
    Enrollment,
)
from portal.admin import PortalFormFields, ProviderScopedAdmin


class ClaimedCreditInline(PortalFormFields, admin.TabularInline):
    model = ClaimedCredit
    extra = 0
    can_delete = False
    readonly_fields = ["credit_type", "amount"]

    def has_add_permission(self, request, obj=None):
        return False


class ClaimedMocInline(PortalFormFields, admin.TabularInline):
    model = ClaimedMoc
    extra = 0
    can_delete = False
    readonly_fields = ["board", "credit_type", "points", "board_id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CreditClaim)
class CreditClaimAdmin(ProviderScopedAdmin, admin.ModelAdmin):
    list_display = ["enrollment", "claimed_at", "profession"]
    list_filter = ["profession", ("enrollment__activity", RelatedOnlyFieldListFilter)]
    search_fields = ["enrollment__learner__email", "enrollment__activity__title"]
    list_select_related = ["enrollment__learner", "enrollment__activity"]
    readonly_fields = ["enrollment", "claimed_at", "attested", "profession"]
    fields = readonly_fields
    inlines = [ClaimedCreditInline, ClaimedMocInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # what a learner attested is never edited

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(ProviderScopedAdmin, admin.ModelAdmin):
    list_display = ["learner", "activity", "status", "created", "completed_at"]
    list_filter = ["status", ("activity", RelatedOnlyFieldListFilter)]
    search_fields = ["learner__email", "learner__last_name", "activity__title"]
    list_select_related = ["learner", "activity"]
    readonly_fields = ["public_id", "learner", "activity", "status", "created", "completed_at"]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
