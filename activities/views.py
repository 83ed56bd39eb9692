from html import escape

from django.core.cache import caches
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from activities import catalog_index, selectors, statements
from activities.filters import PAGE_SIZE, SORT_CHOICES, CatalogFilter, PageForm
from activities.models import Activity
from portal.lib.querystring import with_params


def home(request):
    overview = selectors.catalog_overview()
    cards = rendered_cards(overview.starting_soon, request=request)
    return render(request, "activities/home.html", {"overview": overview, "cards": cards})


def catalog(request):
    """The public catalog: keywords, filters with facet counts, sorting, pages; all in the URL."""
    filterset = CatalogFilter(request.GET)
    pager = PageForm(request.GET)
    context = {"filterset": filterset, "form": filterset.form, "sort_choices": SORT_CHOICES}
    if not (filterset.is_valid() and pager.is_valid()):
        context["errors"] = {**filterset.errors, **pager.errors}
        return render(request, "activities/catalog.html", context, status=400)
    params = filterset.form.cleaned_data
    page_size = pager.cleaned_data["page_size"] or PAGE_SIZE
    try:
        result = selectors.catalog_search(
            params=params, page=pager.cleaned_data["page"] or 1, page_size=page_size
        )
    except selectors.PageOutOfRange:
        raise Http404(_("There is no such page of results.")) from None
    context.update(
        result=result,
        cards=rendered_cards(result.items, request=request),
        facets=_facet_links(request.GET, result.facets, filterset),
    )
    return render(request, "activities/catalog.html", context)


def rendered_cards(cards, *, request) -> list[str]:
    """Each card's HTML, rendered once per catalog version and language and then reused (template
    fragment caching: a card shows only its activity's data, which the catalog token versions)."""
    fragments = caches["fragments"]
    token = catalog_index.last_index().token
    language = get_language()
    keys = [f"card:{token}:{language}:{card.pk}" for card in cards]
    found = fragments.get_many(keys)
    missing = {}
    for key, card in zip(keys, cards, strict=True):
        if key not in found:
            found[key] = missing[key] = render_to_string("activities/_card.html", {"activity": card}, request)
    if missing:
        fragments.set_many(missing)
    return [found[key] for key in keys]


def _facet_links(query, facets, filterset):
    """Each facet with its values' counts, as ready ``<option>`` elements (a page may list hundreds)."""
    shown = []
    for name in selectors.FACET_PARAMS:
        selected = query.get(name, "").lower()
        if name == "free" and filterset.form.cleaned_data.get("free") is not None:
            selected = "true" if filterset.form.cleaned_data["free"] else "false"  # also spelled 1 or 0
        values = facets.get(name, [])
        chosen = next((v for v in values if v.value.lower() == selected), None) if selected else None
        # Plain string building: format_html costs more than the rest of the page for a few hundred values.
        options = mark_safe(  # noqa: S308 - every value is escaped here
            "\n".join(
                f'<option value="{escape(v.value)}"{" selected" if v is chosen else ""}>'
                f"{escape(v.label)} ({v.count:,})</option>"
                for v in values
            )
        )
        shown.append(
            {
                "name": name,
                "label": filterset.filters[name].label,
                "options": options,
                "selected": query.get(name, ""),
                "selected_label": chosen.label if chosen else query.get(name, ""),
                "clear_url": with_params(query, **{name: None, "page": None}),
            }
        )
    return shown


def detail(request, slug):
    try:
        activity = selectors.activity_for_page(slug=slug)
    except Activity.DoesNotExist:
        raise Http404(_("No published activity has this address.")) from None
    accreditation = statements.accreditation_statements(activity)
    context = {
        "activity": activity,
        "ja_statement": accreditation.ja,
        "accreditation_statements": accreditation.others,
        "moc_statements": statements.moc_statements(
            (m.board, m.credit_type, m.points) for m in activity.moc.all()
        ),
    }
    return render(request, "activities/detail.html", context)
