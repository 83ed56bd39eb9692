"""The catalog's filters: one FilterSet validates every parameter (HTML and API alike) and states, as
queryset filters, exactly what each one means. ``selectors.catalog_search`` answers the same questions from
the in-memory index; the tests hold the two to the same results.
"""

from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities import vocabulary
from activities.models import Activity, CreditType, Provider, Session, Specialty
from activities.search import keyword_filter
from portal.forms import BoundedDateField

SORT_CHOICES = [
    ("relevance", _("Relevance")),
    ("-start", _("Newest first")),
    ("start", _("Start date")),
    ("credits", _("Most credit")),
    ("title", _("Title")),
]
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class StrictBooleanField(forms.Field):
    """``true``/``false`` or ``1``/``0``; anything else is an error, never silently ignored."""

    default_error_messages = {"invalid": _("Use true or false (or 1 or 0).")}

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).strip().lower()
        if lowered in {"true", "1"}:
            return True
        if lowered in {"false", "0"}:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class BoardField(forms.ChoiceField):
    """Board abbreviations in any case: ``ABPath`` and ``ABPATH`` are the same board."""

    def to_python(self, value):
        return super().to_python(value).upper()


class BoardFilter(django_filters.ChoiceFilter):
    field_class = BoardField


class DateFilter(django_filters.DateFilter):
    """A day within the range people search (``portal.forms.BoundedDateField``); a far date is an error on
    the parameter, not an overflow when the day's end is computed."""

    field_class = BoundedDateField


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of(day: date) -> datetime | None:
    """The moment the day is over (the next day's start, UTC); None after the last representable day."""
    if day >= date.max:
        return None
    return start_of(day + timedelta(days=1))


def _sessions(**lookups) -> Exists:
    return Exists(Session.objects.filter(activity=OuterRef("pk"), **lookups))


def starts_between(*, after: datetime | None, before: datetime | None) -> Q:
    """Activities starting in ``[after, before)`` (None: unbounded): for one with sessions, one of its
    sessions starts there (the same session meets both bounds); for one without, its own start does."""
    bounds = {}
    if after is not None:
        bounds["start__gte"] = after
    if before is not None:
        bounds["start__lt"] = before
    return Q(_sessions(**bounds)) | (~Q(_sessions()) & Q(**bounds))


def not_over(now: datetime) -> Q:
    """Activities not over at ``now``: the last session ends at ``now`` or later, or, for one without
    sessions, its own end does."""
    return Q(_sessions(end__gte=now)) | (~Q(_sessions()) & Q(end__gte=now))


class CatalogFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Keywords"), method="filter_keywords", max_length=200)
    specialty = django_filters.ModelChoiceFilter(
        label=_("Specialty"), queryset=Specialty.objects.all(), to_field_name="slug", field_name="specialties"
    )
    activity_type = django_filters.ChoiceFilter(
        label=_("Activity type"), choices=vocabulary.ACTIVITY_TYPE_CHOICES
    )
    format = django_filters.ChoiceFilter(label=_("Format"), choices=vocabulary.FORMAT_CHOICES)
    credit_type = django_filters.ModelChoiceFilter(
        label=_("Credit type"), queryset=CreditType.objects.all(), field_name="credits__credit_type"
    )
    moc_board = BoardFilter(
        label=_("MOC board"), choices=vocabulary.MOC_BOARD_CHOICES, field_name="moc__board", distinct=True
    )
    moc_credit_type = django_filters.ChoiceFilter(
        label=_("MOC credit type"),
        choices=vocabulary.MOC_CREDIT_TYPE_CHOICES,
        field_name="moc__credit_type",
        distinct=True,
    )
    free = StrictBooleanFilter(label=_("Free"), method="filter_free")
    provider = django_filters.ModelChoiceFilter(
        label=_("Provider"), queryset=Provider.objects.all(), to_field_name="slug"
    )
    starts_after = DateFilter(label=_("Starts on or after"), method="filter_nothing")
    starts_before = DateFilter(label=_("Starts on or before"), method="filter_nothing")
    include_past = StrictBooleanFilter(label=_("Include past activities"), method="filter_nothing")
    sort = django_filters.ChoiceFilter(label=_("Sort by"), choices=SORT_CHOICES, method="filter_nothing")

    class Meta:
        model = Activity
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, queryset=kwargs.pop("queryset", Activity.objects.published()), **kwargs)

    def filter_keywords(self, queryset, name, value):
        return queryset.filter(keyword_filter(value))

    def filter_free(self, queryset, name, value):
        free = queryset.filter(fee_kind=Activity.Fee.FREE)
        return free if value else queryset.exclude(pk__in=free.values("pk"))

    def filter_nothing(self, queryset, name, value):
        return queryset  # applied in filter_queryset, where defaults matter and the date bounds meet

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        after, before = data.get("starts_after"), data.get("starts_before")
        if after or before:
            queryset = queryset.filter(
                starts_between(
                    after=start_of(after) if after else None, before=end_of(before) if before else None
                )
            )
        if not data.get("include_past"):
            queryset = queryset.filter(not_over(timezone.now()))
        sort = data.get("sort") or ("relevance" if data.get("q") else "-start")
        if sort == "relevance" and not data.get("q"):
            sort = "-start"
        if sort == "relevance":
            return queryset  # ranked by keyword_filter's caller; the index path orders by rank
        if sort == "credits":
            queryset = queryset.annotate(most=Max("credits__max_amount"))
            return queryset.order_by(F("most").desc(nulls_last=True), "start", "pk")
        return queryset.order_by(
            *{"start": ["start", "pk"], "-start": ["-start", "-pk"], "title": ["title", "pk"]}[sort]
        )


class PageForm(forms.Form):
    page = forms.IntegerField(min_value=1, required=False)
    page_size = forms.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)
