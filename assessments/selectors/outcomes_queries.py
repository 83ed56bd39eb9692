"""The outcomes report's queries over every attempt and answer of an activity, and the per-process cache
that keeps their results until the next attempt. Each returns plain rows; ``outcomes`` makes the figures."""

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

from assessments.models import Answer, Assessment, Attempt
from assessments.selectors.outcomes_catalog import Catalog

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


def answer_groups(
    pre: Assessment | None,
    post: Assessment | None,
    assessments: list[Assessment],
    catalogs: dict[str, Catalog],
) -> list[Mapping[str, Any]]:
    """Every answer to the activity's assessments, counted by assessment, question, choices picked and
    Likert value, and by whether it belongs to a matched learner's pre-test or best post-test attempt:
    one query, one pass over the answers and no join. An answer names its question's id, which belongs to
    one assessment only, so the versions' question ids pick the activity's answers and tell the tests
    apart; the matched attempts are two uncorrelated subqueries, hashed."""
    ids = {a.pk: set(catalogs[a.kind].keys) for a in assessments}
    answers = Answer.objects.filter(question_pk__in=sorted(set().union(*ids.values())))
    if pre is not None and post is not None:
        took_post = Attempt.objects.filter(assessment=post, enrollment_id=OuterRef("enrollment_id"))
        matched_pre = Attempt.objects.filter(assessment=pre).filter(Exists(took_post)).values("pk")
        matched_post = matched_best(pre, post).values("pk")
        answers = answers.annotate(
            # The test is told first, so an answer is looked up in one set at most.
            matched=Case(
                When(Q(question_pk__in=sorted(ids[pre.pk])) & Q(attempt_id__in=matched_pre), then=Value(1)),
                When(Q(question_pk__in=sorted(ids[post.pk])) & Q(attempt_id__in=matched_post), then=Value(1)),
                default=Value(0),
            )
        )
    else:
        answers = answers.annotate(matched=Value(0))
    owner = {question_id: assessment_id for assessment_id, pks in ids.items() for question_id in pks}
    keys = {pk: key for a in assessments for pk, key in catalogs[a.kind].keys.items()}
    return [
        {**row, "assessment_id": owner[row["question_pk"]], "question_key": keys[row["question_pk"]]}
        for row in answers.values("question_pk", "choice_ids", "value", "matched")
        .annotate(n=Count("pk"), right=Count("pk", filter=Q(correct=True)))
        .order_by()
    ]
