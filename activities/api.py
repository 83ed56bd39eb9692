"""The read-only JSON API over the catalog: the same filters as the catalog pages."""

from datetime import UTC
from zoneinfo import ZoneInfo

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from activities import selectors, vocabulary
from activities.filters import PAGE_SIZE, CatalogFilter, PageForm
from activities.models import Activity
from portal.lib.querystring import with_params


def _utc(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def activity_data(record: dict, *, request) -> dict:
    """One activity as the API shows it (field names and shapes as the design specifies)."""
    outcome_labels = dict(vocabulary.OUTCOME_CHOICES)
    return {
        "slug": record["slug"],
        "title": record["title"],
        "summary": record["summary"],
        "url": request.build_absolute_uri(reverse("activities:detail", kwargs={"slug": record["slug"]})),
        "activity_link": record["activity_link"],
        "provider": {"name": record["provider__name"], "slug": record["provider__slug"]},
        "activity_type": record["activity_type"],
        "format": record["format"],
        "start": _utc(record["start"]),
        "end": _utc(record["end"]),
        "fee": {
            "kind": record["fee_kind"],
            "amount": _amount(record["fee_amount"]) if record["fee_kind"] == Activity.Fee.FIXED else None,
        },
        "registration": record["registration_text"] or Activity.Registration(record["registration"]).label,
        "providership": record["providership"],
        "commercial_support": record["commercial_support"],
        "measured_outcomes": [outcome_labels.get(code, code) for code in record["measured_outcomes"]],
        "specialties": record["specialties"],
        "credits": [{"type": name, "amount": _amount(amount)} for name, amount in record["credits"]],
        "moc": [
            {
                "board": vocabulary.board_abbreviation(board),
                "credit_type": vocabulary.moc_credit_type_label(kind),
                "points": _amount(points),
            }
            for board, kind, points in record["moc"]
        ],
        "assessments": assessments_data(record["assessments"]),
        "sessions": [
            {
                "start": _utc(session["start"]),
                "end": _utc(session["end"]),
                "time_zone": session["time_zone"],
                "local_start": session["start"].astimezone(ZoneInfo(session["time_zone"])).isoformat(),
                "local_end": session["end"].astimezone(ZoneInfo(session["time_zone"])).isoformat(),
                "online": session["online"],
                "location": None
                if session["online"]
                else {key: session[key] for key in ("venue", "city", "state", "country")},
                "track": session["track"] or None,
                "credits": [{"type": name, "hours": _amount(hours)} for name, hours in session["credits"]],
            }
            for session in record["sessions"]
        ],
    }


def assessments_data(offered: dict[str, selectors.OfferedAssessment]) -> dict:
    """What a learner must or may take besides the activity itself: ``{"pre_test": bool, "post_test":
    {"passing_score", "attempts_allowed"} or null, "evaluation": bool}``. Only what learners are offered
    counts (an assessment with questions); ``attempts_allowed`` is null for unlimited attempts."""
    post_test = offered.get("post_test")
    return {
        "pre_test": "pre_test" in offered,
        "post_test": (
            None
            if post_test is None
            else {"passing_score": post_test.passing_score, "attempts_allowed": post_test.max_attempts}
        ),
        "evaluation": "evaluation" in offered,
    }


@require_GET
def activity_list(request):
    filterset = CatalogFilter(request.GET)
    pager = PageForm(request.GET)
    if not (filterset.is_valid() and pager.is_valid()):
        errors = {**filterset.errors.get_json_data(), **pager.errors.get_json_data()}
        return JsonResponse(
            {
                "detail": "Invalid query parameters.",
                "errors": {k: [e["message"] for e in v] for k, v in errors.items()},
            },
            status=400,
        )
    page = pager.cleaned_data["page"] or 1
    page_size = pager.cleaned_data["page_size"] or PAGE_SIZE
    try:
        result = selectors.catalog_search(
            params=filterset.form.cleaned_data,
            page=page,
            page_size=page_size,
            facets=False,
            load=selectors.activity_records,
        )
    except selectors.PageOutOfRange:
        return JsonResponse({"detail": "Invalid page."}, status=404)
    base = request.build_absolute_uri(request.path)
    return JsonResponse(
        {
            "count": result.total,
            "next": base + with_params(request.GET, page=page + 1) if result.has_next else None,
            "previous": (
                base + with_params(request.GET, page=page - 1 if page > 2 else None)
                if result.has_previous
                else None
            ),
            "results": [activity_data(record, request=request) for record in result.items],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def activity_detail(request, slug):
    found = selectors.activity_records(
        list(Activity.objects.published().filter(slug=slug).values_list("pk", flat=True)[:1])
    )
    if not found:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse(activity_data(found[0], request=request), json_dumps_params={"ensure_ascii": False})
