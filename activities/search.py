"""Keyword search: PostgreSQL full-text search (ranked, with prefix matching for the last word) over the
trigger-maintained ``search_vector``; a substring fallback on SQLite."""

import re
from contextlib import contextmanager

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from activities.models import Activity

MAX_WORDS = 12
_WORD = re.compile(r"[^\W_]+")


def words(q: str) -> list[str]:
    return _WORD.findall(q.lower())[:MAX_WORDS]


def search_query(q: str) -> SearchQuery | None:
    """Every word must match; the last may be a prefix, so ``intrath`` finds intrathecal while typing."""
    found = words(q)
    if not found:
        return None
    raw = " & ".join([*found[:-1], f"{found[-1]}:*"])
    return SearchQuery(raw, search_type="raw", config="english")


def keyword_filter(q: str) -> Q:
    """Activities matching the keywords (all of them if ``q`` has no words)."""
    if connection.vendor == "postgresql":
        query = search_query(q)
        return Q(search_vector=query) if query is not None else Q()
    condition = Q()
    for word in words(q):
        in_specialty = Activity.specialties.through.objects.filter(
            activity_id=OuterRef("pk"), specialty__name__icontains=word
        )
        condition &= (
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(provider__name__icontains=word)
            | Q(Exists(in_specialty))
        )
    return condition


def ranked_matches(q: str) -> QuerySet:
    """The published activities matching ``q`` (which has words), best first: on PostgreSQL a ranked
    full-text query on the GIN index, on SQLite substring matches, newest first."""
    published = Activity.objects.published()
    if connection.vendor == "postgresql":
        query = search_query(q)
        assert query is not None  # the caller's precondition: q has words
        ranked = published.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
        return ranked.order_by("-rank", "pk").values_list("pk", flat=True)
    return published.filter(keyword_filter(q)).order_by("-start", "pk").values_list("pk", flat=True)


def keyword_ids(q: str) -> list[int] | None:
    """Ids of the published activities matching ``q``, best first; None when ``q`` has no words."""
    if not words(q):
        return None
    return list(ranked_matches(q))


@contextmanager
def search_documents_deferred():
    """For bulk writes: the search triggers stand aside, and ``refresh(ids)`` (called by the writer once
    its batch, specialties included, is written) computes those activities' documents in one statement.
    Use inside a transaction. On SQLite, which keeps no search documents, both do nothing."""
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL activities.search_deferred = 'on'")

    def refresh(ids: list[int]) -> None:
        if postgres and ids:
            with connection.cursor() as cursor:
                cursor.execute("SELECT activities_refresh_search(%s)", [list(ids)])

    yield refresh  # on an error the caller's rollback undoes the setting with everything else
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL activities.search_deferred = 'off'")
