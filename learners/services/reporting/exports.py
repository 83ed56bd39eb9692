"""Registry files: the ready rows of the ledger written out for the accreditor (PARS) or CPE Monitor.

Exporting writes a batch file and marks its rows exported, once: a row is in one batch at most, so exporting
again never counts it twice, and a batch's file can be downloaded again. Each row names the learner as the
certificate names them (``certified_names``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from activities import vocabulary
from activities.models import Activity, Provider
from learners.models import CertificateVersion, Destination, ExportBatch, ReportingEntry
from learners.services.reporting.ledger import STATE_BOARDS
from portal import audit
from portal.lib.csv import write_dicts
from portal.models import User

ACCREDITOR_COLUMNS = [
    "row_id", "activity_id", "activity_title", "completion_date", "learner_first_name", "learner_last_name",
    "birth_month", "birth_day", "board", "board_id", "credit_type", "amount", "license_state", "license_number",
    "action", "deletes_row_id",
]  # fmt: skip
CPE_MONITOR_COLUMNS = [
    "row_id", "eprofile_id", "birth_mmdd", "activity_number", "completion_date", "credits",
    "learner_first_name", "learner_last_name", "activity_title", "action", "deletes_row_id",
]  # fmt: skip


def _us_date(day: date) -> str:
    return day.strftime("%m/%d/%Y")


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


def export_rows(entries: list[ReportingEntry], destination: str) -> list[dict]:
    """The file rows of ``entries``: one per learner and credit (one per license for the state boards),
    each naming the learner as certified."""
    names = certified_names(claim_ids={entry.claim_id for entry in entries})
    rows = []
    for entry in entries:
        learner, activity = entry.learner, entry.activity
        profile = learner.profile
        first_name, last_name = names.get(entry.claim_id, (learner.first_name, learner.last_name))
        common = {
            "row_id": entry.pk,
            "completion_date": _us_date(entry.completed_on),
            "learner_first_name": first_name,
            "learner_last_name": last_name,
            "activity_title": activity.title,
            # A correction of a claim already reported: a delete of the row sent, then an add.
            "action": entry.action,
            "deletes_row_id": entry.reverses_id or "",
        }
        if destination == Destination.CPE_MONITOR:
            numbers = [
                d.activity_number for d in activity.credits.all() if d.credit_type_id == entry.credit_type
            ]
            rows.append(
                {
                    **common,
                    "eprofile_id": profile.nabp_eprofile_id,
                    "birth_mmdd": profile.birth_mmdd,
                    "activity_number": numbers[0] if numbers else "",
                    "credits": f"{entry.amount:.2f}",
                }
            )
            continue
        base = {
            **common,
            "activity_id": activity.accreditor_activity_id or str(activity.pk),
            "birth_month": f"{profile.birth_month:02d}" if profile.birth_month else "",
            "birth_day": f"{profile.birth_day:02d}" if profile.birth_day else "",
            "amount": f"{entry.amount:.2f}",
        }
        if entry.board == STATE_BOARDS:
            for license_ in profile.licenses.all():
                rows.append(
                    {
                        **base,
                        "board": STATE_BOARDS,
                        "board_id": "",
                        "credit_type": vocabulary.credit_type_label(entry.credit_type),
                        "license_state": license_.state,
                        "license_number": license_.number,
                    }
                )
        else:
            board_ids = {b.board: b.board_id for b in profile.board_ids.all()}
            rows.append(
                {
                    **base,
                    "board": vocabulary.board_abbreviation(entry.board),
                    "board_id": board_ids.get(entry.board, ""),
                    "credit_type": vocabulary.moc_credit_type_label(entry.credit_type),
                    "license_state": "",
                    "license_number": "",
                }
            )
    return rows


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
    files. Returns None when nothing is ready.
    """
    with transaction.atomic():
        chosen = list(
            entries.filter(destination=destination, state=ReportingEntry.State.READY)
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("learner__profile", "activity")
            .prefetch_related(
                "learner__profile__licenses", "learner__profile__board_ids", "activity__credits"
            )
            .order_by("completed_on", "pk")
        )
        if not chosen:
            return None
        columns = ACCREDITOR_COLUMNS if destination == Destination.ACCREDITOR else CPE_MONITOR_COLUMNS
        rows = export_rows(chosen, destination)
        now = timezone.now()
        batch = ExportBatch.objects.create(
            destination=destination,
            made_by=by if isinstance(by, User) and by.is_authenticated else None,
            provider=provider,
            description=description[:300],
            filename=_filename(provider, destination, now),
            content=write_dicts(rows, columns=columns),
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
    return batch


@dataclass(frozen=True)
class ExportResult:
    """What ``export_for_providers`` did: the files written, one per provider in the providers' slug order
    (none when nothing was ready), the description they carry, and how many of the chosen rows still wait
    for learners' consent or details."""

    batches: tuple[ExportBatch, ...]
    description: str
    waiting: int


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
    with transaction.atomic():
        providers = Provider.objects.filter(
            pk__in=chosen.filter(state=ReportingEntry.State.READY).values("activity__provider_id")
        ).order_by("slug")
        batches = tuple(
            batch
            for provider in providers
            if (
                batch := export_entries(
                    entries=chosen.filter(activity__provider=provider),
                    destination=destination,
                    by=by,
                    description=description,
                    provider=provider,
                )
            )
            is not None
        )
    waiting = chosen.filter(state=ReportingEntry.State.WAITING).count()
    return ExportResult(batches=batches, description=description, waiting=waiting)


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
    """``statpearls-accreditor-20261101-093000.csv``: whose, for where, and when (local time)."""
    stamp = f"{timezone.localtime(when):%Y%m%d-%H%M%S}"
    return f"{provider.slug}-{destination}-{stamp}.csv" if provider else f"{destination}-{stamp}.csv"
