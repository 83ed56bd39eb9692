"""What an activity's pre-test, post-test and evaluation show about its learners: the outcomes report.

Every figure is counted by the database in a fixed number of grouped queries (``values()`` grouping with
``Count``/``Avg`` and ``filter=Q(...)``, ``Exists`` subqueries): about ten for the whole report, however many
learners, attempts, answers or questions there are. Works alike on PostgreSQL and SQLite.

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

Questions are matched across versions by their key and labelled with the newest version's text and choices;
a choice of an older version is matched to the newest by id, then by text, and listed as removed otherwise.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Avg, Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.utils.translation import gettext_lazy as _

from activities.models import Activity
from assessments.models import Answer, Assessment, AssessmentVersion, Attempt, Question
from learners.models import Enrollment

TENTH = Decimal("0.1")
HUNDREDTH = Decimal("0.01")
BINS = 10
FREE_TEXT_PAGE = 25
LIKERT_VALUES = (1, 2, 3, 4, 5)
LIKERT_LABELS = {
    1: _("Strongly disagree"),
    2: _("Disagree"),
    3: _("Neither agree nor disagree"),
    4: _("Agree"),
    5: _("Strongly agree"),
}


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent, to one decimal; None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def as_decimal(value: object, places: Decimal = TENTH) -> Decimal | None:
    # SQLite hands back averages as floats, PostgreSQL as decimals of any scale: state them alike.
    if value is None:
        return None
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


# --- the figures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    learners: int
    share: Decimal | None  # of the enrolled


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
            ("enrolled", _("Enrolled"), self.enrolled),
            ("pre_test", _("Took the pre-test"), self.pre_test),
            ("post_test_passed", _("Passed the post-test"), self.post_test_passed),
            ("evaluated", _("Completed the evaluation"), self.evaluated),
            ("claimed", _("Claimed credit"), self.claimed),
        ]
        return [
            Step(code, str(label), count, percent(count, self.enrolled))
            for code, label, count in raw
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
class ChoiceStat:
    text: str
    correct: bool
    picked: int
    share: Decimal | None  # of the question's answers
    removed: bool = False  # in an older version only


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
    catalogs: dict[str, "Catalog"]  # by assessment kind


# --- question labels across versions -------------------------------------------------------------------


@dataclass
class Catalog:
    """An assessment's questions across its versions, labelled as the newest version has them."""

    questions: list[dict]  # {"key", "text", "kind", "choices": [{"id", "text", "correct", "removed"}]}
    slots: dict[tuple[str, int], int]  # (question key, choice id of any version) -> index in its choices

    def by_key(self) -> dict[str, dict]:
        return {q["key"]: q for q in self.questions}


def catalog_of(versions: Iterable[AssessmentVersion]) -> Catalog:
    """The questions of ``versions`` (any order), matched by key, newest text first."""
    questions: dict[str, dict] = {}
    slots: dict[tuple[str, int], int] = {}
    for version in sorted(versions, key=lambda v: -v.number):
        for question in version.content.get("questions", []):
            key = str(question["key"])
            entry = questions.setdefault(
                key,
                {
                    "key": key,
                    "text": question["text"],
                    "kind": question["kind"],
                    "choices": [
                        {"id": c["id"], "text": c["text"], "correct": bool(c["correct"]), "removed": False}
                        for c in question.get("choices", [])
                    ],
                },
            )
            for choice in question.get("choices", []):
                if (key, choice["id"]) not in slots:
                    slots[(key, choice["id"])] = _slot(entry["choices"], choice)
    return Catalog(list(questions.values()), slots)


def _slot(choices: list[dict], choice: dict) -> int:
    for index, known in enumerate(choices):
        if known["id"] == choice["id"]:
            return index
    wanted = " ".join(str(choice["text"]).split()).casefold()
    for index, known in enumerate(choices):
        if " ".join(str(known["text"]).split()).casefold() == wanted:
            return index
    choices.append(
        {"id": choice["id"], "text": choice["text"], "correct": bool(choice["correct"]), "removed": True}
    )
    return len(choices) - 1


def _choice_counts(
    catalog: Catalog, rows: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """From ``(question_key, choice_ids, n)`` groups: answers per question, and picks per choice slot."""
    answered: dict[str, int] = {}
    picks: dict[str, list[int]] = {}
    by_key = catalog.by_key()
    for row in rows:
        key = str(row["question_key"])
        answered[key] = answered.get(key, 0) + row["n"]
        entry = by_key.get(key)
        if entry is None:
            continue
        counts = picks.setdefault(key, [0] * len(entry["choices"]))
        slots = {catalog.slots[(key, cid)] for cid in row["choice_ids"] or [] if (key, cid) in catalog.slots}
        for slot in slots:
            counts[slot] += row["n"]
    return answered, picks


def _choice_stats(entry: dict, picks: list[int] | None, answered: int) -> list[ChoiceStat]:
    picks = picks or [0] * len(entry["choices"])
    return [
        ChoiceStat(c["text"], c["correct"], picks[i], percent(picks[i], answered), c["removed"])
        for i, c in enumerate(entry["choices"])
    ]


# --- the queries ---------------------------------------------------------------------------------------


def best_attempts(attempts: QuerySet[Attempt]) -> QuerySet[Attempt]:
    """Of ``attempts``, each learner's best scored one per assessment: the highest score, the earliest of
    equal ones."""
    better = Attempt.objects.filter(
        enrollment_id=OuterRef("enrollment_id"), assessment_id=OuterRef("assessment_id")
    ).filter(Q(score__gt=OuterRef("score")) | Q(score=OuterRef("score"), number__lt=OuterRef("number")))
    return attempts.filter(score__isnull=False).filter(~Exists(better))


def activity_outcomes(*, activity: Activity) -> Outcomes:
    """The outcomes report of ``activity`` (see the module docstring): ten queries at most."""
    assessments = {a.kind: a for a in Assessment.objects.filter(activity=activity)}
    pre, post, evaluation = (assessments.get(kind) for kind in Assessment.Kind.values)
    versions: dict[int, list[AssessmentVersion]] = {}
    if assessments:
        for version in AssessmentVersion.objects.filter(assessment__activity=activity):
            versions.setdefault(version.assessment_id, []).append(version)
    catalogs = {kind: catalog_of(versions.get(a.pk, [])) for kind, a in assessments.items()}

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
        )
        .order_by()
    }

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
    pass_rates = None
    if post is not None:
        row = by_kind.get(Assessment.Kind.POST_TEST, {})
        pass_rates = PassRates(
            attempted=row.get("learners", 0),
            passed=row.get("passers", 0),
            first_attempt_passed=row.get("first_passed", 0),
            attempts=row.get("attempts", 0),
        )
    return Outcomes(
        activity=activity,
        pre_test=pre,
        post_test=post,
        evaluation=evaluation,
        funnel=funnel,
        pass_rates=pass_rates,
        scores=score_distribution(post) if post is not None else [],
        questions=question_difficulty(post, catalogs[post.kind]) if post is not None else [],
        knowledge=knowledge_change(pre, post, catalogs) if pre is not None and post is not None else None,
        evaluation_items=evaluation_items(evaluation, catalogs[evaluation.kind]) if evaluation else [],
        catalogs=catalogs,
    )


def score_distribution(post: Assessment) -> list[ScoreBin]:
    """Learners by their best score, in 10-point bins: one query."""
    width = 100 // BINS
    bin_of = Case(
        *(When(score__lt=(n + 1) * width, then=n) for n in range(BINS - 1)),
        default=BINS - 1,
        output_field=IntegerField(),
    )
    counts = dict(
        best_attempts(Attempt.objects.filter(assessment=post))
        .annotate(bin=bin_of)
        .values("bin")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("bin", "n")
    )
    return [
        ScoreBin(n * width, 100 if n == BINS - 1 else (n + 1) * width - 1, counts.get(n, 0))
        for n in range(BINS)
    ]


def _grouped_answers(answers: QuerySet[Answer]) -> list[Mapping[str, Any]]:
    return list(
        answers.values("question_key", "choice_ids")
        .annotate(n=Count("pk"), right=Count("pk", filter=Q(correct=True)))
        .order_by()
    )


def question_difficulty(post: Assessment, catalog: Catalog) -> list[QuestionStat]:
    """Every scored question of the post-test, over all attempts: one query."""
    rows = _grouped_answers(Answer.objects.filter(attempt__assessment=post))
    answered, picks = _choice_counts(catalog, rows)
    correct: dict[str, int] = {}
    for row in rows:
        key = str(row["question_key"])
        correct[key] = correct.get(key, 0) + row["right"]
    return [
        QuestionStat(
            number=number,
            key=entry["key"],
            text=entry["text"],
            kind=entry["kind"],
            answered=answered.get(entry["key"], 0),
            correct=correct.get(entry["key"], 0),
            choices=_choice_stats(entry, picks.get(entry["key"]), answered.get(entry["key"], 0)),
        )
        for number, entry in enumerate(
            (e for e in catalog.questions if e["kind"] in Question.SCORED_KINDS), start=1
        )
    ]


def _per_question(answers: QuerySet[Answer]) -> dict[str, tuple[int, int]]:
    return {
        str(row["question_key"]): (row["n"], row["right"])
        for row in answers.values("question_key")
        .annotate(n=Count("pk"), right=Count("pk", filter=Q(correct=True)))
        .order_by()
    }


def knowledge_change(pre: Assessment, post: Assessment, catalogs: dict[str, Catalog]) -> Knowledge:
    """Pre-test against best post-test, for the learners who took both: three queries."""
    pre_of = Attempt.objects.filter(assessment=pre, enrollment_id=OuterRef("enrollment_id"))
    matched_best = best_attempts(Attempt.objects.filter(assessment=post)).filter(Exists(pre_of))
    overall = matched_best.annotate(
        pre_score=Subquery(pre_of.order_by("number").values("score")[:1])
    ).aggregate(
        matched=Count("pk"),
        post=Avg("score"),
        pre=Avg("pre_score"),
        improved=Count("pk", filter=Q(score__gt=F("pre_score"))),
        unchanged=Count("pk", filter=Q(score=F("pre_score"))),
    )
    took_post = Attempt.objects.filter(assessment=post, enrollment_id=OuterRef("attempt__enrollment_id"))
    pre_counts = _per_question(Answer.objects.filter(attempt__assessment=pre).filter(Exists(took_post)))
    post_counts = _per_question(Answer.objects.filter(attempt__in=matched_best.values("pk")))

    labels = {**catalogs[pre.kind].by_key(), **catalogs[post.kind].by_key()}  # the post-test's text wins
    order = [e["key"] for e in catalogs[post.kind].questions] + [
        e["key"] for e in catalogs[pre.kind].questions if e["key"] not in catalogs[post.kind].by_key()
    ]
    questions: list[KnowledgeQuestion] = []
    for key in order:
        if labels[key]["kind"] not in Question.SCORED_KINDS:
            continue
        pre_n, pre_right = pre_counts.get(key, (0, 0))
        post_n, post_right = post_counts.get(key, (0, 0))
        questions.append(
            KnowledgeQuestion(
                len(questions) + 1, key, labels[key]["text"], pre_n, pre_right, post_n, post_right
            )
        )
    matched = overall["matched"]
    return Knowledge(
        matched=matched,
        pre_mean=as_decimal(overall["pre"]),
        post_mean=as_decimal(overall["post"]),
        improved=overall["improved"],
        unchanged=overall["unchanged"],
        declined=matched - overall["improved"] - overall["unchanged"],
        questions=questions,
    )


def evaluation_items(evaluation: Assessment, catalog: Catalog) -> list[EvaluationItem]:
    """Every item of the evaluation with its distribution: one query."""
    rows: list[Mapping[str, Any]] = list(
        Answer.objects.filter(attempt__assessment=evaluation)
        .values("question_key", "value", "choice_ids")
        .annotate(n=Count("pk"), texts=Count("pk", filter=~Q(text="")))
        .order_by()
    )
    answered, picks = _choice_counts(catalog, rows)
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
            item.choices.extend(_choice_stats(entry, picks.get(key), answered.get(key, 0)))
        items.append(item)
    return items


# --- free text -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeTextAnswer:
    attempt_id: int
    question_number: int
    question: str
    text: str
    submitted_at: datetime


MAX_SEARCH = 200


def free_text_answers(*, evaluation: Assessment, q: str = "") -> QuerySet[Answer]:
    """The evaluation's free-text answers, newest first, those containing ``q`` (any case) if given."""
    answers = Answer.objects.filter(attempt__assessment=evaluation).exclude(text="")
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
    per_page: int = FREE_TEXT_PAGE,
) -> tuple[Page, list[FreeTextAnswer]]:
    """One page of ``free_text_answers`` (a page number past the end gives the last): two queries."""
    current = Paginator(free_text_answers(evaluation=evaluation, q=q), per_page).get_page(page)
    return current, _free_text(current.object_list, catalog)


def free_text_rows(*, evaluation: Assessment, catalog: Catalog, q: str = "") -> list[FreeTextAnswer]:
    """Every one of ``free_text_answers``: one query."""
    return _free_text(free_text_answers(evaluation=evaluation, q=q).iterator(chunk_size=2000), catalog)
