"""Learners' profiles in the admin, for accreditation staff only."""

from django.contrib import admin

from learners.models import (
    LearnerProfile,
)
from portal.admin import AccreditationStaffOnly, ReadOnlyAdmin


@admin.register(LearnerProfile)
class LearnerProfileAdmin(ReadOnlyAdmin, AccreditationStaffOnly, admin.ModelAdmin):
    list_display = ["user", "profession", "degree", "reporting_consent_at"]
    list_filter = ["profession"]
    search_fields = ["user__email", "user__last_name", "npi"]
    list_select_related = ["user"]
    # Accreditation staff add and correct profiles; none is deleted: claims and certificates name the learner.
    writable = frozenset({"add", "change"})
