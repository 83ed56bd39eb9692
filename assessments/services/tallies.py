"""The outcomes report's running counts, kept as attempts are recorded so the report never reads every answer.

``AnswerTally``: per question and set of choices picked (or Likert value), the answers and the correct
ones, over every attempt. ``KnowledgeTally``: per question key, the answers and correct answers of the
matched learners (those who took the pre-test and the post-test) in their pre-test attempt and their best
post-test attempt (the highest score, the earliest of equal ones).

``record`` runs in ``submit_attempt``'s transaction with the enrollment locked, so the counts change with the
attempt or not at all: one statement per table adds to the rows and makes the missing ones, in a fixed
order, so concurrent attempts at one activity queue behind each other instead of deadlocking. A pre-test is always taken before the post-test (the attempt
service refuses it after), so a learner becomes matched at their first post-test attempt, and their best
post-test attempt changes only when a later one scores higher. ``rebuild`` recounts everything from the
answers (for data loaded in bulk, and to check the running counts).
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, Field, ForeignKey, ForeignObjectRel, OuterRef, Q

from activities.models import Activity
from assessments.models import Answer, AnswerTally, Assessment, Attempt, KnowledgeTally


def choices_key(choice_ids: Iterable[int]) -> str:
    return ",".join(str(choice) for choice in sorted(choice_ids))


def record(attempt: Attempt, answers: Sequence[Answer], previous: Sequence[Attempt]) -> None:
    """Count ``attempt``'s ``answers``; ``previous``: the learner's earlier attempts at the same assessment."""
    _count_answers(attempt.assessment_id, answers)
    if attempt.assessment.kind == Assessment.Kind.POST_TEST:
        _count_knowledge(attempt, answers, previous)


def _count_answers(assessment_id: int, answers: Iterable[Answer]) -> None:
    counts: Counter[tuple[int, str, str, int]] = Counter()
    right: Counter[tuple[int, str, str, int]] = Counter()
    for answer in answers:
        group = (
            answer.question_pk,
            str(answer.question_key),
            choices_key(answer.choice_ids),
            answer.value or 0,
        )
        counts[group] += 1
        right[group] += 1 if answer.correct else 0
    _add(
        AnswerTally,
        ["assessment", "question_pk", "choices", "value"],
        [
            ({"assessment": assessment_id, "question_pk": pk, "choices": choices, "value": value, "question_key": key},
             counts[(pk, key, choices, value)], right[(pk, key, choices, value)])
            for pk, key, choices, value in sorted(counts)
        ],
    )  # fmt: skip


def _best(attempts: Iterable[Attempt]) -> Attempt | None:
    scored = [a for a in attempts if a.score is not None]
    return max(scored, key=lambda a: (a.score, -a.number)) if scored else None


def _count_knowledge(attempt: Attempt, answers: Sequence[Answer], previous: Sequence[Attempt]) -> None:
    pre_attempt = (
        Attempt.objects.filter(
            enrollment_id=attempt.enrollment_id,
            assessment__activity=attempt.assessment.activity_id,
            assessment__kind=Assessment.Kind.PRE_TEST,
        )
        .order_by("number")
        .first()
    )
    if pre_attempt is None:
        return
    before, after = _best(previous), _best([*previous, attempt])
    post_test_id = attempt.assessment_id
    if before is None:  # matched from now on: their pre-test counts
        _count_side(post_test_id, "pre", list(pre_attempt.answers.all()), 1)
    if after is not None and (before is None or after.pk != before.pk):
        if before is not None:
            _count_side(post_test_id, "post", list(before.answers.all()), -1)
        _count_side(post_test_id, "post", answers, 1)


def _count_side(post_test_id: int, side: str, answers: Iterable[Answer], sign: int) -> None:
    counts: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for answer in answers:
        counts[str(answer.question_key)] += sign
        right[str(answer.question_key)] += sign if answer.correct else 0
    _add(
        KnowledgeTally,
        ["post_test", "question_key", "side"],
        [
            ({"post_test": post_test_id, "question_key": key, "side": side}, counts[key], right[key])
            for key in sorted(counts)
        ],
    )


def _add(
    model: type[AnswerTally] | type[KnowledgeTally],
    unique: list[str],
    rows: list[tuple[dict[str, object], int, int]],
) -> None:
    """Add ``(answers, right)`` to each row of ``model`` named by its ``unique`` fields, making the ones
    missing: one INSERT ... ON CONFLICT DO UPDATE statement (PostgreSQL and SQLite alike), whose rows are
    locked in the order given (sorted by the callers), so concurrent attempts never deadlock."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = [_concrete(meta.get_field(name)) for name in rows[0][0]]
    columns = [quote(_column(field)) for field in fields] + [quote("answers"), quote("right")]
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params: list[Any] = []
    for data, answers, right in rows:
        params += [_db_value(field, data[field.name]) for field in fields] + [answers, right]
    table = quote(meta.db_table)
    conflict = ", ".join(quote(_column(_concrete(meta.get_field(name)))) for name in unique)
    add = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in ("answers", "right"))
    # Only the model's own table and column names go into the text, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row_sql] * len(rows))} "  # noqa: S608
        f"ON CONFLICT ({conflict}) DO UPDATE SET {add}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _concrete(field: Field | ForeignObjectRel) -> Field:
    assert isinstance(field, Field), f"{field} is not a column"
    return field


def _column(field: Field) -> str:
    assert field.column is not None, f"{field} is not a column"
    return field.column


def _db_value(field: Field, value: object) -> object:
    if isinstance(field, ForeignKey):  # given by id
        return value
    return field.get_db_prep_value(value, connection, prepared=False)


def rebuild(activity: Activity) -> None:
    """Recount ``activity``'s tallies from its answers (after a bulk load, or to check them)."""
    assessments = list(Assessment.objects.filter(activity=activity))
    with transaction.atomic():
        AnswerTally.objects.filter(assessment__in=assessments).delete()
        KnowledgeTally.objects.filter(post_test__in=assessments).delete()
        tallies: dict[tuple[int, int, str, int], AnswerTally] = {}
        rows = (
            Answer.objects.filter(attempt__assessment__in=assessments)
            .values("attempt__assessment_id", "question_pk", "question_key", "choice_ids", "value")
            .annotate(n=Count("pk"), right=Count("pk", filter=Q(correct=True)))
            .order_by()
        )
        for row in rows:
            group = (
                row["attempt__assessment_id"],
                row["question_pk"],
                choices_key(row["choice_ids"] or []),
                row["value"] or 0,
            )
            tally = tallies.setdefault(
                group,
                AnswerTally(
                    assessment_id=group[0], question_pk=group[1], choices=group[2], value=group[3],
                    question_key=row["question_key"],
                ),
            )  # fmt: skip
            tally.answers += row["n"]
            tally.right += row["right"]
        AnswerTally.objects.bulk_create(tallies.values(), batch_size=1000)
        by_kind = {a.kind: a for a in assessments}
        pre, post = by_kind.get(Assessment.Kind.PRE_TEST), by_kind.get(Assessment.Kind.POST_TEST)
        if pre is not None and post is not None:
            KnowledgeTally.objects.bulk_create(_matched_tallies(pre, post), batch_size=1000)


def _matched_tallies(pre: Assessment, post: Assessment) -> list[KnowledgeTally]:
    from assessments.selectors.outcomes_queries import matched_best

    took_post = Attempt.objects.filter(assessment=post, enrollment_id=OuterRef("enrollment_id"))
    sides = {
        "pre": Attempt.objects.filter(assessment=pre).filter(Exists(took_post)).values("pk"),
        "post": matched_best(pre, post).values("pk"),
    }
    tallies = []
    for side, attempts in sides.items():
        rows = (
            Answer.objects.filter(attempt_id__in=attempts)
            .values("question_key")
            .annotate(n=Count("pk"), right=Count("pk", filter=Q(correct=True)))
            .order_by()
        )
        tallies += [
            KnowledgeTally(
                post_test=post,
                question_key=row["question_key"],
                side=side,
                answers=row["n"],
                right=row["right"],
            )
            for row in rows
        ]
    return tallies
