"""The outcomes report's queries: over an activity's attempts (the best ones, with a per-process cache that
keeps them until the next attempt) and its tallies of answers. Each returns plain rows; ``outcomes`` makes
the figures."""

from collections.abc import Callable, Mapping
from typing import Any

from django.core.cache import caches
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)

from assessments.models import AnswerTally, Assessment, Attempt, KnowledgeTally

BINS = 10


def best_attempts(attempts: QuerySet[Attempt]) -> QuerySet[Attempt]:
    """Of ``attempts``, each learner's best scored one per assessment: the highest score, the earliest of
    equal ones."""
    better = Attempt.objects.filter(
        enrollment_id=OuterRef("enrollment_id"), assessment_id=OuterRef("assessment_id")
    ).filter(Q(score__gt=OuterRef("score")) | Q(score=OuterRef("score"), number__lt=OuterRef("number")))
    return attempts.filter(score__isnull=False).filter(~Exists(better))


def cached(key: str, compute: Callable[[], list[Mapping[str, Any]]]) -> list[Mapping[str, Any]]:
    cache = caches["fragments"]
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value)
    return value


def matched_best(pre: Assessment, post: Assessment) -> QuerySet[Attempt]:
    """The best post-test attempts of the learners who also took the pre-test."""
    took_pre = Attempt.objects.filter(assessment=pre, enrollment_id=OuterRef("enrollment_id"))
    return best_attempts(Attempt.objects.filter(assessment=post)).filter(Exists(took_pre))


def best_scores(pre: Assessment | None, post: Assessment) -> list[Mapping[str, Any]]:
    """Each learner's best post-test attempt, counted by score bin and by whether the learner took the
    pre-test (with the sums of both scores, and how many improved or kept their score): one query. The
    pre-test is joined (a learner takes it once), not looked up per learner."""
    width = 100 // BINS
    bin_of = Case(
        *(When(score__lt=(n + 1) * width, then=n) for n in range(BINS - 1)),
        default=BINS - 1,
        output_field=IntegerField(),
    )
    best = best_attempts(Attempt.objects.filter(assessment=post)).annotate(bin=bin_of)
    if pre is None:
        return list(best.values("bin").annotate(n=Count("pk"), matched=Value(0)).order_by())
    took_pre = Q(enrollment__attempts__assessment=pre, enrollment__attempts__number=1)
    best = best.annotate(pre=FilteredRelation("enrollment__attempts", condition=took_pre))
    return list(
        best.annotate(
            pre_score=F("pre__score"),
            matched=Case(When(pre__score__isnull=False, then=Value(1)), default=Value(0)),
        )
        .values("bin", "matched")
        .annotate(
            n=Count("pk"),
            post_sum=Sum("score"),
            pre_sum=Sum("pre_score"),
            improved=Count("pk", filter=Q(score__gt=F("pre_score"))),
            unchanged=Count("pk", filter=Q(score=F("pre_score"))),
        )
        .order_by()
    )


def answer_tallies(assessments: list[Assessment]) -> list[Mapping[str, Any]]:
    """The assessments' answers counted by question, choices picked and Likert value (``AnswerTally``, kept
    as attempts are recorded): one query, whatever the number of answers."""
    return [
        {
            "assessment_id": row["assessment_id"],
            "question_pk": row["question_pk"],
            "question_key": str(row["question_key"]),
            "choice_ids": [int(c) for c in row["choices"].split(",")] if row["choices"] else [],
            "value": row["value"] or None,
            "n": row["answers"],
            "right": row["right"],
        }
        for row in AnswerTally.objects.filter(assessment__in=assessments, answers__gt=0).values(
            "assessment_id", "question_pk", "question_key", "choices", "value", "answers", "right"
        )
    ]


def knowledge_tallies(post: Assessment) -> dict[str, dict[str, tuple[int, int]]]:
    """Per side ("pre", "post") and question key, the matched learners' answers and correct answers
    (``KnowledgeTally``): one query."""
    counts: dict[str, dict[str, tuple[int, int]]] = {"pre": {}, "post": {}}
    for row in KnowledgeTally.objects.filter(post_test=post).values(
        "side", "question_key", "answers", "right"
    ):
        counts[row["side"]][str(row["question_key"])] = (row["answers"], row["right"])
    return counts
