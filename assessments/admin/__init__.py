"""The assessments app's admin: authoring (assessments, questions, templates) and outcomes; importing this
package registers them all."""

from assessments.admin import authoring, outcomes

__all__ = ["authoring", "outcomes"]
