"""The attendance app's admin, one module per area; importing this package registers them all."""

from attendance.admin import sessions

__all__ = ["sessions"]
