"""The free-text answers of an evaluation: searched, paged, or all of them for the CSV."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from assessments.models import Answer, Assessment, Question
from assessments.selectors.outcomes_catalog import Catalog

FREE_TEXT_PAGE = 25


@dataclass(frozen=True)
class FreeTextAnswer:
    attempt_id: int
    question_number: int
    question: str
    text: str
    submitted_at: datetime


MAX_SEARCH = 200


def free_text_answers(*, evaluation: Assessment, catalog: Catalog, q: str = "") -> QuerySet[Answer]:
    """The evaluation's free-text answers, newest first, those containing ``q`` (any case) if given.

    Read through the free-text questions' ids in every version (indexed, and unique to this evaluation: the
    keys are shared by every copy of a template), not by scanning every answer of the evaluation."""
    keys = {entry["key"] for entry in catalog.questions if entry["kind"] == Question.Kind.FREE_TEXT}
    question_ids = sorted(pk for pk, key in catalog.keys.items() if key in keys)
    answers = Answer.objects.filter(attempt__assessment=evaluation, question_pk__in=question_ids).exclude(
        text=""
    )
    if q:
        answers = answers.filter(text__icontains=q)
    return answers.select_related("attempt").order_by("-attempt__submitted_at", "-pk")


def _free_text(answers: Iterable[Answer], catalog: Catalog) -> list[FreeTextAnswer]:
    numbers = {entry["key"]: n for n, entry in enumerate(catalog.questions, start=1)}
    labels = catalog.by_key()
    return [
        FreeTextAnswer(
            attempt_id=answer.attempt_id,
            question_number=numbers.get(str(answer.question_key), 0),
            question=labels.get(str(answer.question_key), {}).get("text", ""),
            text=answer.text,
            submitted_at=answer.attempt.submitted_at,
        )
        for answer in answers
    ]


def free_text_page(
    *,
    evaluation: Assessment,
    catalog: Catalog,
    q: str = "",
    page: str | int = 1,
    per_page: int | None = None,
) -> tuple[Page, list[FreeTextAnswer]]:
    """One page of ``free_text_answers`` (a page number past the end gives the last): two queries."""
    answers = free_text_answers(evaluation=evaluation, catalog=catalog, q=q)
    current = Paginator(answers, per_page or FREE_TEXT_PAGE).get_page(page)
    return current, _free_text(current.object_list, catalog)


def free_text_rows(*, evaluation: Assessment, catalog: Catalog, q: str = "") -> list[FreeTextAnswer]:
    """Every one of ``free_text_answers``: one query."""
    return _free_text(
        free_text_answers(evaluation=evaluation, catalog=catalog, q=q).iterator(chunk_size=2000), catalog
    )
