import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from activities import demo_data
from activities.models import Activity, CreditDesignation, MocApproval, Provider, Specialty
from activities.search import search_documents_deferred

BATCH = 5000

# On PostgreSQL the rows go in with COPY and the search documents are computed in one statement at the end
# (search_documents_deferred), not row by row by the triggers.
ACTIVITY_COLUMNS = [
    "id", "provider_id", "title", "slug", "summary", "activity_link", "activity_type", "format", "start", "end",
    "reviewed_on", "location", "fee_kind", "fee_amount", "registration", "registration_text", "providership",
    "joint_provider", "commercial_support", "measured_outcomes", "status", "needs_review", "created", "modified",
    "accreditor_activity_id",
]  # fmt: skip


class Command(BaseCommand):
    help = (
        "Add N realistic synthetic activities (providers, specialties, credit mixes, MOC, dates around today) "
        "with bulk inserts. The same --seed gives the same catalog: a run with the seed and count already there "
        "does nothing, another count replaces that seed's activities (unless learners are enrolled in them)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--activities", type=int, required=True, metavar="N")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, activities: int, seed: int, **options):
        if activities < 1:
            raise CommandError("--activities must be at least 1.")
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
            with cursor.copy("COPY activities_creditdesignation (activity_id, credit_type_id, max_amount, activity_number) FROM STDIN") as copy:  # fmt: skip
                for pk, a in zip(ids, generated, strict=True):
                    for code, amount in a.credits.items():
                        copy.write_row([pk, code, amount, ""])
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
