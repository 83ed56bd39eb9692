import json

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from activities.models import Activity
from activities.statements import italic_credit_name
from activities.text import activity_dates_text
from activities.text import fee_text as activity_fee_text
from portal.lib.querystring import with_params

register = template.Library()

_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


@register.simple_tag
def activity_dates(activity) -> str:
    return activity_dates_text(activity)


@register.filter
def credit_name_italic(text: str) -> str:
    """A statement, escaped, with the AMA credit name in italics as the AMA asks."""
    return mark_safe(italic_credit_name(escape(text)))  # noqa: S308 - escaped above


@register.simple_tag
def fee_text(activity) -> str:
    return activity_fee_text(activity)


@register.simple_tag
def querystring_with(query, **changes) -> str:
    return with_params(query, **changes)


@register.inclusion_tag("activities/_active_filters.html")
def active_filters(facets, query):
    chosen = []
    for facet in facets:
        if facet["selected"]:
            chosen.append(
                {"label": facet["label"], "value": facet["selected_label"], "url": facet["clear_url"]}
            )
    return {"chosen": chosen}


@register.simple_tag(takes_context=True)
def activity_jsonld(context, activity: Activity) -> str:
    """schema.org ``Course`` markup, so search engines can index the activity."""
    request = context["request"]
    mode = {"online": "online", "live_online": "online", "in_person": "onsite", "blended": "blended"}[
        activity.format
    ]
    price = str(activity.fee_amount) if activity.fee_kind == Activity.Fee.FIXED else "0"
    data = {
        "@context": "https://schema.org",
        "@type": "Course",
        "name": activity.title,
        "description": activity.summary,
        "url": request.build_absolute_uri(activity.get_absolute_url()),
        "provider": {
            "@type": "Organization",
            "name": activity.provider.name,
            "url": activity.provider.website or None,
        },
        "about": [specialty.name for specialty in activity.specialties.all()],
        "educationalCredentialAwarded": [
            f"{credit.max_amount} {credit.credit_type.label}" for credit in activity.credits.all()
        ],
        "hasCourseInstance": {
            "@type": "CourseInstance",
            "courseMode": mode,
            "startDate": activity.start.isoformat(),
            "endDate": activity.end.isoformat(),
            **({"location": activity.location} if activity.location else {}),
        },
        "offers": {
            "@type": "Offer",
            "category": "Free" if activity.fee_kind == Activity.Fee.FREE else "Paid",
            "priceCurrency": "USD",
            # A variable fee has no one price to state.
            **({"price": price} if activity.fee_kind != Activity.Fee.VARIABLE else {}),
        },
    }
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308
