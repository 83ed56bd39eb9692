"""Activity services: importing listings, publishing.

Importing upserts by ``activity_link``. ``import_listing`` writes one parsed listing in one transaction;
``import_listings`` takes many files, writes them a chunk at a time (one transaction a chunk, bulk queries),
and when a chunk fails in the database it rolls the chunk back and writes each of its files alone, so a
file is always imported whole or not at all and one bad file never takes another down with it.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activities import rules, statements, vocabulary
from activities import sessions as listing_sessions
from activities.listing import (
    ACTIVITY_LINK,
    CREDIT_DETAILS,
    FILE,
    PROVIDER,
    SPECIALTY,
    TITLE,
    FieldError,
    Listing,
    ListingError,
    parse_listing,
)
from activities.models import Activity, CreditDesignation, JointProvider, MocApproval, Provider, Specialty
from activities.search import search_documents_deferred
from assessments.services import listings as listed_requirements
from assessments.services.listings import ActivityRequirements
from portal import audit
from portal.audit import Actor
from portal.lib.csv import starts_like_formula
from portal.models import User

__all__ = [
    "ImportReport",
    "ImportResult",
    "ListingError",
    "PublishReport",
    "import_listing",
    "import_listings",
    "listing_sources",
    "set_published",
    "uploaded_sources",
]

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"
# What an import's changes say of the assessments it adds (the listing's Completion Requirements).
_ADDED = {"post_test": "post-test added", "evaluation": "evaluation added"}
CHUNK_SIZE = 500
MAX_FILE_BYTES = 1024 * 1024


@dataclass
class ImportResult:
    source: str
    status: str
    activity: Activity | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    # The activity's post-test and evaluation after the import (see assessments.services.listings).
    requirements: ActivityRequirements | None = None


@dataclass
class ImportReport:
    results: list[ImportResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result.status == status)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    def summary(self) -> str:
        """Counts by status, then of the imported activities with a post-test (and of those whose post-test has
        no questions yet) and with an evaluation."""
        held = [r.requirements for r in self.results if r.requirements is not None]
        empty = sum(1 for h in held if h.post_test is not None and not h.post_test.questions)
        return _(
            "%(files)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(failed)d failed; "
            "%(post_tests)s%(empty)s, %(evaluations)s"
        ) % {
            "files": ngettext("%d file", "%d files", len(self.results)) % len(self.results),
            "created": self.count(CREATED),
            "updated": self.count(UPDATED),
            "unchanged": self.count(UNCHANGED),
            "failed": self.failed,
            "post_tests": _("%d with a post-test") % sum(1 for h in held if h.post_test is not None),
            "empty": _(" (%d with no questions yet)") % empty if empty else "",
            "evaluations": _("%d with an evaluation") % sum(1 for h in held if h.evaluation is not None),
        }

    def lines(self) -> Iterator[str]:
        """``path: Field: reason`` for each failure, ``path: warning: ...`` for each warning, and for each
        imported activity ``path: post-test 70 %, 3 attempts (5 questions); evaluation (8 questions)``."""
        for result in self.results:
            for error in result.errors:
                yield f"{result.source}: {error}"
            for warning in result.warnings:
                yield f"{result.source}: warning: {warning}"
            if result.requirements is not None:
                yield f"{result.source}: {result.requirements.describe()}"


def listing_sources(paths: Iterable[str | Path]) -> list[tuple[str, Callable[[], bytes]]]:
    """``(name, read)`` pairs for files and every ``.txt`` below directories, in a stable order."""
    sources: list[tuple[str, Callable[[], bytes]]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.txt") if p.is_file())
            sources.extend((str(p), _reader(p)) for p in files)
        else:
            sources.append((str(path), _reader(path)))
    return sources


def uploaded_sources(uploads: Iterable[UploadedFile]) -> list[tuple[str, Callable[[], bytes]]]:
    """``(name, read)`` pairs for files uploaded through a form."""

    def reader(upload: UploadedFile) -> Callable[[], bytes]:
        def read() -> bytes:
            if upload.size is None or upload.size > MAX_FILE_BYTES:
                raise ListingError([FieldError(FILE, f"is larger than {MAX_FILE_BYTES // 1024} KiB")])
            upload.seek(0)
            return upload.read()

        return read

    return [(upload.name or "", reader(upload)) for upload in uploads]


def _reader(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ListingError([FieldError(FILE, f"is larger than {MAX_FILE_BYTES // 1024} KiB")])
            return path.read_bytes()
        except FileNotFoundError:
            raise ListingError([FieldError(FILE, "does not exist")]) from None
        except IsADirectoryError:
            raise ListingError([FieldError(FILE, "is a directory")]) from None
        except OSError as exc:
            raise ListingError([FieldError(FILE, f"cannot be read ({exc.strerror})")]) from None

    return read


def import_listing(
    *, listing: Listing, source: str = "", actor: Actor = None, provider_ids: frozenset[int] | None = None
) -> ImportResult:
    """Create or update the activity ``listing`` describes, with its credits, MOC and specialties.

    ``provider_ids`` limits the import to those providers (provider staff), and to the catalog's specialties:
    the specialties are every visitor's catalog facets, kept by accreditation staff. None (accreditation
    staff, the ``import_activities`` command) allows any provider and creates unknown providers and
    specialties. Raises ``ListingError`` when refused. A repeat with the same listing changes nothing and
    reports ``unchanged``.
    """
    with transaction.atomic():
        return _write_batch([(source, listing)], actor=actor, provider_ids=provider_ids)[0]


def import_listings(
    *,
    sources: Sequence[tuple[str, Callable[[], bytes] | bytes | str]],
    actor: Actor = None,
    provider_ids: frozenset[int] | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], object] | None = None,
) -> ImportReport:
    """Import many listing files; each is imported whole or not at all, and good files always land.

    ``provider_ids`` as for ``import_listing``: a scoped import refuses a file naming another provider or a
    specialty the catalog does not have, and imports the others.
    """
    report = ImportReport()
    for offset in range(0, len(sources), chunk_size):
        chunk = sources[offset : offset + chunk_size]
        parsed: list[tuple[str, Listing]] = []
        for source, data in chunk:
            try:
                listing = parse_listing(data() if callable(data) else data)
            except ListingError as exc:
                report.results.append(ImportResult(source, FAILED, errors=exc.errors))
            else:
                parsed.append((source, listing))
        report.results.extend(_write_chunk(parsed, actor=actor, provider_ids=provider_ids))
        if progress is not None:
            progress(len(chunk))
    return report


def _write_chunk(
    parsed: list[tuple[str, Listing]], *, actor: Actor, provider_ids: frozenset[int] | None
) -> list[ImportResult]:
    # Files a scoped import must refuse (another provider's, or naming a specialty the catalog lacks) are set
    # aside first, so that the others still go in bulk rather than one at a time after the batch fails.
    # _write_batch checks the same again, inside the transaction.
    refused: list[ImportResult] = []
    if provider_ids is not None:
        own = {p.name.casefold() for p in Provider.objects.filter(pk__in=provider_ids).only("name")}
        known = _known_specialties()
        kept = []
        for source, listing in parsed:
            errors = [] if listing.provider.casefold() in own else [_not_your_provider(listing.provider)]
            errors += _unknown_specialty_errors(listing, known)
            if errors:
                refused.append(ImportResult(source, FAILED, errors=errors, warnings=list(listing.warnings)))
            else:
                kept.append((source, listing))
        parsed = kept
    # A link that appears twice in one chunk is written by a later, single-file pass, in order.
    first: list[tuple[str, Listing]] = []
    repeats: list[tuple[str, Listing]] = []
    seen: set[str] = set()
    for item in parsed:
        (repeats if item[1].activity_link in seen else first).append(item)
        seen.add(item[1].activity_link)
    try:
        with transaction.atomic():
            results = _write_batch(first, actor=actor, provider_ids=provider_ids)
    except (ListingError, DatabaseError):
        results = [_write_alone(item, actor=actor, provider_ids=provider_ids) for item in first]
    return (
        refused + results + [_write_alone(item, actor=actor, provider_ids=provider_ids) for item in repeats]
    )


def _write_alone(
    item: tuple[str, Listing], *, actor: Actor, provider_ids: frozenset[int] | None
) -> ImportResult:
    source, listing = item
    try:
        return import_listing(listing=listing, source=source, actor=actor, provider_ids=provider_ids)
    except ListingError as exc:
        return ImportResult(source, FAILED, errors=exc.errors, warnings=list(listing.warnings))
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        return ImportResult(
            source,
            FAILED,
            errors=[FieldError(FILE, f"could not be saved: {reason}")],
            warnings=list(listing.warnings),
        )


def _write_batch(
    items: list[tuple[str, Listing]], *, actor: Actor, provider_ids: frozenset[int] | None
) -> list[ImportResult]:
    """Upsert ``items`` (distinct links) inside the caller's transaction. Raises ``ListingError``.

    A fixed number of queries for the whole batch: the existing activities and their children are read
    once, then every insert, update and delete goes out as one bulk statement per table.
    """
    if not items:
        return []
    with search_documents_deferred() as refresh_search:
        listings = [listing for _, listing in items]
        for listing in listings:
            if starts_like_formula(listing.title):  # the parser refuses these; a Listing made otherwise too
                raise ListingError(
                    [FieldError(TITLE, _("may not begin with =, +, -, @, a tab or a line break"))]
                )
        providers = _providers(listings, provider_ids=provider_ids)
        specialties = _specialties(listings, provider_ids=provider_ids)
        existing = {
            activity.activity_link: activity
            for activity in Activity.objects.select_for_update().filter(
                activity_link__in=[listing.activity_link for listing in listings]
            )
        }
        stored = _StoredChildren.load([activity.pk for activity in existing.values()])

        now = timezone.now()
        rows: list[tuple[str, Listing, Activity, list[str] | None]] = []  # None: a new activity
        for source, listing in items:
            provider = providers[listing.provider.casefold()]
            _check_contact_hour_steps(listing, provider)
            activity = existing.get(listing.activity_link)
            if activity is None:
                activity = Activity(
                    activity_link=listing.activity_link,
                    title=listing.title,
                    slug=_slug(listing.title, listing.activity_link),
                    status=Activity.Status.PUBLISHED,
                    needs_review=listing.title_derived,
                    created=now,
                    modified=now,
                )
                _apply(activity, listing, provider)
                rows.append((source, listing, activity, None))
            elif activity.provider_id != provider.pk:
                raise ListingError([FieldError(ACTIVITY_LINK, _("is already listed by another provider"))])
            else:
                rows.append((source, listing, activity, _apply(activity, listing, provider)))

        Activity.objects.bulk_create([activity for _, _, activity, changed in rows if changed is None])
        children_changed = stored.sync(
            [(activity.pk, listing) for _, listing, activity, _ in rows], specialties=specialties
        )
        # The listing's joint provider joins the activity's joint providers (staff may add others, and
        # keep the rows a later listing no longer names: the listing gives one name, the admin the list).
        JointProvider.objects.bulk_create(
            [
                JointProvider(activity_id=activity.pk, name=listing.joint_provider.strip())
                for _, listing, activity, _ in rows
                if listing.joint_provider.strip()
            ],
            ignore_conflicts=True,
        )
        sessions_changed = listing_sessions.sync_listing_sessions(
            [activity for _, _, activity, _ in rows], now=now
        )
        requirements = listed_requirements.add_listed_requirements(
            items=[(activity, listing) for _, listing, activity, _ in rows],
            by=actor if isinstance(actor, User) and actor.is_authenticated else None,
        )

        results, to_update, update_fields = [], [], {"modified"}
        for source, listing, activity, changed in rows:
            held = requirements[activity.pk]
            warnings = [*listing.warnings, *held.warnings]
            added = [_ADDED[kind] for kind in held.added]
            if changed is None:
                results.append(
                    ImportResult(
                        source, CREATED, activity, warnings=warnings, changes=added, requirements=held
                    )
                )
                continue
            changes = sorted(changed)
            if activity.pk in children_changed:
                changes.append("credits, MOC or specialties")
            if activity.pk in sessions_changed:
                changes.append("session")
            if changes:
                activity.modified = now
                to_update.append(activity)
                update_fields.update(changed)
            changes += added
            status = UPDATED if changes else UNCHANGED
            results.append(
                ImportResult(source, status, activity, warnings=warnings, changes=changes, requirements=held)
            )
        _upsert(Activity, to_update, unique_fields=["activity_link"], update_fields=sorted(update_fields))
        written = [(r, r.activity) for r in results if r.status != UNCHANGED and r.activity is not None]
        refresh_search([activity.pk for _, activity in written])
        audit.record_many(
            actor=actor,
            entries=[
                (
                    audit.AuditAction.ACTIVITY_IMPORTED
                    if r.status == CREATED
                    else audit.AuditAction.ACTIVITY_UPDATED,
                    activity,
                    activity.provider_id,
                    {"source": r.source, **({"changed": r.changes} if r.changes else {})},
                )
                for r, activity in written
            ],
        )
        return results


def _apply(activity: Activity, listing: Listing, provider: Provider) -> list[str]:
    """Copy the listing onto ``activity``; return the names of the fields that changed."""
    values = {
        "summary": listing.summary,
        "provider_id": provider.pk,
        "activity_type": listing.activity_type,
        "format": listing.format,
        "start": listing.start,
        "end": listing.end,
        "fee_kind": listing.fee_kind,
        "fee_amount": listing.fee_amount,
        "registration": listing.registration,
        "registration_text": listing.registration_text,
        "providership": listing.providership,
        "joint_provider": listing.joint_provider,
        "commercial_support": listing.commercial_support,
        "measured_outcomes": list(listing.measured_outcomes),
    }
    # A derived title never overwrites one that staff may have corrected since.
    if not listing.title_derived:
        values["title"] = listing.title
    changed = []
    for name, value in values.items():
        if getattr(activity, name) != value:
            setattr(activity, name, value)
            changed.append(name.removesuffix("_id"))
    return changed


@dataclass
class _StoredChildren:
    """The credits, MOC rows and specialty links some activities have now: ``{key: (pk, value)}``."""

    credits: dict[tuple[int, str], tuple[int, Decimal]]
    moc: dict[tuple[int, str, str], tuple[int, Decimal]]
    links: dict[tuple[int, int], tuple[int, None]]

    @classmethod
    def load(cls, activity_ids: list[int]) -> "_StoredChildren":
        if not activity_ids:
            return cls({}, {}, {})
        credits = CreditDesignation.objects.filter(activity_id__in=activity_ids)
        moc = MocApproval.objects.filter(activity_id__in=activity_ids)
        links = Activity.specialties.through.objects.filter(activity_id__in=activity_ids)
        return cls(
            {
                (a, c): (pk, v)
                for pk, a, c, v in credits.values_list("pk", "activity", "credit_type", "max_amount")
            },
            {
                (a, b, t): (pk, v)
                for pk, a, b, t, v in moc.values_list("pk", "activity", "board", "credit_type", "points")
            },
            {(a, s): (pk, None) for pk, a, s in links.values_list("pk", "activity", "specialty")},
        )

    def sync(self, wanted: list[tuple[int, Listing]], *, specialties: dict[str, Specialty]) -> set[int]:
        """Make the activities' children match their listings; return the ids of activities that changed."""
        credits = {(pk, c.credit_type): c.amount for pk, listing in wanted for c in listing.credits}
        moc = {(pk, m.board, m.credit_type): m.points for pk, listing in wanted for m in listing.moc}
        links = {
            (pk, specialties[name.casefold()].pk): None
            for pk, listing in wanted
            for name in listing.specialties
        }
        changed: set[int] = set()
        through = Activity.specialties.through
        tables: list[tuple[type[models.Model], dict[Any, tuple[int, Any]], dict[Any, Any]]] = [
            (CreditDesignation, self.credits, credits),
            (MocApproval, self.moc, moc),
            (through, self.links, links),
        ]
        for model, now, target in tables:
            gone = [key for key in now if key not in target]
            if gone:
                model._default_manager.filter(pk__in=[now[key][0] for key in gone]).delete()
            write = [key for key, value in target.items() if key not in now or now[key][1] != value]
            changed.update(key[0] for key in [*gone, *write])
            if model is CreditDesignation:
                credit_rows = [
                    CreditDesignation(activity_id=a, credit_type_id=c, max_amount=credits[a, c])
                    for a, c in write
                ]
                _upsert(
                    model,
                    credit_rows,
                    unique_fields=["activity", "credit_type"],
                    update_fields=["max_amount"],
                )
            elif model is MocApproval:
                moc_rows = [
                    MocApproval(activity_id=a, board=b, credit_type=t, points=moc[a, b, t])
                    for a, b, t in write
                ]
                _upsert(
                    model,
                    moc_rows,
                    unique_fields=["activity", "board", "credit_type"],
                    update_fields=["points"],
                )
            else:
                through.objects.bulk_create([through(activity_id=a, specialty_id=s) for a, s in write])
        return changed


def _upsert(
    model: type[models.Model], objs: list[Any], *, unique_fields: list[str], update_fields: list[str]
) -> None:
    """Insert ``objs``, or update ``update_fields`` of the rows they collide with: one statement a batch.

    ``INSERT ... ON CONFLICT DO UPDATE`` is far cheaper than Django's ``bulk_update`` (a CASE per row and
    column). Rows are matched on ``unique_fields``, so objects are written without their primary key.
    """
    if not objs:
        return
    # Written without their primary keys (and given them back after): the statement matches on
    # unique_fields, and bulk_create would otherwise insert the objects' ids as well.
    ids = [obj.pk for obj in objs]
    for obj in objs:
        obj.pk = None
    try:
        model._default_manager.bulk_create(
            objs,
            batch_size=CHUNK_SIZE,
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=update_fields,
        )
    finally:
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk = pk


def _providers(listings: list[Listing], *, provider_ids: frozenset[int] | None) -> dict[str, Provider]:
    """The listings' providers by case-folded name; unknown ones are created unless the import is scoped."""
    names = {listing.provider.casefold(): listing.provider for listing in listings}
    found = {p.name.casefold(): p for p in Provider.objects.filter(name__in=list(names.values()))}
    missing = [key for key in names if key not in found]
    if missing:
        # Names that differ only in case: a second, case-insensitive look.
        for other in Provider.objects.all().only("pk", "name", "slug"):
            if other.name.casefold() in names:
                found.setdefault(other.name.casefold(), other)
    for key, name in names.items():
        provider = found.get(key)
        if provider_ids is not None and (provider is None or provider.pk not in provider_ids):
            raise ListingError([_not_your_provider(name)])
        if provider is None:
            provider = Provider.objects.create(name=name, slug=_unique_slug(Provider, name))
            found[key] = provider
    return found


def _check_contact_hour_steps(listing: Listing, provider: Provider) -> None:
    """Refuse contact hours the listing designates in a finer step than its provider's (``ListingError``)."""
    problems = []
    for line in listing.credits:
        if line.credit_type in vocabulary.CONTACT_HOUR_CREDIT_TYPES:
            step = provider.contact_hour_increment
            if rules.increment_error(line.amount, step):
                spec = vocabulary.CREDIT_TYPE_BY_CODE[line.credit_type]
                problems.append(
                    FieldError(
                        CREDIT_DETAILS,
                        _(
                            "%(name)s: %(amount)s is not a multiple of %(step)s, %(provider)s's contact hour step"
                        )
                        % {
                            "name": spec.listing_name,
                            "amount": line.amount,
                            "step": step,
                            "provider": provider,
                        },
                    )
                )
    if problems:
        raise ListingError(problems)


def _not_your_provider(name: str) -> FieldError:
    return FieldError(PROVIDER, _("%(name)s is not one of your providers") % {"name": name})


def _known_specialties() -> dict[str, Specialty]:
    return {s.name.casefold(): s for s in Specialty.objects.all()}


def _unknown_specialty_errors(listing: Listing, known: dict[str, Specialty]) -> list[FieldError]:
    return [
        FieldError(
            SPECIALTY,
            _("%(name)s is not one of the catalog's specialties (accreditation staff may add specialties)")
            % {"name": name},
        )
        for name in listing.specialties
        if name.casefold() not in known
    ]


def _specialties(listings: list[Listing], *, provider_ids: frozenset[int] | None) -> dict[str, Specialty]:
    """Every specialty the listings name, by case-folded name. Unknown ones are created, unless the import is
    scoped to some providers: then they are refused, as specialties are every visitor's catalog facets."""
    found = _known_specialties()
    if provider_ids is not None:
        errors = [error for listing in listings for error in _unknown_specialty_errors(listing, found)]
        if errors:
            raise ListingError(errors)
        return found
    names = {name.casefold(): name for listing in listings for name in listing.specialties}
    for key, name in names.items():
        if key not in found:
            found[key] = Specialty.objects.create(name=name, slug=_unique_slug(Specialty, name))
    return found


def _slug(title: str, link: str) -> str:
    """A readable, stable slug: the title's words and a hash of the activity link, which is unique."""
    words = slugify(title)[:60].rsplit("-", 1)[0] if len(slugify(title)) > 60 else slugify(title)
    digest = hashlib.sha256(link.encode()).hexdigest()[:10]
    return f"{words}-{digest}" if words else digest


def _unique_slug(model: type[Provider] | type[Specialty], name: str) -> str:
    base = slugify(name)[:70] or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@dataclass
class PublishReport:
    """What ``set_published`` did: how many activities changed, and those it refused with what each lacks."""

    changed: int
    refused: list[tuple[Activity, list[str]]] = field(default_factory=list)


def set_published(*, activities: models.QuerySet[Activity], published: bool, actor: Actor) -> PublishReport:
    """Publish or unpublish ``activities`` (a queryset). An activity is published only with the statements
    its provider's accreditations and its credit types need (``statements.publishing_problems``); one that
    lacks any stays a draft and is reported with what it lacks. A repeat changes nothing."""
    target = Activity.Status.PUBLISHED if published else Activity.Status.DRAFT
    refused: list[tuple[Activity, list[str]]] = []
    with transaction.atomic():
        changing = list(
            activities.exclude(status=target)
            .select_for_update()
            .select_related("provider")
            .prefetch_related("credits")
        )
        if published:
            allowed = []
            for activity in changing:
                problems = statements.publishing_problems(activity)
                if problems:
                    refused.append((activity, problems))
                else:
                    allowed.append(activity)
            changing = allowed
        now = timezone.now()
        for activity in changing:
            activity.status, activity.modified = target, now
        Activity.objects.bulk_update(changing, ["status", "modified"])
        action = audit.AuditAction.ACTIVITY_PUBLISHED if published else audit.AuditAction.ACTIVITY_UNPUBLISHED
        audit.record_many(actor=actor, entries=[(action, a, a.provider_id, {}) for a in changing])
    return PublishReport(len(changing), refused)
