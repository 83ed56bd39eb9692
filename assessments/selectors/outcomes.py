"""What an activity's pre-test, post-test and evaluation show about its learners: the outcomes report.

Every figure is counted by the database in a fixed number of grouped queries (``values()`` grouping with
``Count``/``Sum`` and ``filter=Q(...)``, ``Exists`` subqueries): seven for the whole report, however many
learners, attempts, answers or questions there are. The answers are never read: their counts per question
and choice, and the matched learners' per question, are kept as attempts are recorded
(``assessments.services.tallies``). Works alike on PostgreSQL and SQLite.

Definitions (the page says them too):

- **funnel**: enrollments in the activity; of those, the ones with a pre-test attempt, a post-test attempt,
  a passed post-test and an evaluation, and the ones that claimed credit;
- **pass rate**: learners who passed the post-test / learners who attempted it; **first-attempt pass rate**:
  learners whose first attempt passed / learners who attempted;
- **score distribution**: each learner's best post-test score, in 10-point bins (0–9 ... 90–100);
- **question difficulty**: over every post-test answer (all attempts), the share correct and how many
  learners picked each choice, the correct ones marked;
- **knowledge change**: over the *matched* learners, those with both a pre-test and a post-test attempt: the
  pre-test score against the best post-test score, and per question (the same ``question_key``) the share
  correct on the pre-test against the share correct in the learner's best post-test attempt (the highest
  score, the earliest of equal ones);
- **evaluation**: per item, the Likert counts (1–5) and mean, the choice counts, or the free-text answers.

Questions are matched across versions by their key (``outcomes_catalog``); the free-text answers are read
by ``outcomes_free_text``.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    Max,
    Q,
    When,
)
from django.utils.translation import gettext_lazy as _

from activities.models import Activity
from assessments.models import Assessment, AssessmentVersion, Attempt, Question
from assessments.selectors import outcomes_queries as queries
from assessments.selectors.outcomes_catalog import (
    HUNDREDTH,
    Catalog,
    ChoiceStat,
    as_decimal,
    catalog_of,
    choice_counts,
    choice_stats,
    percent,
)
from learners.models import Enrollment

BINS = queries.BINS
LIKERT_VALUES = (1, 2, 3, 4, 5)
LIKERT_LABELS = Question.LIKERT_LABELS


# --- the figures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    learners: int
    share: Decimal | None  # of the enrolled
    short: str = ""  # the label under a chart's bar


@dataclass(frozen=True)
class Funnel:
    enrolled: int
    pre_test: int | None  # None: the activity has no such assessment
    post_test_attempted: int | None
    post_test_passed: int | None
    evaluated: int | None
    claimed: int

    @property
    def steps(self) -> list[Step]:
        raw = [
            ("enrolled", _("Enrolled"), _("Enrolled"), self.enrolled),
            ("pre_test", _("Took the pre-test"), _("Pre-test"), self.pre_test),
            ("post_test_passed", _("Passed the post-test"), _("Passed"), self.post_test_passed),
            ("evaluated", _("Completed the evaluation"), _("Evaluated"), self.evaluated),
            ("claimed", _("Claimed credit"), _("Claimed"), self.claimed),
        ]
        return [
            Step(code, str(label), count, percent(count, self.enrolled), str(short))
            for code, label, short, count in raw
            if count is not None
        ]


@dataclass(frozen=True)
class PassRates:
    attempted: int  # learners with a post-test attempt
    passed: int
    first_attempt_passed: int
    attempts: int

    @property
    def pass_rate(self) -> Decimal | None:
        return percent(self.passed, self.attempted)

    @property
    def first_attempt_rate(self) -> Decimal | None:
        return percent(self.first_attempt_passed, self.attempted)


@dataclass(frozen=True)
class ScoreBin:
    low: int
    high: int  # inclusive: the last bin is 90–100
    learners: int

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high}"


@dataclass(frozen=True)
class QuestionStat:
    number: int
    key: str
    text: str
    kind: str
    answered: int
    correct: int
    choices: list[ChoiceStat]

    @property
    def share_correct(self) -> Decimal | None:
        return percent(self.correct, self.answered)


@dataclass(frozen=True)
class KnowledgeQuestion:
    number: int
    key: str
    text: str
    pre_answered: int
    pre_correct: int
    post_answered: int
    post_correct: int

    @property
    def pre_share(self) -> Decimal | None:
        return percent(self.pre_correct, self.pre_answered)

    @property
    def post_share(self) -> Decimal | None:
        return percent(self.post_correct, self.post_answered)

    @property
    def change(self) -> Decimal | None:
        """Percentage points from pre to post; None unless both were answered."""
        pre, post = self.pre_share, self.post_share
        return None if pre is None or post is None else post - pre


@dataclass(frozen=True)
class Knowledge:
    matched: int
    pre_mean: Decimal | None
    post_mean: Decimal | None
    improved: int
    unchanged: int
    declined: int
    questions: list[KnowledgeQuestion]

    @property
    def change(self) -> Decimal | None:
        if self.pre_mean is None or self.post_mean is None:
            return None
        return self.post_mean - self.pre_mean


@dataclass(frozen=True)
class EvaluationItem:
    number: int
    key: str
    text: str
    kind: str
    answered: int
    likert: list[tuple[int, str, int]] = field(default_factory=list)  # (value, label, count)
    choices: list[ChoiceStat] = field(default_factory=list)

    @property
    def is_likert(self) -> bool:
        return self.kind == Question.Kind.LIKERT

    @property
    def is_free_text(self) -> bool:
        return self.kind == Question.Kind.FREE_TEXT

    @property
    def mean(self) -> Decimal | None:
        total = sum(count for _v, _l, count in self.likert)
        if not total:
            return None
        weighted = sum(value * count for value, _l, count in self.likert)
        return (Decimal(weighted) / Decimal(total)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Outcomes:
    activity: Activity
    pre_test: Assessment | None
    post_test: Assessment | None
    evaluation: Assessment | None
    funnel: Funnel
    pass_rates: PassRates | None
    scores: list[ScoreBin]
    questions: list[QuestionStat]
    knowledge: Knowledge | None  # None unless the activity has a pre-test and a post-test
    evaluation_items: list[EvaluationItem]
    catalogs: dict[str, Catalog]  # by assessment kind


PARTS = frozenset({"scores", "questions", "knowledge", "evaluation"})


def activity_outcomes(*, activity: Activity, parts: Collection[str] = PARTS) -> Outcomes:
    """The outcomes report of ``activity`` (see the module docstring) in seven queries: the funnel always,
    and of ``parts`` only those asked for (a CSV of one table needs no other); the rest are left empty.

    The query that finds each learner's best post-test attempt is kept in the per-process ``fragments``
    cache under a key naming the attempts taken so far, so a repeat view costs six queries and a new
    attempt anywhere in the activity makes a new key (the old entry ages out)."""
    assessments = {a.kind: a for a in Assessment.objects.filter(activity=activity)}
    pre, post, evaluation = (assessments.get(kind) for kind in Assessment.Kind.values)
    versions: dict[int, list[AssessmentVersion]] = {}
    if assessments:
        for version in AssessmentVersion.objects.filter(assessment__activity=activity):
            versions.setdefault(version.assessment_id, []).append(version)
    catalogs = {kind: catalog_of(versions.get(a.pk, [])) for kind, a in assessments.items()}
    funnel, pass_rates, token = _funnel(activity, assessments)
    # The best attempts are kept (per process) under a key that changes with any new attempt.
    key = f"outcomes:{activity.pk}:{'.'.join(str(a.pk) for a in assessments.values())}:{token}"

    best: list[Mapping[str, Any]] = []
    if post is not None and {"scores", "knowledge"} & set(parts):
        best = queries.cached(f"{key}:best", lambda: queries.best_scores(pre, post))
    groups: dict[int, list[Mapping[str, Any]]] = {a.pk: [] for a in assessments.values()}
    matched: dict[str, dict[str, tuple[int, int]]] = {"pre": {}, "post": {}}
    if {"questions", "knowledge", "evaluation"} & set(parts) and assessments:
        for row in queries.answer_tallies(list(assessments.values())):
            groups[row["assessment_id"]].append(row)
        if pre is not None and post is not None and "knowledge" in parts:
            matched = queries.knowledge_tallies(post)
    return Outcomes(
        activity=activity,
        pre_test=pre,
        post_test=post,
        evaluation=evaluation,
        funnel=funnel,
        pass_rates=pass_rates,
        scores=_score_bins(best) if post is not None and "scores" in parts else [],
        questions=_difficulty(groups[post.pk], catalogs[post.kind]) if post and "questions" in parts else [],
        knowledge=_knowledge(pre, post, catalogs, best, matched)
        if pre is not None and post is not None and "knowledge" in parts
        else None,
        evaluation_items=_evaluation(groups[evaluation.pk], catalogs[evaluation.kind])
        if evaluation is not None and "evaluation" in parts
        else [],
        catalogs=catalogs,
    )


def _funnel(activity: Activity, assessments: dict[str, Assessment]) -> tuple[Funnel, PassRates | None, str]:
    """The funnel, the post-test's pass rates and a token of the attempts taken: two queries.

    Attempts are only ever added (never changed or deleted, and their answers are written with them), so
    the number of attempts and the highest id, per assessment, name the set of answers exactly."""
    enrollments = Enrollment.objects.filter(activity=activity).aggregate(
        enrolled=Count("pk"), claimed=Count("pk", filter=Q(status=Enrollment.Status.COMPLETED))
    )
    by_kind: dict[str, Mapping[str, Any]] = {
        row["assessment__kind"]: row
        for row in Attempt.objects.filter(assessment__activity=activity)
        .values("assessment__kind")
        .annotate(
            learners=Count("enrollment_id", distinct=True),
            passers=Count(Case(When(passed=True, then="enrollment_id")), distinct=True),
            first_passed=Count("pk", filter=Q(number=1, passed=True)),
            attempts=Count("pk"),
            last=Max("pk"),
        )
        .order_by()
    }
    token = "-".join(f"{kind}{row['attempts']}x{row['last']}" for kind, row in sorted(by_kind.items()))

    def learners(kind: str, column: str = "learners") -> int | None:
        if kind not in assessments:
            return None
        return by_kind.get(kind, {}).get(column, 0)

    funnel = Funnel(
        enrolled=enrollments["enrolled"],
        pre_test=learners(Assessment.Kind.PRE_TEST),
        post_test_attempted=learners(Assessment.Kind.POST_TEST),
        post_test_passed=learners(Assessment.Kind.POST_TEST, "passers"),
        evaluated=learners(Assessment.Kind.EVALUATION),
        claimed=enrollments["claimed"],
    )
    if Assessment.Kind.POST_TEST not in assessments:
        return funnel, None, token
    row = by_kind.get(Assessment.Kind.POST_TEST, {})
    rates = PassRates(
        attempted=row.get("learners", 0),
        passed=row.get("passers", 0),
        first_attempt_passed=row.get("first_passed", 0),
        attempts=row.get("attempts", 0),
    )
    return funnel, rates, token


def _score_bins(best: list[Mapping[str, Any]]) -> list[ScoreBin]:
    width = 100 // BINS
    counts = [0] * BINS
    for row in best:
        counts[row["bin"]] += row["n"]
    return [
        ScoreBin(n * width, 100 if n == BINS - 1 else (n + 1) * width - 1, counts[n]) for n in range(BINS)
    ]


def _difficulty(rows: list[Mapping[str, Any]], catalog: Catalog) -> list[QuestionStat]:
    """Every scored question of the post-test, over all attempts."""
    answered, picks = choice_counts(catalog, rows)
    correct: dict[str, int] = {}
    for row in rows:
        key = str(row["question_key"])
        correct[key] = correct.get(key, 0) + row["right"]
    scored = (e for e in catalog.questions if e["kind"] in Question.SCORED_KINDS)
    return [
        QuestionStat(
            number=number,
            key=entry["key"],
            text=entry["text"],
            kind=entry["kind"],
            answered=answered.get(entry["key"], 0),
            correct=correct.get(entry["key"], 0),
            choices=choice_stats(entry, picks.get(entry["key"]), answered.get(entry["key"], 0)),
        )
        for number, entry in enumerate(scored, start=1)
    ]


def _knowledge(
    pre: Assessment,
    post: Assessment,
    catalogs: dict[str, Catalog],
    best: list[Mapping[str, Any]],
    matched_counts: dict[str, dict[str, tuple[int, int]]],
) -> Knowledge:
    """Pre-test against best post-test, for the learners who took both."""
    matched_rows = [row for row in best if row["matched"]]
    matched = sum(row["n"] for row in matched_rows)
    improved = sum(row["improved"] for row in matched_rows)
    unchanged = sum(row["unchanged"] for row in matched_rows)

    def mean(column: str) -> Decimal | None:
        total = sum((Decimal(str(row[column])) for row in matched_rows), Decimal(0))
        return as_decimal(total / matched) if matched else None

    pre_counts, post_counts = matched_counts["pre"], matched_counts["post"]
    labels = {**catalogs[pre.kind].by_key(), **catalogs[post.kind].by_key()}  # the post-test's text wins
    post_keys = [e["key"] for e in catalogs[post.kind].questions]
    order = post_keys + [e["key"] for e in catalogs[pre.kind].questions if e["key"] not in set(post_keys)]
    questions: list[KnowledgeQuestion] = []
    for key in order:
        if labels[key]["kind"] not in Question.SCORED_KINDS:
            continue
        pre_n, pre_right = pre_counts.get(key, (0, 0))
        post_n, post_right = post_counts.get(key, (0, 0))
        number = len(questions) + 1
        questions.append(
            KnowledgeQuestion(number, key, labels[key]["text"], pre_n, pre_right, post_n, post_right)
        )
    return Knowledge(
        matched=matched,
        pre_mean=mean("pre_sum"),
        post_mean=mean("post_sum"),
        improved=improved,
        unchanged=unchanged,
        declined=matched - improved - unchanged,
        questions=questions,
    )


def _evaluation(rows: list[Mapping[str, Any]], catalog: Catalog) -> list[EvaluationItem]:
    """Every item of the evaluation with its distribution."""
    answered, picks = choice_counts(catalog, rows)
    likert: dict[str, dict[int, int]] = {}
    for row in rows:
        if row["value"] is not None:
            counts = likert.setdefault(str(row["question_key"]), {})
            counts[row["value"]] = counts.get(row["value"], 0) + row["n"]
    items: list[EvaluationItem] = []
    for number, entry in enumerate(catalog.questions, start=1):
        key, kind = entry["key"], entry["kind"]
        item = EvaluationItem(
            number=number, key=key, text=entry["text"], kind=kind, answered=answered.get(key, 0)
        )
        if kind == Question.Kind.LIKERT:
            counts = likert.get(key, {})
            item.likert.extend((v, str(LIKERT_LABELS[v]), counts.get(v, 0)) for v in LIKERT_VALUES)
        elif kind in Question.CHOICE_KINDS:
            item.choices.extend(choice_stats(entry, picks.get(key), answered.get(key, 0)))
        items.append(item)
    return items
