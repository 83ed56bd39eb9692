"""Enrollments and claims in the admin, read only: they change through the learner's own pages and the services."""

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter

from learners.models import (
    ClaimedCredit,
    ClaimedMoc,
    CreditClaim,
    Enrollment,
)
from portal.admin import PortalFormFields, ProviderScopedAdmin, ReadOnlyAdmin


class ClaimedCreditInline(ReadOnlyAdmin, PortalFormFields, admin.TabularInline):
    model = ClaimedCredit
    extra = 0
    can_delete = False
    readonly_fields = ["credit_type", "amount"]


class ClaimedMocInline(ReadOnlyAdmin, PortalFormFields, admin.TabularInline):
    model = ClaimedMoc
    extra = 0
    can_delete = False
    readonly_fields = ["board", "credit_type", "points", "board_id"]


@admin.register(CreditClaim)
class CreditClaimAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    """What a learner attested is never edited."""

    list_display = ["enrollment", "claimed_at", "profession"]
    list_filter = ["profession", ("enrollment__activity", RelatedOnlyFieldListFilter)]
    search_fields = ["enrollment__learner__email", "enrollment__activity__title"]
    list_select_related = ["enrollment__learner", "enrollment__activity"]
    readonly_fields = ["enrollment", "claimed_at", "attested", "profession"]
    fields = tuple(readonly_fields)
    inlines = [ClaimedCreditInline, ClaimedMocInline]


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    list_display = ["learner", "activity", "status", "created", "completed_at"]
    list_filter = ["status", ("activity", RelatedOnlyFieldListFilter)]
    search_fields = ["learner__email", "learner__last_name", "activity__title"]
    list_select_related = ["learner", "activity"]
    readonly_fields = ["public_id", "learner", "activity", "status", "created", "completed_at"]
    fields = tuple(readonly_fields)
