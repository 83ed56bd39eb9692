"""The admin dashboard: a year's figures per activity, as the accreditor's annual report asks for them.

``/admin/learners/dashboard/`` (``admin:learners_dashboard``) and its CSV (``admin:learners_dashboard_csv``).
Provider staff (editors and viewers) see their own providers' activities and may narrow to one of them;
accreditation staff see every provider's and may narrow to one. A ``provider`` outside the user's scope is
a 404, never another provider's figures. What each figure means is in ``learners.selectors.dashboards``.

The views belong to no model, so they are registered here as pages of the portal's admin site
(``PortalAdminSite.register_page``, when the admin's autodiscovery imports ``learners.admin``) rather than
through a ModelAdmin, which would need a model, and a migration, to hang them on. The site serves them with
the admin's login redirect, staff check and no-cache headers.
"""

import re
from typing import cast

from django.contrib import admin
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from activities.models import Provider
from learners.selectors import dashboards
from portal import scoping
from portal.lib import svg_chart
from portal.lib.csv import write_rows
from portal.lib.http import csv_attachment
from portal.lib.querystring import with_params
from portal.sites import PortalAdminSite

MIN_YEAR, MAX_YEAR = 1990, 9998


def report_selection(request) -> tuple[int, Provider | None, list[Provider]]:
    """The year and provider asked for, and the providers the user may choose from (the CME dashboard's and
    the outcomes' yearly view's).

    Raises PermissionDenied for staff without a provider, BadRequest for a year that is not one, and
    Http404 for a provider the user may not see (or that does not exist).
    """
    user = request.user
    if not dashboards.may_see_dashboards(user=user):
        raise PermissionDenied
    raw_year = request.GET.get("year", "").strip()
    if not raw_year:
        year = timezone.localdate().year
    elif re.fullmatch(r"[0-9]{4}", raw_year) and MIN_YEAR <= int(raw_year) <= MAX_YEAR:
        year = int(raw_year)
    else:
        raise BadRequest(_("Choose a year between %(min)d and %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR})
    providers = list(dashboards.dashboard_providers(user=user))
    raw_provider = request.GET.get("provider", "").strip()
    provider = None
    if raw_provider:
        provider = next((p for p in providers if str(p.pk) == raw_provider), None)
        if provider is None:
            raise Http404(_("No such provider, or not one of yours."))
    return year, provider, providers


def dashboard_view(request):
    """The page: year and provider selectors, totals, the monthly chart and the per-activity table."""
    year, provider, providers = report_selection(request)
    activities = dashboards.dashboard_activities(user=request.user, provider=provider)
    report = dashboards.year_report(activities=activities, year=year)
    current = timezone.localdate().year
    first = dashboards.first_year(activities=activities) or current
    years = list(range(max(current, year), min(first, current, year) - 1, -1))
    monthly = report.monthly
    chart = svg_chart.bar_chart(
        title=_("Enrollments and completions by month, %(year)d") % {"year": year},
        labels=[formats.date_format(month, "M") for month in monthly.months],
        long_labels=[formats.date_format(month, "F") for month in monthly.months],
        series=[(_("Enrollments"), monthly.enrollments), (_("Completions"), monthly.completions)],
        y_label=_("Learners"),
        chart_id="monthly-chart",
    )
    scope_name = provider.name if provider else None
    if scope_name is None and len(providers) == 1:
        scope_name = providers[0].name
    context = {
        **admin.site.each_context(request),
        "title": _("CME dashboard %(year)d") % {"year": year},
        "year": year,
        "years": years,
        "provider": provider,
        "providers": providers,
        "may_choose_provider": len(providers) > 1,
        "sees_everything": scoping.sees_everything(request.user),
        "time_zone": timezone.get_current_timezone_name(),
        "scope_name": scope_name,
        "report": report,
        "chart": chart,
        "csv_url": reverse("admin:learners_dashboard_csv") + with_params(request.GET, year=year),
    }
    return TemplateResponse(request, "admin/learners/dashboard.html", context)


def dashboard_csv_view(request):
    """The per-activity table as CSV, one row per activity: the annual report's rows."""
    year, provider, _providers = report_selection(request)
    activities = dashboards.dashboard_activities(user=request.user, provider=provider)
    report = dashboards.year_report(activities=activities, year=year)
    filename = f"cme-annual-{year}-{provider.slug}.csv" if provider else f"cme-annual-{year}.csv"
    return csv_attachment(write_rows(dashboards.annual_report_rows(report=report)), filename)


site = cast(PortalAdminSite, admin.site)  # portal.apps.PortalAdminConfig makes the portal's site the default
site.register_page("learners/dashboard/", dashboard_view, name="learners_dashboard")
site.register_page("learners/dashboard/annual.csv", dashboard_csv_view, name="learners_dashboard_csv")
