"""Learners' profiles in the admin, for accreditation staff only."""

from django.contrib import admin

from learners.models import (
    LearnerProfile,
)
from portal.admin import AccreditationStaffOnly


@admin.register(LearnerProfile)
class LearnerProfileAdmin(AccreditationStaffOnly, admin.ModelAdmin):
    list_display = ["user", "profession", "degree", "reporting_consent_at"]
    list_filter = ["profession"]
    search_fields = ["user__email", "user__last_name", "npi"]
    list_select_related = ["user"]

    def has_delete_permission(self, request, obj=None):
        return False
