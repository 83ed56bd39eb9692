import json
import time
import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from activities import demo_data
from activities.models import Activity, CreditDesignation, MocApproval, Provider, Specialty
from activities.search import search_documents_deferred
from assessments.models import Answer, Assessment, AssessmentVersion, Attempt, Choice, Question
from assessments.services import tallies
from assessments.services.authoring import add_starter_evaluation, create_pre_test_from_post_test
from assessments.services.versions import current_version
from learners.models import Enrollment
from portal.models import User

BATCH = 5000
OUTCOME_CHUNK = 1000  # learners written at a time: their enrollments, then attempts, then answers
OUTCOME_QUESTIONS = 10

# On PostgreSQL the rows go in with COPY and the search documents are computed in one statement at the end
# (search_documents_deferred), not row by row by the triggers.
ACTIVITY_COLUMNS = [
    "id", "provider_id", "title", "slug", "summary", "activity_link", "activity_type", "format", "start", "end",
    "reviewed_on", "location", "fee_kind", "fee_amount", "registration", "registration_text", "providership",
    "joint_provider", "commercial_support", "measured_outcomes", "status", "needs_review", "created", "modified",
    "accreditor_activity_id", "checkin_opens_minutes", "checkin_closes_minutes", "claim_days",
    "outcome_measurement",
]  # fmt: skip
# The designation's own columns first, then the text ones the generated activities leave blank.
DESIGNATION_COLUMNS = [
    "activity_id", "credit_type_id", "max_amount",
    "activity_number", "technician_activity_number", "acpe_activity_type", "aapa_reference",
]  # fmt: skip


class Command(BaseCommand):
    help = (
        "Add N realistic synthetic activities (providers, specialties, credit mixes, MOC, dates around today) "
        "with bulk inserts. The same --seed gives the same catalog: a run with the seed and count already there "
        "does nothing, another count replaces that seed's activities (unless learners are enrolled in them). "
        "With --outcomes N, N generated learners also enroll in each of the seed's first --outcome-activities "
        "activities (default 1) and take its pre-test, post-test (retrying after a failure) and evaluation, "
        "which are added where missing (10 questions, 70 % to pass, 3 attempts; the starter evaluation): "
        "attempts and answers at scale for the outcomes report and its benchmark, written in bulk. They stop "
        "before the claim. A repeat with the same N does nothing; another N replaces those learners' "
        "attempts in those activities."
    )

    def add_arguments(self, parser):
        parser.add_argument("--activities", type=int, required=True, metavar="N")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--outcomes",
            type=int,
            default=0,
            metavar="N",
            help="generated learners taking the tests and evaluation of each outcome activity (default 0)",
        )
        parser.add_argument(
            "--outcome-activities",
            type=int,
            default=1,
            metavar="K",
            help="how many of the seed's activities get those learners (default 1)",
        )

    def handle(self, *args, activities: int, seed: int, outcomes: int, outcome_activities: int, **options):
        if activities < 1:
            raise CommandError("--activities must be at least 1.")
        if outcomes < 0 or not 1 <= outcome_activities <= activities:
            raise CommandError(
                "--outcomes must be 0 or more, and --outcome-activities from 1 to --activities."
            )
        self._activities(activities, seed=seed)
        if outcomes:
            started = time.perf_counter()
            written = self._outcomes(seed=seed, learners=outcomes, count=outcome_activities)
            self.stdout.write(
                f"{outcomes:,} learners' attempts in {outcome_activities:,} activities of seed {seed}: "
                f"{written:,} attempts written in {time.perf_counter() - started:.1f} s."
            )

    def _activities(self, activities: int, *, seed: int) -> None:
        started = time.perf_counter()
        earlier = Activity.objects.filter(activity_link__startswith=f"https://cme.example.org/{seed}/")
        if earlier.count() == activities:
            self.stdout.write(f"{activities:,} activities of seed {seed} are already there.")
            return
        if earlier.filter(enrollments__isnull=False).exists():  # learner records are never thrown away
            raise CommandError(
                f"Learners are enrolled in activities of seed {seed}, so they are kept: choose another --seed."
            )
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        generated = demo_data.activities(activities, seed=seed, now=now)
        with transaction.atomic():
            for model in (CreditDesignation, MocApproval, Activity.specialties.through):
                model.objects.filter(activity__in=earlier).delete()
            earlier.delete()
            providers = self._named(Provider, {a.provider for a in generated})
            specialties = self._named(Specialty, {name for a in generated for name in a.specialties})
            load = self._copy if connection.vendor == "postgresql" else self._bulk_create
            with search_documents_deferred() as refresh_search:
                ids = load(generated, seed=seed, now=now, providers=providers, specialties=specialties)
                refresh_search(ids)
        self.stdout.write(
            f"Generated {activities:,} activities from {len(providers):,} providers "
            f"in {time.perf_counter() - started:.1f} s (seed {seed})."
        )

    def _activity_values(self, n, a, *, seed, now, providers):
        return {
            "provider_id": providers[a.provider].pk,
            "title": a.title,
            "slug": f"{slugify(a.title)[:60]}-{seed}-{n}",
            "summary": a.summary,
            "activity_link": a.activity_link,
            "activity_type": a.activity_type,
            "format": a.format,
            "start": a.start,
            "end": a.end,
            "reviewed_on": None,
            "location": "",
            "fee_kind": a.fee_kind,
            "fee_amount": a.fee_amount,
            "registration": a.registration,
            "registration_text": a.registration_text,
            "providership": a.providership,
            "joint_provider": "",
            "commercial_support": a.commercial_support,
            "measured_outcomes": a.outcomes,
            "status": Activity.Status.PUBLISHED,
            "needs_review": False,
            "created": now,
            "modified": now,
            "accreditor_activity_id": "",
            "outcome_measurement": "",
            # COPY writes every column it names and no other gets its default: the model's defaults, here.
            **{
                field.name: field.get_default()
                for field in Activity._meta.concrete_fields
                if field.name in ("checkin_opens_minutes", "checkin_closes_minutes", "claim_days")
            },
        }

    def _copy(self, generated, *, seed, now, providers, specialties):
        with connection.cursor() as wrapper:
            cursor = wrapper.cursor
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('activities_activity', 'id')) FROM generate_series(1, %s)",
                [len(generated)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            columns = ", ".join(f'"{c}"' for c in ACTIVITY_COLUMNS)
            with cursor.copy(f"COPY activities_activity ({columns}) FROM STDIN") as copy:
                for n, (pk, a) in enumerate(zip(ids, generated, strict=True)):
                    values = self._activity_values(n, a, seed=seed, now=now, providers=providers)
                    values["measured_outcomes"] = json.dumps(values["measured_outcomes"])
                    copy.write_row([pk, *(values[c] for c in ACTIVITY_COLUMNS[1:])])
            names = ", ".join(DESIGNATION_COLUMNS)
            with cursor.copy(f"COPY activities_creditdesignation ({names}) FROM STDIN") as copy:
                blank = [""] * (len(DESIGNATION_COLUMNS) - 3)  # no UAN, ACPE type or AAPA review
                for pk, a in zip(ids, generated, strict=True):
                    for code, amount in a.credits.items():
                        copy.write_row([pk, code, amount, *blank])
            with cursor.copy(
                "COPY activities_mocapproval (activity_id, board, credit_type, points) FROM STDIN"
            ) as copy:
                for pk, a in zip(ids, generated, strict=True):
                    for board, moc_type, points in a.moc:
                        copy.write_row([pk, board, moc_type, points])
            with cursor.copy(
                "COPY activities_activity_specialties (activity_id, specialty_id) FROM STDIN"
            ) as copy:
                for pk, a in zip(ids, generated, strict=True):
                    for name in a.specialties:
                        copy.write_row([pk, specialties[name].pk])
        return ids

    def _bulk_create(self, generated, *, seed, now, providers, specialties):
        rows = [
            Activity(**self._activity_values(n, a, seed=seed, now=now, providers=providers))
            for n, a in enumerate(generated)
        ]
        Activity.objects.bulk_create(rows, batch_size=BATCH)
        pairs = list(zip(rows, generated, strict=True))
        CreditDesignation.objects.bulk_create(
            [
                CreditDesignation(activity=row, credit_type_id=c, max_amount=v)
                for row, a in pairs
                for c, v in a.credits.items()
            ],
            batch_size=BATCH,
        )
        MocApproval.objects.bulk_create(
            [
                MocApproval(activity=row, board=b, credit_type=t, points=p)
                for row, a in pairs
                for b, t, p in a.moc
            ],
            batch_size=BATCH,
        )
        through = Activity.specialties.through
        through.objects.bulk_create(
            [
                through(activity_id=row.pk, specialty_id=specialties[s].pk)
                for row, a in pairs
                for s in a.specialties
            ],
            batch_size=BATCH,
        )
        return [row.pk for row in rows]

    def _outcomes(self, *, seed: int, learners: int, count: int) -> int:
        """``learners`` generated learners' attempts at each of the seed's first ``count`` activities; returns
        how many attempts were written."""
        links = [f"https://cme.example.org/{seed}/activities/{n}" for n in range(count)]
        by_link = {a.activity_link: a for a in Activity.objects.filter(activity_link__in=links)}
        users = self._outcome_learners(seed=seed, count=learners)
        written = 0
        for n, link in enumerate(links):
            activity = by_link[link]
            mine = Enrollment.objects.filter(
                activity=activity, learner__email__endswith=f"@outcomes-{seed}.example.invalid"
            )
            if mine.count() == learners:
                continue
            with transaction.atomic():
                Answer.objects.filter(attempt__enrollment__in=mine).delete()
                Attempt.objects.filter(enrollment__in=mine).delete()
                mine.delete()
                taken = self._outcome_assessments(activity)
                rng = demo_data.reproducible(seed, "outcomes", n)
                for offset in range(0, learners, OUTCOME_CHUNK):
                    chunk = users[offset : offset + OUTCOME_CHUNK]
                    written += self._journeys(activity, chunk, taken=taken, rng=rng)
                # Written around the attempt service, so the outcomes report's counts are made afresh.
                tallies.rebuild(activity)
        return written

    def _outcome_learners(self, *, seed: int, count: int) -> list[User]:
        """The seed's generated learners 0 to ``count - 1``, created where missing (no password to sign in
        with: they exist for the figures)."""
        emails = [f"learner-{n}@outcomes-{seed}.example.invalid" for n in range(count)]
        found = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        unusable = make_password(None)
        rng = demo_data.reproducible(seed, "learners")
        first = ["Alex", "Sam", "Jordan", "Priya", "Wei", "Maria", "Omar", "Ingrid", "Kofi", "Yuki", "Lena"]
        last = ["Garcia", "Chen", "Okafor", "Novak", "Patel", "Larsen", "Haddad", "Silva", "Kim", "Brown"]
        User.objects.bulk_create(
            [
                User(email=email, first_name=rng.choice(first), last_name=rng.choice(last), password=unusable)
                for email in emails
                if email not in found
            ],
            batch_size=BATCH,
        )
        by_email = {u.email: u for u in User.objects.filter(email__in=emails).only("pk", "email")}
        return [by_email[email] for email in emails]

    def _outcome_assessments(self, activity: Activity) -> dict[str, tuple[Assessment, AssessmentVersion]]:
        """The activity's pre-test, post-test and evaluation, each added where missing (the post-test's
        questions from its topic, the pre-test asking the same, the starter evaluation), with the version
        learners take, by kind."""
        held = {a.kind: a for a in Assessment.objects.filter(activity=activity)}
        post_test = held.get(Assessment.Kind.POST_TEST)
        if post_test is None:
            post_test = Assessment.objects.create(
                provider_id=activity.provider_id,
                activity=activity,
                kind=Assessment.Kind.POST_TEST,
                title="Post-test",
                passing_score=70,
                max_attempts=3,
            )
            for position, item in enumerate(
                demo_data.outcome_questions(activity.title, OUTCOME_QUESTIONS), 1
            ):
                question = Question.objects.create(
                    assessment=post_test, position=position, text=item.text, explanation=item.explanation
                )
                Choice.objects.bulk_create(
                    Choice(question=question, position=n, text=text, is_correct=correct)
                    for n, (text, correct) in enumerate(item.choices, start=1)
                )
        if Assessment.Kind.PRE_TEST not in held:
            held[Assessment.Kind.PRE_TEST] = create_pre_test_from_post_test(post_test=post_test, by=None)
        if Assessment.Kind.EVALUATION not in held:
            held[Assessment.Kind.EVALUATION] = add_starter_evaluation(activity=activity, by=None)
        held[Assessment.Kind.POST_TEST] = post_test
        return {kind: (assessment, current_version(assessment)) for kind, assessment in held.items()}

    def _journeys(self, activity, users, *, taken, rng) -> int:
        """Enrollments, attempts and answers of ``users`` in ``activity``, one bulk insert a table (COPY on
        PostgreSQL); returns the number of attempts."""
        contents = {kind: version.content for kind, (_, version) in taken.items()}
        post_test = taken[Assessment.Kind.POST_TEST][0]
        passing = Decimal(post_test.passing_score or 70)
        now = timezone.now()
        since = max(activity.start, now - timedelta(days=365))
        span = max((now - since).total_seconds(), 3600.0)
        enrollments, journeys = [], []
        for user in users:
            enrolled = since + timedelta(seconds=rng.uniform(0, span * 0.9))
            enrollments.append(
                {
                    "learner_id": user.pk,
                    "activity_id": activity.pk,
                    "public_id": uuid.UUID(int=rng.getrandbits(128), version=4),
                    "status": Enrollment.Status.ENROLLED,
                    "completed_at": None,
                    "created": enrolled,
                    "modified": enrolled,
                }
            )
            journeys.append(
                demo_data.learner_journey(
                    rng,
                    contents=contents,
                    enrolled=enrolled,
                    passing_score=int(passing),
                    attempts_allowed=post_test.max_attempts,
                )
            )
        attempts, given = [], []
        for enrollment_id, journey in zip(_insert(Enrollment, enrollments), journeys, strict=True):
            for synthetic in journey:
                assessment, version = taken[synthetic.kind]
                scored = synthetic.kind != Assessment.Kind.EVALUATION
                score = _percent(synthetic.correct, synthetic.scored) if scored else None
                attempts.append(
                    {
                        "enrollment_id": enrollment_id,
                        "assessment_id": assessment.pk,
                        "version_id": version.pk,
                        "number": synthetic.number,
                        "submitted_at": min(synthetic.at, now),
                        "score": score,
                        "correct": synthetic.correct if scored else None,
                        "scored": synthetic.scored if scored else None,
                        "passed": score >= passing
                        if score is not None and synthetic.kind == Assessment.Kind.POST_TEST
                        else None,
                    }
                )
                given.append(synthetic.answers)
        answers = [
            {
                "attempt_id": attempt_id,
                "question_pk": a.question["id"],
                "question_key": uuid.UUID(a.question["key"]),
                "choice_ids": a.choice_ids,
                "value": a.value,
                "text": a.text,
                "correct": a.correct,
            }
            for attempt_id, answered in zip(_insert(Attempt, attempts), given, strict=True)
            for a in answered
        ]
        _insert(Answer, answers, ids=False)
        return len(attempts)

    def _named(self, model, names: set[str]) -> dict:
        """Rows of ``model`` by name, creating the missing ones."""
        found = {obj.name: obj for obj in model.objects.filter(name__in=names)}
        taken = set(model.objects.values_list("slug", flat=True))
        missing = []
        for name in sorted(names - found.keys()):
            slug, n = slugify(name)[:70], 2
            while slug in taken:
                slug, n = f"{slugify(name)[:66]}-{n}", n + 1
            taken.add(slug)
            missing.append(model(name=name, slug=slug))
        model.objects.bulk_create(missing)
        found.update({obj.name: obj for obj in model.objects.filter(name__in=[m.name for m in missing])})
        return found


def _percent(correct: int, total: int) -> Decimal:
    """The score as the attempt service records it."""
    if total == 0:
        return Decimal("100.00")
    return (Decimal(100) * correct / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _insert(model, rows: list[dict], *, ids: bool = True) -> list[int]:
    """Insert ``rows`` (column values by attribute name) into ``model``'s table, in order; return their ids.

    On PostgreSQL by COPY, with ids taken from the table's sequence first (what bulk_create would cost in
    SQL compilation is most of the time here); elsewhere by ``bulk_create``."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)
        return [obj.pk for obj in objs]
    table, columns = model._meta.db_table, list(rows[0])
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        pks: list[int] = []
        if ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            pks = [row[0] for row in cursor.fetchall()]
        names = ", ".join(f'"{model._meta.get_field(name).column}"' for name in columns)
        with cursor.copy(f"COPY {table} ({'id, ' if ids else ''}{names}) FROM STDIN") as copy:
            for n, row in enumerate(rows):
                values = [json.dumps(v) if isinstance(v, list) else v for v in row.values()]
                copy.write_row([pks[n], *values] if ids else values)
    return pks
