"""``{% completion_steps steps %}``: the steps to credit (``assessments.selectors.steps``) as a list."""

from collections.abc import Sequence

from django import template

from assessments.selectors.steps import Step

register = template.Library()


@register.inclusion_tag("assessments/_steps.html")
def completion_steps(steps: Sequence[Step], heading_id: str = "steps-title", label: str = "") -> dict:
    """``{% completion_steps steps %}``: the ordered list of steps, named by the heading ``heading_id`` or,
    where the page has none for it, by ``label``."""
    return {"steps": steps, "heading_id": heading_id, "label": label}
