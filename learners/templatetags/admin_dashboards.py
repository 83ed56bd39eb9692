from django import template

from learners.selectors import dashboards

register = template.Library()


@register.simple_tag(takes_context=True)
def may_see_dashboards(context) -> bool:
    """Whether the signed-in user may open the admin dashboards (so the index offers the link)."""
    request = context.get("request")
    return request is not None and dashboards.may_see_dashboards(user=request.user)
