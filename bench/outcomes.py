"""Benchmark: the outcomes report of one activity with 10,000 learners' attempts and evaluations.

Builds (once; reused while it holds the same number of learners) an activity whose 10,000 learners each
took a pre-test of 10 questions, a post-test of the same 10 questions once or twice (the second attempt
after a fail), and most of them the evaluation (8 Likert items, one choice item, one free-text item):
about 30,000 attempts and 300,000 answers, written with ``bulk_create`` straight into the benchmark's
PostgreSQL database. Then times, through Django's test client signed in as a viewer of the provider, the
outcomes page, the page with a free-text search, every CSV and the provider's annual view, interleaved,
against ``/healthz`` through the same client as the floor. Prints median and p95 per request, their ratio
to the floor's, and the queries each request made. Target: the outcomes page's p95 under 300 ms. Nothing
is asserted on time: the figures are printed.

Run with ``make bench`` or ``python bench/outcomes.py [--learners N] [--repeat R]``.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median, percentile, setup_django, table

TARGET_P95_MS = 300
# The report keeps the counts it reads from every answer until the next attempt (the ``fragments`` cache):
# this row clears that cache before each request, as the first view after a new attempt finds it.
COLD = "outcomes page, cold (first view after a new attempt)"
QUESTIONS = 10
LIKERT_ITEMS = 8
PHRASES = [
    "The dosing tables will change how I titrate.",
    "Too long for a lunch break.",
    "More cases on pump refills, please.",
    "Clear explanation of catheter complications.",
    "I will review our screening protocol with the team.",
    "Barriers: time and staffing.",
]


def link(learners: int) -> str:
    return f"https://bench.example.org/outcomes/{learners}"


def make_assessments(activity) -> dict:
    from assessments.models import Assessment, Choice, Question
    from assessments.services.versions import current_version

    made = {}
    for kind in ("pre_test", "post_test"):
        assessment = Assessment.objects.create(
            provider=activity.provider,
            activity=activity,
            kind=kind,
            title=kind,
            passing_score=70 if kind == "post_test" else None,
            max_attempts=2 if kind == "post_test" else None,
            required_for="nothing" if kind == "pre_test" else "credit",
        )
        for n in range(1, QUESTIONS + 1):
            question = Question.objects.create(
                assessment=assessment,
                key=f"00000000-0000-4000-8000-{n:012d}",
                position=n,
                text=f"Question {n} on intrathecal drug delivery?",
            )
            for position in range(1, 5):
                Choice.objects.create(
                    question=question, position=position, text=f"Answer {position}", is_correct=position == 1
                )
        made[kind] = (assessment, current_version(assessment))
    evaluation = Assessment.objects.create(
        provider=activity.provider, activity=activity, kind="evaluation", title="Evaluation"
    )
    for n in range(1, LIKERT_ITEMS + 1):
        Question.objects.create(assessment=evaluation, position=n, kind="likert", text=f"Statement {n}.")
    change = Question.objects.create(
        assessment=evaluation, position=LIKERT_ITEMS + 1, kind="single", text="Will you change your practice?"
    )
    Choice.objects.create(question=change, position=1, text="Yes")
    Choice.objects.create(question=change, position=2, text="No")
    Question.objects.create(
        assessment=evaluation, position=LIKERT_ITEMS + 2, kind="free_text", text="What will you change?"
    )
    made["evaluation"] = (evaluation, current_version(evaluation))
    return made


def scored_answers(version, ability: float, rng: random.Random) -> tuple[list[dict], int]:
    answers, correct = [], 0
    for question in version.content["questions"]:
        right = rng.random() < ability
        choices = question["choices"]
        picked = choices[0] if right else choices[rng.randrange(1, len(choices))]
        correct += right
        answers.append(
            {"pk": question["id"], "key": question["key"], "choice_ids": [picked["id"]], "correct": right}
        )
    return answers, correct


def build(learners: int) -> None:
    """The activity, its three assessments and ``learners`` learners' attempts, in bulk."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from activities.models import Activity, Provider
    from assessments.models import Answer, Attempt
    from assessments.services import tallies
    from learners.models import Enrollment
    from portal.models import User

    rng = random.Random(12)
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        provider, _ = Provider.objects.get_or_create(
            name="Outcomes Bench Provider", defaults={"slug": "outcomes-bench"}
        )
        activity = Activity.objects.create(
            provider=provider,
            title=f"Outcomes bench: {learners:,} learners",
            slug=f"outcomes-bench-{learners}",
            summary="For the outcomes benchmark.",
            activity_link=link(learners),
            activity_type="internet_enduring",
            format="online",
            start=now - timedelta(days=200),
            end=now + timedelta(days=500),
            status=Activity.Status.PUBLISHED,
            measured_outcomes=["learner_knowledge", "learner_competence"],
        )
        made = make_assessments(activity)
        users = User.objects.bulk_create(
            [
                User(
                    email=f"outcomes{learners}-{n}@bench.example.org", first_name="Learner", last_name=f"#{n}"
                )
                for n in range(learners)
            ],
            batch_size=5000,
        )
        enrollments = Enrollment.objects.bulk_create(
            [Enrollment(learner=user, activity=activity) for user in users], batch_size=5000
        )
        attempts, answers_of = [], []  # answers_of[i]: the answers of attempts[i]
        completed = []
        for enrollment in enrollments:
            ability = rng.uniform(0.25, 0.85)
            day = now - timedelta(days=rng.randrange(1, 190))
            given, correct = scored_answers(made["pre_test"][1], ability - 0.15, rng)
            taken = [("pre_test", 1, given, correct)]
            passed = False
            for number in (1, 2):  # a second attempt after a fail, for most who failed; a pass is final
                given, correct = scored_answers(made["post_test"][1], ability + 0.1 * number, rng)
                taken.append(("post_test", number, given, correct))
                passed = correct * 100 >= 70 * QUESTIONS
                if passed or rng.random() > 0.8:
                    break
            for step, (kind, number, given, correct) in enumerate(taken):
                assessment, version = made[kind]
                score = Decimal(correct * 100) / Decimal(QUESTIONS)
                attempts.append(
                    Attempt(
                        enrollment=enrollment,
                        assessment=assessment,
                        version=version,
                        number=number,
                        submitted_at=day + timedelta(minutes=20 * step),
                        score=score,
                        correct=correct,
                        scored=QUESTIONS,
                        passed=(score >= 70) if kind == "post_test" else None,
                    )
                )
                answers_of.append(given)
            if passed and rng.random() < 0.9:
                evaluation, version = made["evaluation"]
                attempts.append(
                    Attempt(
                        enrollment=enrollment,
                        assessment=evaluation,
                        version=version,
                        number=1,
                        submitted_at=day + timedelta(hours=2),
                    )
                )
                answers_of.append(evaluation_answers(version, rng))
                if rng.random() < 0.85:
                    enrollment.status = Enrollment.Status.COMPLETED
                    enrollment.completed_at = day + timedelta(hours=3)
                    completed.append(enrollment)
        Enrollment.objects.bulk_update(completed, ["status", "completed_at"], batch_size=5000)
        Attempt.objects.bulk_create(attempts, batch_size=5000)
        rows = [
            Answer(
                attempt=attempt,
                question_pk=given["pk"],
                question_key=given["key"],
                choice_ids=given.get("choice_ids", []),
                value=given.get("value"),
                text=given.get("text", ""),
                correct=given.get("correct"),
            )
            for attempt, answers in zip(attempts, answers_of, strict=True)
            for given in answers
        ]
        Answer.objects.bulk_create(rows, batch_size=10000)
        tallies.rebuild(activity)
    print(
        f"Built {learners:,} learners, {len(attempts):,} attempts, {len(rows):,} answers"
        f" in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def evaluation_answers(version, rng: random.Random) -> list[dict]:
    answers = []
    for question in version.content["questions"]:
        base = {"pk": question["id"], "key": question["key"]}
        if question["kind"] == "likert":
            answers.append({**base, "value": rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 4, 8, 6])[0]})
        elif question["kind"] == "single":
            answers.append(
                {**base, "choice_ids": [question["choices"][0 if rng.random() < 0.6 else 1]["id"]]}
            )
        elif rng.random() < 0.3:
            answers.append({**base, "text": rng.choice(PHRASES)})
    return answers


def ensure_data(learners: int):
    from django.db import connection

    from activities.models import Activity
    from assessments.models import AnswerTally
    from assessments.services import tallies

    activity = Activity.objects.filter(activity_link=link(learners)).first()
    if activity is None or activity.enrollments.count() != learners:
        if activity is not None:
            raise SystemExit(f"{link(learners)} exists but is incomplete: drop the benchmark database")
        build(learners)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        activity = Activity.objects.get(activity_link=link(learners))
    elif not AnswerTally.objects.filter(assessment__activity=activity).exists():
        tallies.rebuild(activity)  # a database built before the report kept its counts
    return activity


def viewer_of(provider):
    from activities.models import Membership
    from portal.models import User

    user, _ = User.objects.get_or_create(
        email="outcomes-viewer@bench.example.org", defaults={"is_staff": True}
    )
    Membership.objects.get_or_create(user=user, provider=provider, defaults={"role": "viewer"})
    return user


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args, _unknown = parser.parse_known_args(argv)  # make bench passes every benchmark the same arguments

    # Production settings serve hashed static files from a manifest: collect them first, as a deploy does.
    os.environ.setdefault("STATIC_ROOT", tempfile.mkdtemp(prefix="cme-bench-static-"))
    setup_django()
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    call_command("collectstatic", interactive=False, verbosity=0)
    activity = ensure_data(args.learners)
    client = Client()
    client.force_login(viewer_of(activity.provider))
    page = reverse("admin:assessments_outcomes", args=[activity.pk])
    export = reverse("admin:assessments_outcomes_csv", args=[activity.pk])
    year = timezone.localtime(activity.start).year
    requests = [
        ("floor: trivial view (/healthz)", "/healthz"),
        ("outcomes page", page),
        (COLD, page),
        ("outcomes page, free-text search (q=dosing)", page + "?q=dosing"),
        *((f"CSV: {table}", f"{export}?table={table}") for table in
          ("funnel", "scores", "questions", "knowledge", "evaluation", "free_text")),
        ("annual view of the provider", reverse("admin:assessments_outcomes_annual") + f"?year={year}"),
    ]  # fmt: skip
    queries = {}
    for label, path in requests:  # warm up, and count each request's queries once
        for _ in range(2):
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
        if label == COLD:
            caches["fragments"].clear()
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries[label] = len(captured)
    timings: dict[str, list[float]] = {label: [] for label, _ in requests}
    for _ in range(args.repeat):  # interleaved, so no request gets a quieter moment than another
        for label, path in requests:
            if label == COLD:
                caches["fragments"].clear()
            started = time.perf_counter()
            client.get(path)
            timings[label].append((time.perf_counter() - started) * 1000)

    floor = timings[requests[0][0]]
    floor_median, floor_p95 = median(floor), percentile(floor, 95)
    rows = []
    for label, _path in requests:
        values = timings[label]
        p50, p95 = median(values), percentile(values, 95)
        rows.append(
            [
                label,
                f"{p50:.1f}",
                f"{p95:.1f}",
                f"{p50 / floor_median:.1f}x",
                f"{p95 / floor_p95:.1f}x",
                str(queries[label]),
            ]
        )
    print(
        f"Outcomes of an activity with {args.learners:,} learners (Django test client, PostgreSQL), {args.repeat} requests each"
    )
    print(table(["request", "median ms", "p95 ms", "median vs floor", "p95 vs floor", "queries"], rows))
    for label in ("outcomes page", COLD):
        p95 = percentile(timings[label], 95)
        verdict = "within" if p95 < TARGET_P95_MS else "OVER"
        print(f"{label}: p95 {p95:.1f} ms, {verdict} the target of {TARGET_P95_MS} ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
