"""Registry files: the ready rows of the ledger written out for the accreditor (PARS) or CPE Monitor, in
the shape each registry takes (``PARS_FIELDS``, ``CPE_MONITOR_COLUMNS``; the codes in ``codes``).

Exporting writes a batch file and marks its rows exported, once: a row is in one batch at most, so exporting
again never counts it twice, and a batch's file can be downloaded again. Each row names the learner as the
certificate names them (``certified_names``).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from activities import moc, vocabulary
from activities.models import Activity, CreditDesignation, Provider
from learners.models import CertificateVersion, Destination, ExportBatch, ReportingEntry
from learners.services.reporting import codes, ledger
from learners.services.reporting.ledger import STATE_BOARDS
from portal import audit
from portal.lib.csv import spreadsheet_safe, write_rows
from portal.models import User

# The accreditor file: ACCME PARS learner completions, tab-delimited text (.txt), one record per learner
# completion, no header row, a blank field for a value not given (ACCME's tab-delimited upload
# instructions: "saved and uploaded as a .txt file", "delete the header row", null values "separated by
# tab-delimiters"). The fields follow the elements of ACCME's draft learner-report schema in its order
# (``codes``): provider, activity, learner, completion, action, then one group of four fields per credit
# (an identifier's domain and value, the credit type codes, the amount), repeated as the record needs.
PARS_FIELDS = [
    "Provider ID (ACCME, 7 digits)",
    "Activity ID (ACCME, 9 digits)",
    "Activity title",
    "Learner first name",
    "Learner last name",
    "Birth month and day (MM/DD)",
    "Completion date (YYYY-MM-DD)",
    "Learner record action (add/delete)",
]
PARS_CREDIT_FIELDS = ["Identifier domain", "Learner identifier", "Credit type", "Credits"]

# CPE Monitor: the fields ACPE's web service takes for one pharmacist's or technician's activity, in its
# order (a public integration of ``SubmitCPEActivityJSON``: provider_number, epid, date_of_birth, uan,
# date_of_participation, action); no hours, which CPE Monitor takes from the UAN's registration.
CPE_MONITOR_COLUMNS = ["provider_number", "epid", "date_of_birth", "uan", "date_of_participation", "action"]


def certified_names(*, claim_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{claim_id: (first name, last name)}`` as the claims' certificates were last issued to.

    A registry's record must match the certificate the learner holds, so a name changed after issue is
    reported as certified until the certificate is reissued. Claims whose certificate is not issued yet, or
    was issued before certificates kept the two names, are left out: their learner's name is the one to use.
    """
    versions = (
        CertificateVersion.objects.filter(certificate__enrollment__claim__in=list(claim_ids))
        .order_by("certificate_id", "-number")
        .values_list("certificate__enrollment__claim", "snapshot")
    )
    names: dict[int, tuple[str, str]] = {}
    for claim_id, snapshot in versions:
        if claim_id not in names and "learner_last_name" in snapshot:
            names[claim_id] = (snapshot["learner_first_name"], snapshot["learner_last_name"])
    return names


def _field(value: object) -> str:
    """A tab-delimited field: no tab or line break inside, and spreadsheet-safe."""
    text = "" if value is None else str(value)
    return spreadsheet_safe(" ".join(text.replace("\t", " ").splitlines()).strip())


def refusal(entry: ReportingEntry) -> str | None:
    """Why ``entry`` cannot go into its registry's file as the activity stands (None when it can): the
    accreditor needs the provider's ACCME ID and the activity's 9-digit PARS ID; CPE Monitor a UAN for the
    learner's audience (``codes.uan_problem``). Reads ``activity.provider`` and ``activity.credits``."""
    activity = entry.activity
    if entry.destination == Destination.ACCREDITOR:
        if not PARS_ACTIVITY_ID.match(activity.accreditor_activity_id or ""):
            return _("The activity has no PARS activity ID (9 digits).")
        if not activity.provider.accme_provider_id:
            return _("The provider has no ACCME provider ID.")
        return None
    return codes.uan_problem(_designation(activity, entry.credit_type), entry.claim.profession)


PARS_ACTIVITY_ID = re.compile(r"^[0-9]{9}$")


def _designation(activity: Activity, credit_type: str) -> CreditDesignation | None:
    return next((d for d in activity.credits.all() if d.credit_type_id == credit_type), None)


def _cme_amount(entries: list[ReportingEntry]) -> Decimal | None:
    """The AMA credit of the record: its state-board row's, else the claim's AMA credit."""
    for entry in entries:
        if entry.board == STATE_BOARDS:
            return entry.amount
    claimed = [c.amount for c in entries[0].claim.credits.all() if c.credit_type_id == vocabulary.AMA_PRA_1]
    return claimed[0] if claimed else None


def _moc_groups(entries: list[ReportingEntry], board_ids: dict[str, str]) -> list[list[str]]:
    """One credit group per MOC record: a board that takes one amount for several credit types (ABS) gets
    one group carrying them all; the others one per credit type (ABA's two that sum to the CME)."""
    groups = []
    for board in sorted({e.board for e in entries if e.board != STATE_BOARDS}):
        rows = sorted((e for e in entries if e.board == board), key=lambda e: (e.credit_type, e.pk))
        if moc.rule_for(board).one_amount:
            by_amount: dict[Decimal, list[str]] = {}
            for entry in rows:
                by_amount.setdefault(entry.amount, []).append(codes.moc_code(board, entry.credit_type))
            batches = [(amount, kinds) for amount, kinds in by_amount.items()]
        else:
            batches = [(e.amount, [codes.moc_code(board, e.credit_type)]) for e in rows]
        for amount, kinds in batches:
            groups.append(
                [codes.board_domain(board), board_ids.get(board, ""), ", ".join(kinds), f"{amount:.2f}"]
            )
    return groups


def accreditor_records(entries: list[ReportingEntry]) -> list[list[str]]:
    """The PARS records of ``entries``: one per learner completion (a claim's rows with one action and
    completion date), carrying the CME credit and every PARS board's points, each naming the learner as
    certified."""
    names = certified_names(claim_ids={entry.claim_id for entry in entries})
    completions: dict[tuple[int, str, date], list[ReportingEntry]] = {}
    for entry in entries:
        completions.setdefault((entry.claim_id, entry.action, entry.completed_on), []).append(entry)
    order = sorted(
        completions.items(),
        key=lambda item: (item[0][2], item[0][0], item[0][1] != ReportingEntry.Action.DELETE),
    )
    records = []
    for (claim_id, action, completed_on), rows in order:
        first = rows[0]
        learner, activity = first.learner, first.activity
        profile = learner.profile
        first_name, last_name = names.get(claim_id, (learner.first_name, learner.last_name))
        birth = f"{profile.birth_month:02d}/{profile.birth_day:02d}" if profile.birth_month else ""
        record = [
            activity.provider.accme_provider_id,
            activity.accreditor_activity_id,
            activity.title,
            first_name,
            last_name,
            birth,
            completed_on.isoformat(),
            action,
        ]
        cme = _cme_amount(rows)
        licenses = list(profile.licenses.all())
        if profile.npi:
            identifier = [codes.NPI_DOMAIN, profile.npi]
        elif licenses and any(e.board == STATE_BOARDS for e in rows):
            identifier = [licenses[0].state, licenses[0].number]
        else:
            identifier = []
        if cme is not None and identifier:
            record += [*identifier, codes.credit_code(vocabulary.AMA_PRA_1), f"{cme:.2f}"]
        board_ids = {b.board: b.board_id for b in profile.board_ids.all()}
        for group in _moc_groups(rows, board_ids):
            record += group
        records.append([_field(value) for value in record])
    return records


def cpe_monitor_records(entries: list[ReportingEntry]) -> list[list[str]]:
    """The CPE Monitor records of ``entries``: one per row, keyed by the learner's e-Profile ID, birth
    MMDD, the UAN of their audience and the date of participation."""
    records = []
    for entry in sorted(
        entries, key=lambda e: (e.completed_on, e.action != ReportingEntry.Action.DELETE, e.pk)
    ):
        activity, profile = entry.activity, entry.learner.profile
        designation = _designation(activity, entry.credit_type)
        uan = codes.uan_for(designation, entry.claim.profession) if designation else ""
        number = activity.provider.acpe_provider_number or (uan.split("-", 1)[0] if uan else "")
        records.append(
            [
                number,
                profile.nabp_eprofile_id,
                profile.birth_mmdd,
                uan,
                entry.completed_on.isoformat(),
                codes.CPE_ACTIONS[entry.action].code,
            ]
        )
    return records


def export_content(entries: list[ReportingEntry], destination: str) -> str:
    """The file ``entries`` make for ``destination``."""
    if destination == Destination.ACCREDITOR:
        return "".join("\t".join(record) + "\r\n" for record in accreditor_records(entries))
    return write_rows(cpe_monitor_records(entries), header=CPE_MONITOR_COLUMNS)


def export_entries(
    *,
    entries: QuerySet[ReportingEntry],
    destination: str,
    by: audit.Actor,
    description: str,
    provider: Provider | None = None,
) -> ExportBatch | None:
    """Write the ready rows of ``entries`` for ``destination`` into a new batch and mark them exported.

    Rows are locked and taken only if still ready, so two staff exporting at once never put a row in two
    files. A row its activity cannot report yet (``refusal``: no PARS activity ID, no UAN for the learner)
    stays ready, with the reason, for a later export. Returns None when nothing could be exported.
    """
    return _export(
        entries=entries, destination=destination, by=by, description=description, provider=provider
    )[0]


def _export(
    *,
    entries: QuerySet[ReportingEntry],
    destination: str,
    by: audit.Actor,
    description: str,
    provider: Provider | None = None,
) -> tuple[ExportBatch | None, list[tuple[ReportingEntry, str]]]:
    """``export_entries``, also returning the rows refused, each with why."""
    with transaction.atomic():
        chosen = list(
            entries.filter(destination=destination, state=ReportingEntry.State.READY)
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("learner__profile", "activity__provider", "claim")
            .prefetch_related(
                "learner__profile__licenses",
                "learner__profile__board_ids",
                "activity__credits",
                "claim__credits",
            )
            .order_by("completed_on", "pk")
        )
        now = timezone.now()
        refused = [(entry, why) for entry in chosen if (why := refusal(entry))]
        for entry, why in refused:
            entry.reason, entry.modified = _("Not exported: %(why)s") % {"why": why}, now
        ReportingEntry.objects.bulk_update([entry for entry, _why in refused], ["reason", "modified"])
        held = {entry.pk for entry, _why in refused}
        chosen = [entry for entry in chosen if entry.pk not in held]
        if not chosen:
            return None, refused
        batch = ExportBatch.objects.create(
            destination=destination,
            made_by=by if isinstance(by, User) and by.is_authenticated else None,
            provider=provider,
            description=description[:300],
            filename=_filename(provider, destination, now),
            content=export_content(chosen, destination),
            row_count=len(chosen),
        )
        ReportingEntry.objects.filter(pk__in=[e.pk for e in chosen]).update(
            state=ReportingEntry.State.EXPORTED, batch=batch, exported_at=now, reason="", modified=now
        )
        audit.record(
            actor=by,
            action=audit.AuditAction.REPORTING_EXPORTED,
            obj=batch,
            provider_id=provider.pk if provider else None,
            data={"rows": len(chosen), "destination": destination},
        )
    return batch, refused


@dataclass(frozen=True)
class ExportResult:
    """What ``export_for_providers`` did: the files written, one per provider in the providers' slug order
    (none when nothing was ready), the description they carry, and how many of the chosen rows still wait
    for learners' consent or details."""

    batches: tuple[ExportBatch, ...]
    description: str
    waiting: int
    # Activities whose ready rows could not go out, and why: ``(activity title, reason, rows)``.
    refused: tuple[tuple[str, str, int], ...] = ()


def export_for_providers(
    *,
    entries: QuerySet[ReportingEntry],
    destination: str,
    by: audit.Actor,
    activity: Activity | None = None,
    start: date | None = None,
    end: date | None = None,
) -> ExportResult:
    """Export the ready rows of ``entries`` (the rows the caller may export) for ``destination``, of
    ``activity`` if given, completed from ``start`` to ``end`` (inclusive; either may be open).

    One file per provider: each provider reports under its own registry account, and a batch that belongs
    to one provider can be downloaded again by that provider's staff. Every provider's file or none: the
    batches are written in one transaction, so if one fails no batch is kept and every row stays ready. A
    repeat exports only rows that became ready since (``export_entries`` takes a row once). Nothing is
    dispatched.
    """
    chosen = entries.filter(destination=destination)
    if activity is not None:
        chosen = chosen.filter(activity=activity)
    if start:
        chosen = chosen.filter(completed_on__gte=start)
    if end:
        chosen = chosen.filter(completed_on__lte=end)
    description = describe_export(destination=destination, activity=activity, start=start, end=end)
    if destination == Destination.CPE_MONITOR:
        ledger.expire_past_deadline()  # a row past its 60 days is never sent, even before the daily sweep
    batches: list[ExportBatch] = []
    refused: dict[tuple[str, str], int] = {}
    with transaction.atomic():
        providers = Provider.objects.filter(
            pk__in=chosen.filter(state=ReportingEntry.State.READY).values("activity__provider_id")
        ).order_by("slug")
        for provider in providers:
            batch, held = _export(
                entries=chosen.filter(activity__provider=provider),
                destination=destination,
                by=by,
                description=description,
                provider=provider,
            )
            if batch is not None:
                batches.append(batch)
            for entry, why in held:
                key = (entry.activity.title, why)
                refused[key] = refused.get(key, 0) + 1
    waiting = chosen.filter(state=ReportingEntry.State.WAITING).count()
    return ExportResult(
        batches=tuple(batches),
        description=description,
        waiting=waiting,
        refused=tuple((title, why, n) for (title, why), n in sorted(refused.items())),
    )


def describe_export(
    *, destination: str, activity: Activity | None = None, start: date | None = None, end: date | None = None
) -> str:
    """What an export took, as its batch and messages describe it: the destination, the activity if one,
    and the completion dates (``Accreditor (ACCME PARS), <activity>, completed <start> to <end>``)."""
    parts = [str(Destination(destination).label)]
    if activity is not None:
        parts.append(activity.title)
    if start and end:
        parts.append(
            _("completed %(start)s to %(end)s")
            % {"start": formats.date_format(start), "end": formats.date_format(end)}
        )
    elif start:
        parts.append(_("completed from %(start)s") % {"start": formats.date_format(start)})
    elif end:
        parts.append(_("completed until %(end)s") % {"end": formats.date_format(end)})
    return ", ".join(parts)


def _filename(provider: Provider | None, destination: str, when: datetime) -> str:
    """``statpearls-accreditor-20261101-093000.txt``: whose, for where, and when (local time); the PARS
    file is tab-delimited text (.txt), the CPE Monitor file CSV. CPE Monitor's own file naming convention
    (its technical specifications) was not readable in the published copies: this is our own name."""
    stamp = f"{timezone.localtime(when):%Y%m%d-%H%M%S}"
    extension = "txt" if destination == Destination.ACCREDITOR else "csv"
    name = f"{destination}-{stamp}.{extension}"
    return f"{provider.slug}-{name}" if provider else name
