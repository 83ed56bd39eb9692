"""The learners app's admin, one module per area; importing this package registers them all."""

from learners.admin import certificates, dashboards, enrollments, exports, outbox, profiles, reporting

__all__ = ["certificates", "dashboards", "enrollments", "exports", "outbox", "profiles", "reporting"]
