"""The outcomes of an activity's assessments, and a provider's activities by measured outcome.

- ``/admin/assessments/outcomes/<activity id>/`` (``admin:assessments_outcomes``): one activity's funnel,
  pass rates, score distribution, question difficulty, knowledge change, evaluation items and free-text
  answers (``?q=`` searches them, ``?page=`` pages them), with SVG charts and a table beside each;
  ``.../export.csv?table=funnel|scores|questions|knowledge|evaluation|free_text``
  (``admin:assessments_outcomes_csv``) gives each table as CSV (``free_text`` honours ``q``).
- ``/admin/assessments/outcomes/annual/`` (``admin:assessments_outcomes_annual``, ``?year=&provider=
  &outcome=``) and ``annual.csv`` (``admin:assessments_outcomes_annual_csv``): a provider's activities of a
  year with what their listing says they measure and what their assessments measured.
- The attempts themselves, read-only (``admin:assessments_attempt_changelist``): who, which test, which
  attempt, the score, and on its page the answers as given, with the questions of the version taken.

Reading needs any role at the activity's provider (editors and viewers alike) or accreditation staff; an
activity or provider outside the user's scope is a 404. Nothing here writes. The figures' definitions are in
``assessments.selectors.outcomes``.
"""

from collections.abc import Callable
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from activities import vocabulary
from activities.models import Activity, Provider
from assessments.models import Assessment, Attempt
from assessments.selectors import outcomes as selectors
from assessments.selectors import outcomes_annual, outcomes_free_text, outcomes_tables
from assessments.selectors.outcomes_catalog import catalog_of
from learners.admin.dashboards import report_selection
from learners.selectors.dashboards import may_see_dashboards
from portal import scoping
from portal.admin import ProviderScopedAdmin, ReadOnlyAdmin, scope_queryset
from portal.lib import svg_chart
from portal.lib.csv import write_rows
from portal.lib.http import csv_attachment
from portal.lib.querystring import with_params
from portal.sites import PortalAdminSite


def _activity(request: HttpRequest, activity_id: int) -> Activity:
    """The activity, if the user may read its provider's data; a 404 otherwise."""
    activities = scope_queryset(Activity.objects.select_related("provider"), request.user)
    activity = activities.filter(pk=activity_id).first()
    if activity is None or not may_see_dashboards(user=request.user):
        raise Http404(_("No such activity, or it belongs to a provider you are not a member of."))
    return activity


def _search(request: HttpRequest) -> str:
    q = " ".join(request.GET.get("q", "").split())
    if len(q) > outcomes_free_text.MAX_SEARCH:
        raise BadRequest(
            _("The parameter q is longer than %(n)d characters.") % {"n": outcomes_free_text.MAX_SEARCH}
        )
    return q


def _charts(report: selectors.Outcomes) -> dict[str, Any]:
    charts: dict[str, Any] = {
        "funnel": svg_chart.bar_chart(
            title=_("Completion funnel"),
            labels=[step.short for step in report.funnel.steps],
            long_labels=[step.label for step in report.funnel.steps],
            series=[(_("Learners"), [step.learners for step in report.funnel.steps])],
            y_label=_("Learners"),
            chart_id="funnel-chart",
            height=260,
        )
    }
    if report.scores:
        charts["scores"] = svg_chart.bar_chart(
            title=_("Best post-test score per learner"),
            labels=[score_bin.label for score_bin in report.scores],
            long_labels=[_("%(range)s %%") % {"range": b.label} for b in report.scores],
            series=[(_("Learners"), [score_bin.learners for score_bin in report.scores])],
            y_label=_("Learners"),
            chart_id="scores-chart",
            height=260,
        )
    knowledge = report.knowledge
    if knowledge is not None and knowledge.questions:
        charts["knowledge"] = svg_chart.bar_chart(
            title=_("Share correct per question, pre-test and post-test (matched learners)"),
            labels=[f"Q{q.number}" for q in knowledge.questions],
            long_labels=[_("Question %(n)d") % {"n": q.number} for q in knowledge.questions],
            series=[
                (_("Pre-test % correct"), [round(q.pre_share or 0) for q in knowledge.questions]),
                (_("Post-test % correct"), [round(q.post_share or 0) for q in knowledge.questions]),
            ],
            y_label=_("% correct"),
            chart_id="knowledge-chart",
        )
    charts["likert"] = {
        item.number: svg_chart.bar_chart(
            title=_("Item %(n)d: answers from 1 to 5") % {"n": item.number},
            labels=[str(value) for value, _label, _count in item.likert],
            long_labels=[f"{value} ({label})" for value, label, _count in item.likert],
            series=[(_("Answers"), [count for _value, _label, count in item.likert])],
            chart_id=f"likert-chart-{item.number}",
            width=360,
            height=200,
        )
        for item in report.evaluation_items
        if item.is_likert
    }
    return charts


@require_safe
def outcomes_view(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(request, activity_id)
    q = _search(request)
    report = selectors.activity_outcomes(activity=activity)
    free_page, free_rows = None, cast(list[outcomes_free_text.FreeTextAnswer], [])
    if report.evaluation is not None:
        free_page, free_rows = outcomes_free_text.free_text_page(
            evaluation=report.evaluation,
            catalog=report.catalogs[report.evaluation.kind],
            q=q,
            page=request.GET.get("page", "1"),
        )
    csv_url = reverse("admin:assessments_outcomes_csv", args=[activity.pk])
    context = {
        **admin.site.each_context(request),
        "title": _("Outcomes: %(title)s") % {"title": activity.title},
        "activity": activity,
        "report": report,
        "charts": _charts(report),
        "q": q,
        "free_page": free_page,
        "free_rows": free_rows,
        "csv": {table: f"{csv_url}?table={table}" for table in outcomes_tables.TABLES},
        "free_text_csv": f"{csv_url}" + with_params({"table": "free_text", "q": q}),
        "page_query": with_params({"q": q}, page=None),
        "attempts_url": reverse("admin:assessments_attempt_changelist")
        + with_params({"enrollment__activity__id__exact": activity.pk}),
        "annual_url": reverse("admin:assessments_outcomes_annual")
        + with_params({"provider": activity.provider_id, "year": timezone.localtime(activity.start).year}),
    }
    return TemplateResponse(request, "admin/assessments/outcomes.html", context)


@require_safe
def outcomes_csv_view(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(request, activity_id)
    table = request.GET.get("table", "")
    if table not in outcomes_tables.TABLES:
        raise BadRequest(
            _("The parameter table must be one of: %(tables)s.")
            % {"tables": ", ".join(outcomes_tables.TABLES)}
        )
    filename = f"outcomes-{activity.slug}-{table.replace('_', '-')}.csv"
    if table == "free_text":
        q = _search(request)
        evaluation = Assessment.objects.filter(activity=activity, kind=Assessment.Kind.EVALUATION).first()
        rows: list = []
        if evaluation is not None:
            catalog = catalog_of(evaluation.versions.all())
            rows = outcomes_free_text.free_text_rows(evaluation=evaluation, catalog=catalog, q=q)
        return csv_attachment(write_rows(outcomes_tables.free_text_rows(rows)), filename)
    report = selectors.activity_outcomes(activity=activity, parts={table})
    writers = {
        "funnel": outcomes_tables.funnel_rows,
        "scores": outcomes_tables.score_rows,
        "questions": outcomes_tables.question_rows,
        "knowledge": outcomes_tables.knowledge_rows,
        "evaluation": outcomes_tables.evaluation_rows,
    }
    return csv_attachment(write_rows(writers[table](report)), filename)


# --- the annual view -----------------------------------------------------------------------------------


def _annual_selection(request: HttpRequest) -> tuple[int, Provider, list[Provider], str]:
    year, chosen, providers = report_selection(request)
    provider = chosen or (providers[0] if providers else None)
    if provider is None:
        raise Http404(_("There is no provider to show."))
    outcome = request.GET.get("outcome", "").strip()
    if outcome and outcome not in dict(vocabulary.OUTCOME_CHOICES):
        raise BadRequest(_("The parameter outcome names no measured outcome."))
    return year, provider, providers, outcome


@require_safe
def annual_view(request: HttpRequest) -> HttpResponse:
    year, provider, providers, outcome = _annual_selection(request)
    report = outcomes_annual.annual_outcomes(provider=provider, year=year, outcome=outcome)
    current = timezone.localdate().year
    context = {
        **admin.site.each_context(request),
        "title": _("Outcomes of %(provider)s, %(year)d") % {"provider": provider.name, "year": year},
        "report": report,
        "year": year,
        "years": list(range(max(current, year) + 1, min(current, year) - 6, -1)),
        "provider": provider,
        "providers": providers,
        "outcome": outcome,
        "outcome_choices": vocabulary.OUTCOME_CHOICES,
        "sees_everything": scoping.sees_everything(request.user),
        "csv_url": reverse("admin:assessments_outcomes_annual_csv")
        + with_params({"year": year, "provider": provider.pk, "outcome": outcome}),
    }
    return TemplateResponse(request, "admin/assessments/outcomes_annual.html", context)


@require_safe
def annual_csv_view(request: HttpRequest) -> HttpResponse:
    year, provider, _providers, outcome = _annual_selection(request)
    report = outcomes_annual.annual_outcomes(provider=provider, year=year, outcome=outcome)
    suffix = f"-{outcome}" if outcome else ""
    return csv_attachment(
        write_rows(outcomes_annual.annual_rows(report)), f"outcomes-{provider.slug}-{year}{suffix}.csv"
    )


site = cast(PortalAdminSite, admin.site)  # portal.apps.PortalAdminConfig makes the portal's site the default
site.register_page("assessments/outcomes/annual/", annual_view, name="assessments_outcomes_annual")
site.register_page("assessments/outcomes/annual.csv", annual_csv_view, name="assessments_outcomes_annual_csv")
# The site's registry types its pages as taking the request alone; these also take the URL's activity id.
site.register_page(
    "assessments/outcomes/<int:activity_id>/",
    cast(Callable[[HttpRequest], HttpResponse], outcomes_view),
    name="assessments_outcomes",
)
site.register_page(
    "assessments/outcomes/<int:activity_id>/export.csv",
    cast(Callable[[HttpRequest], HttpResponse], outcomes_csv_view),
    name="assessments_outcomes_csv",
)


# --- the attempts, read-only ---------------------------------------------------------------------------


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    list_display = ["submitted_at", "learner", "activity", "kind", "number", "score", "passed"]
    list_select_related = ["enrollment__learner", "enrollment__activity", "assessment"]
    list_filter = ["assessment__kind", "passed", ("enrollment__activity", RelatedOnlyFieldListFilter)]
    search_fields = [
        "enrollment__learner__email",
        "enrollment__learner__first_name",
        "enrollment__learner__last_name",
        "enrollment__activity__title",
    ]
    date_hierarchy = "submitted_at"
    ordering = ["-submitted_at", "-pk"]

    class Media:
        css = {"all": ["assessments/admin-outcomes.css"]}  # underlined breadcrumbs, the answers' table

    readonly_fields = [
        "learner",
        "activity",
        "assessment",
        "version_number",
        "number",
        "submitted_at",
        "score",
        "correct",
        "scored",
        "passed",
        "outcomes_link",
        "answers_given",
    ]
    fields = list(readonly_fields)

    def get_queryset(self, request):
        # The change list adds ``list_select_related`` only to a queryset that selects nothing yet.
        return (
            super()
            .get_queryset(request)
            .select_related("version", "assessment", "enrollment__learner", "enrollment__activity__provider")
        )

    @admin.display(description=gettext_lazy("learner"), ordering="enrollment__learner__email")
    def learner(self, obj: Attempt) -> str:
        user = obj.enrollment.learner
        name = user.get_full_name()
        return f"{name} <{user.email}>" if name else user.email

    @admin.display(description=gettext_lazy("activity"), ordering="enrollment__activity__title")
    def activity(self, obj: Attempt) -> str:
        return obj.enrollment.activity.title

    @admin.display(description=gettext_lazy("kind"), ordering="assessment__kind")
    def kind(self, obj: Attempt) -> str:
        return obj.assessment.get_kind_display()

    @admin.display(description=gettext_lazy("version"))
    def version_number(self, obj: Attempt) -> int:
        return obj.version.number

    @admin.display(description=gettext_lazy("outcomes"))
    def outcomes_link(self, obj: Attempt) -> str:
        url = reverse("admin:assessments_outcomes", args=[obj.enrollment.activity_id])
        return format_html('<a href="{}">{}</a>', url, _("The activity's outcomes"))

    @admin.display(description=gettext_lazy("answers as given"))
    def answers_given(self, obj: Attempt) -> str:
        given = {answer.question_pk: answer for answer in obj.answers.all()}
        rows = []
        for number, question in enumerate(obj.version.content.get("questions", []), start=1):
            answer = given.get(question["id"])
            rows.append((number, question["text"], *_answer_cells(question, answer)))
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            rows,
        )
        return format_html(
            '<table class="attempt-answers"><thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
            '<th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            _("No."),
            _("Question"),
            _("Answer given"),
            _("Correct answer"),
            _("Result"),
            body,
        )


def _answer_cells(question: dict, answer) -> tuple[str, str, str]:
    """The answer given, the correct answer and the result, as the attempt's page shows them."""
    choices = {c["id"]: c["text"] for c in question.get("choices", [])}
    correct = "; ".join(c["text"] for c in question.get("choices", []) if c["correct"])
    if answer is None:
        return _("(no answer)"), correct, "—"
    if answer.choice_ids:
        given = "; ".join(choices.get(cid, _("(choice %(id)s)") % {"id": cid}) for cid in answer.choice_ids)
    elif answer.value is not None:
        given = f"{answer.value} · {selectors.LIKERT_LABELS.get(answer.value, '')}"
    else:
        given = linebreaks(answer.text, autoescape=True)
    result = {True: _("Correct"), False: _("Wrong"), None: "—"}[answer.correct]
    return given, correct, result
