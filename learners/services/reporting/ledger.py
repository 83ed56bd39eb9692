"""The reporting ledger: what each claim owes the registries, and how far it has got.

Rows appear when a claim is made (``record_claim``) and follow the learner's profile (``refresh_learner``):
a row waits, with the reason, until the learner has consented and given what its registry needs, then is
ready. Exporting (``exports.export_entries``) puts ready rows in a file, once. Staff settle exported rows as
accepted or rejected, by hand (``settle_entries``) or from the registry's returned file
(``apply_returned_file``), and send corrected rejections back (``requeue_entries``). Revoking a certificate
withdraws its rows not yet sent (``withdraw_for_revocation``).
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import acpe, moc, vocabulary
from learners.models import Certificate, CreditClaim, Destination, Enrollment, LearnerProfile, ReportingEntry
from portal import audit
from portal.models import User

# ACCME: MOC learner data within 30 days of completion (accme.org/faq/7921). ACPE/NABP: CPE Monitor takes
# credit only within 60 days of the date of participation, corrections included, and nothing later
# (clinicaloptions.com/content/newcerequirements; nabp.pharmacy help "I do not see any activities ... in my
# CPE Monitor account"; pharmacy.utah.edu/ce/policy.php: "within 60 days" of the live event).
DAYS_TO_REPORT: dict[str, int] = {Destination.ACCREDITOR: 30, Destination.CPE_MONITOR: 60}
STATE_BOARDS = "STATE"  # the accreditor passes AMA credit on to the state licensing boards
PHARMACY_PROFESSIONS = (vocabulary.Profession.PHARMACIST, vocabulary.Profession.PHARMACY_TECHNICIAN)
OPEN = (ReportingEntry.State.WAITING, ReportingEntry.State.READY)
REASON_LENGTH = ReportingEntry._meta.get_field("reason").max_length  # a registry's reasons are cut to it


class ReportingError(Exception):
    """Why a ledger action cannot be done, in words fit to show."""


@dataclass(frozen=True)
class _Line:
    destination: str
    board: str
    credit_type: str
    amount: Decimal


def _lines(claim: CreditClaim, profile: LearnerProfile | None) -> list[_Line]:
    """What ``claim`` owes the registries: to the accreditor, MOC points of the boards that take MOC through
    PARS (``moc.PARS_BOARDS``; other boards' points are reported by the learner or the board) and, when the
    provider takes part in the State Medical Board collaboration, a licensed physician's AMA credit; to CPE
    Monitor, a pharmacist's or pharmacy technician's pharmacy credit."""
    lines = []
    if claim.profession == vocabulary.Profession.PHYSICIAN:
        for claimed in claim.moc.all():
            if claimed.board in moc.PARS_BOARDS:
                lines.append(
                    _Line(Destination.ACCREDITOR, claimed.board, claimed.credit_type, claimed.points)
                )
        provider = claim.enrollment.activity.provider
        if provider.state_board_reporting and profile is not None and profile.licenses.all():
            for credit in claim.credits.all():
                if credit.credit_type_id == vocabulary.AMA_PRA_1:
                    lines.append(
                        _Line(Destination.ACCREDITOR, STATE_BOARDS, credit.credit_type_id, credit.amount)
                    )
    if claim.profession in PHARMACY_PROFESSIONS:
        for credit in claim.credits.all():
            if credit.credit_type_id == acpe.CREDIT_TYPE:
                lines.append(_Line(Destination.CPE_MONITOR, "", credit.credit_type_id, credit.amount))
    return lines


def _profiles(user_ids: Iterable[int]) -> dict[int, LearnerProfile]:
    """The learners' profiles by user id, with the licenses and board IDs the ledger reads."""
    profiles = LearnerProfile.objects.filter(user_id__in=user_ids).prefetch_related("licenses", "board_ids")
    return {profile.user_id: profile for profile in profiles}


def missing_for(entry: ReportingEntry, profile: LearnerProfile | None) -> str:
    """What the learner still has to give before ``entry`` can be reported ("" when nothing). Reads
    ``profile``'s licenses and board IDs through ``.all()``: prefetch them for many rows."""
    if profile is None:
        return _("The learner has no profile.")
    missing = []
    # Giving CPE Monitor's e-Profile ID and birth date is the pharmacist's own act of reporting: ACPE
    # providers must report pharmacy credit (acpe-accredit.org/cpe-monitor), so it waits for nothing more.
    if entry.destination != Destination.CPE_MONITOR and not profile.has_reporting_consent:
        missing.append(_("consent to reporting"))
    if not (profile.birth_month and profile.birth_day):
        missing.append(_("birth month and day"))
    if entry.destination == Destination.CPE_MONITOR and not profile.nabp_eprofile_id:
        missing.append(_("NABP e-Profile ID"))
    if entry.destination == Destination.ACCREDITOR:
        if entry.board == STATE_BOARDS:
            if not profile.licenses.all():
                missing.append(_("a state license"))
        elif not any(b.board == entry.board for b in profile.board_ids.all()):
            missing.append(_("%(board)s ID") % {"board": vocabulary.board_abbreviation(entry.board)})
    if not missing:
        return ""
    return _("Waiting for: %(missing)s.") % {"missing": ", ".join(missing)}


def record_claim(*, claim: CreditClaim) -> list[ReportingEntry]:
    """The ledger rows of a new claim (inside the claim's transaction). Each carries the completion date:
    the date attended or the last requirement met (``Enrollment.completed_at``), not the claim's date."""
    profile = _profiles([claim.enrollment.learner_id]).get(claim.enrollment.learner_id)
    return _add_lines(claim, _lines(claim, profile), profile)


def expired_reason(entry: ReportingEntry, *, today: date | None = None) -> str:
    """Why ``entry`` can no longer be reported ("" while it still can): a CPE Monitor row past ACPE's 60
    days from the date of participation."""
    today = today or timezone.localdate()
    if entry.destination != Destination.CPE_MONITOR or entry.due_on >= today:
        return ""
    return _(
        "Past CPE Monitor's 60 days: ACPE accepts pharmacy credit only within 60 days of participation "
        "(%(completed)s). Ask the provider for your statement of participation."
    ) % {"completed": entry.completed_on.isoformat()}


def _set_state(entry: ReportingEntry, profile: LearnerProfile | None) -> bool:
    """Set a waiting or ready row's state from the profile (expired once past its registry's last day);
    True if it changed."""
    expired = expired_reason(entry)
    reason = expired or missing_for(entry, profile)
    if expired:
        state = ReportingEntry.State.EXPIRED
    else:
        state = ReportingEntry.State.WAITING if reason else ReportingEntry.State.READY
    changed = (entry.state, entry.reason) != (state, reason)
    entry.state, entry.reason = state, reason
    return changed


@transaction.atomic  # it locks the learner's open rows: its own transaction when the caller has none
def refresh_learner(*, learner: User) -> int:
    """After the learner's profile changed: rows their claims now owe are added (a license given later),
    and waiting or ready rows move between the two. Rows already exported or settled stay as they are.
    Returns how many rows were added or changed."""
    profile = _profiles([learner.pk]).get(learner.pk)
    claims = (
        CreditClaim.objects.filter(enrollment__learner=learner)
        .exclude(enrollment__certificate__revoked_at__isnull=False)  # revoked credit is not reported
        .select_related("enrollment__activity__provider")
    )
    have = {
        (e.claim_id, e.destination, e.board, e.credit_type)
        for e in ReportingEntry.objects.filter(
            learner=learner, action=ReportingEntry.Action.ADD, superseded_at__isnull=True
        )
    }
    added = 0
    for claim in claims.prefetch_related("moc", "credits"):
        new = [
            line
            for line in _lines(claim, profile)
            if (claim.pk, line.destination, line.board, line.credit_type) not in have
        ]
        if new:
            added += len(_add_lines(claim, new, profile))
    changed = []
    now = timezone.now()  # bulk_update skips auto_now: set ``modified`` by hand
    for entry in ReportingEntry.objects.filter(learner=learner, state__in=OPEN).select_for_update():
        if _set_state(entry, profile):
            entry.modified = now
            changed.append(entry)
    ReportingEntry.objects.bulk_update(changed, ["state", "reason", "modified"])
    return added + len(changed)


def _add_lines(
    claim: CreditClaim, lines: list[_Line], profile: LearnerProfile | None
) -> list[ReportingEntry]:
    completed_on = timezone.localdate(claim.enrollment.completed_at)
    entries = []
    for line in lines:
        entry = ReportingEntry(
            claim=claim,
            learner_id=claim.enrollment.learner_id,
            activity_id=claim.enrollment.activity_id,
            destination=line.destination,
            board=line.board,
            credit_type=line.credit_type,
            amount=line.amount,
            completed_on=completed_on,
            due_on=completed_on + timedelta(days=DAYS_TO_REPORT[line.destination]),
        )
        _set_state(entry, profile)
        entries.append(entry)
    return ReportingEntry.objects.bulk_create(entries)


@dataclass(frozen=True)
class LedgerCorrection:
    """What ``correct_claim`` did: rows changed in place (not yet exported), rows taken back from a registry
    with a delete row, rows added."""

    replaced: int = 0
    deleted: int = 0
    added: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"replaced": self.replaced, "deleted": self.deleted, "added": self.added}


def correct_claim(*, claim: CreditClaim) -> LedgerCorrection:
    """Bring the ledger in line with ``claim`` after it changed (inside the change's transaction).

    A row not yet exported (waiting, ready, rejected) takes the new amount and completion date in place, or
    is withdrawn when its line is gone. A row already exported or accepted stays as sent, marked superseded,
    and gets a delete row for the registry; the corrected line is then added as a new row. Lines the claim
    now owes that had no row are added. A revoked certificate's claim is not reported and is left alone."""
    enrollment = claim.enrollment
    if Certificate.objects.filter(enrollment=enrollment, revoked_at__isnull=False).exists():
        return LedgerCorrection()
    profile = _profiles([enrollment.learner_id]).get(enrollment.learner_id)
    wanted = {(line.destination, line.board, line.credit_type): line for line in _lines(claim, profile)}
    completed_on = timezone.localdate(enrollment.completed_at)
    now = timezone.now()
    replaced = deleted = 0
    current = ReportingEntry.objects.select_for_update().filter(
        claim=claim, action=ReportingEntry.Action.ADD, superseded_at__isnull=True
    )
    for entry in current:
        line = wanted.pop((entry.destination, entry.board, entry.credit_type), None)
        if entry.state == ReportingEntry.State.WITHDRAWN:
            continue
        if line is not None and (line.amount, completed_on) == (entry.amount, entry.completed_on):
            continue
        if entry.state in (*OPEN, ReportingEntry.State.REJECTED):
            if line is None:
                entry.state, entry.reason = ReportingEntry.State.WITHDRAWN, _("Removed by a correction.")
                entry.superseded_at = now
            else:
                entry.amount, entry.completed_on = line.amount, completed_on
                entry.due_on = completed_on + timedelta(days=DAYS_TO_REPORT[entry.destination])
                entry.batch, entry.exported_at, entry.settled_at = None, None, None
                entry.state = ReportingEntry.State.WAITING
                _set_state(entry, profile)
            entry.save()
            replaced += 1
            continue
        entry.superseded_at = now
        entry.save(update_fields=["superseded_at", "modified"])
        reverse = ReportingEntry(
            claim=claim,
            learner_id=entry.learner_id,
            activity_id=entry.activity_id,
            destination=entry.destination,
            board=entry.board,
            credit_type=entry.credit_type,
            amount=entry.amount,
            completed_on=entry.completed_on,
            due_on=timezone.localdate(now) + timedelta(days=DAYS_TO_REPORT[entry.destination]),
            action=ReportingEntry.Action.DELETE,
            reverses=entry,
        )
        _set_state(reverse, profile)
        reverse.save()
        deleted += 1
        if line is not None:
            wanted[(line.destination, line.board, line.credit_type)] = line
    added = _add_lines(claim, list(wanted.values()), profile)
    return LedgerCorrection(replaced=replaced, deleted=deleted, added=len(added))


def withdraw_for_revocation(*, enrollment: Enrollment, reason: str, by: audit.Actor) -> int:
    """The certificate of ``enrollment`` was revoked: its rows not yet sent (waiting, ready, or rejected by
    the registry) are withdrawn, with the reason, and never exported. Rows already exported or accepted are
    on the registry's record and stay as they are: staff correct them there.

    Returns how many rows were withdrawn.
    """
    with transaction.atomic():
        rows = list(
            ReportingEntry.objects.filter(
                claim__enrollment=enrollment, state__in=[*OPEN, ReportingEntry.State.REJECTED]
            )
            .select_related("learner")  # the audit entry names the learner
            .select_for_update(of=("self",))
        )
        now = timezone.now()  # bulk_update skips auto_now: set ``modified`` by hand
        text = _("Not reported: the certificate was revoked (%(reason)s).") % {"reason": reason.strip()}
        text = text[:REASON_LENGTH]
        for entry in rows:
            entry.state, entry.reason, entry.modified = ReportingEntry.State.WITHDRAWN, text, now
        ReportingEntry.objects.bulk_update(rows, ["state", "reason", "modified"])
        audit.record_many(
            actor=by,
            entries=[
                (audit.AuditAction.REPORTING_WITHDRAWN, e, enrollment.activity.provider_id, {}) for e in rows
            ],
        )
    return len(rows)


SETTLEABLE = (ReportingEntry.State.EXPORTED, ReportingEntry.State.REJECTED)  # a registry may answer for


def settle_refusal(entry: ReportingEntry) -> str | None:
    """Why ``entry`` cannot be settled as it stands, or None if it can: only rows sent in a file (exported,
    or rejected and answered again) are marked accepted or rejected."""
    if entry.state in SETTLEABLE:
        return None
    return _("not exported (%(state)s)") % {"state": entry.get_state_display()}


def requeue_refusal(entry: ReportingEntry) -> str | None:
    """Why ``entry`` cannot go back to the queue as it stands, or None if it can: only rejected rows do."""
    if entry.state == ReportingEntry.State.REJECTED:
        return None
    return _("not rejected (%(state)s)") % {"state": entry.get_state_display()}


@dataclass(frozen=True)
class LedgerChange:
    """What settling or requeueing did: the rows changed, and each row left as it was, with why."""

    changed: tuple[ReportingEntry, ...] = ()
    skipped: tuple[tuple[ReportingEntry, str], ...] = ()


def _judge(
    rows: list[ReportingEntry], refusal: Callable[[ReportingEntry], str | None]
) -> tuple[list[ReportingEntry], list[tuple[ReportingEntry, str]]]:
    """``rows`` split into those ``refusal`` lets through and the others, with why."""
    will, wont = [], []
    for entry in rows:
        why = refusal(entry)
        if why:
            wont.append((entry, why))
        else:
            will.append(entry)
    return will, wont


def settle_entries(
    *, entries: Iterable[ReportingEntry], accepted: bool, reason: str = "", by: audit.Actor
) -> LedgerChange:
    """Mark the exported (or earlier rejected) rows of ``entries`` accepted, or rejected with the
    registry's reason (ReportingError without one).

    The rows are locked and judged as they stand (``settle_refusal``): the others are left as they are and
    returned as skipped, with why. Settling again is harmless: an accepted row is skipped, a rejected one
    takes the new answer.
    """
    return _settle([e.pk for e in entries], accepted=accepted, reason=reason, by=by)


def _settle(ids: list[int], *, accepted: bool, reason: str, by: audit.Actor) -> LedgerChange:
    """Settle the rows among ``ids`` that ``settle_refusal`` allows."""
    reason = reason.strip()[:REASON_LENGTH]
    if not accepted and not reason:
        raise ReportingError(_("Say why the registry rejected it."))
    state = ReportingEntry.State.ACCEPTED if accepted else ReportingEntry.State.REJECTED
    with transaction.atomic():
        rows, skipped = _judge(
            list(
                ReportingEntry.objects.filter(pk__in=ids)
                .select_related("activity", "learner")  # the audit entry names both
                .select_for_update(of=("self",))
                .order_by("pk")
            ),
            settle_refusal,
        )
        now = timezone.now()
        for entry in rows:
            entry.state, entry.reason, entry.settled_at, entry.modified = (
                state,
                reason if not accepted else "",
                now,
                now,
            )
        ReportingEntry.objects.bulk_update(rows, ["state", "reason", "settled_at", "modified"])
        action = audit.AuditAction.REPORTING_ACCEPTED if accepted else audit.AuditAction.REPORTING_REJECTED
        audit.record_many(
            actor=by, entries=[(action, e, e.activity.provider_id, {"reason": reason}) for e in rows]
        )
    return LedgerChange(changed=tuple(rows), skipped=tuple(skipped))


def requeue_entries(*, entries: Iterable[ReportingEntry], by: audit.Actor) -> LedgerChange:
    """The rejected rows of ``entries``, once corrected, go back to ready (or waiting) for the next export.

    The rows are locked and judged as they stand (``requeue_refusal``): the others are left as they are and
    returned as skipped, with why; so a repeat skips what the first call requeued.
    """
    with transaction.atomic():
        rows, skipped = _judge(
            list(
                ReportingEntry.objects.filter(pk__in=[e.pk for e in entries])
                .select_for_update(of=("self",))  # not the activity's row
                .select_related("activity", "learner")  # the audit entry names both
                .order_by("pk")
            ),
            requeue_refusal,
        )
        profiles = _profiles({e.learner_id for e in rows})
        now = timezone.now()  # bulk_update skips auto_now: set ``modified`` by hand
        for entry in rows:
            entry.batch, entry.exported_at, entry.settled_at, entry.modified = None, None, None, now
            entry.state = ReportingEntry.State.WAITING
            _set_state(entry, profiles.get(entry.learner_id))
        ReportingEntry.objects.bulk_update(
            rows, ["state", "reason", "batch", "exported_at", "settled_at", "modified"]
        )
        audit.record_many(
            actor=by,
            entries=[(audit.AuditAction.REPORTING_REQUEUED, e, e.activity.provider_id, {}) for e in rows],
        )
    return LedgerChange(changed=tuple(rows), skipped=tuple(skipped))


@dataclass(frozen=True)
class ReturnedFileResult:
    """What a returned file did: rows accepted and rejected, and each line not applied, with why."""

    accepted: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def apply_returned_file(
    *, content: str, entries: QuerySet[ReportingEntry], by: audit.Actor
) -> ReturnedFileResult:
    """Settle rows from a registry's returned file: CSV with ``row_id``, ``status`` (accepted or rejected)
    and ``reason``. Only rows in ``entries`` (the staff's scope) are touched; every other line is reported.
    """
    errors: list[str] = []
    wanted = _returned_lines(content, errors)
    known = set(
        entries.filter(pk__in=[i for pairs in wanted.values() for i, _ in pairs]).values_list("pk", flat=True)
    )
    groups: dict[tuple[str, str], list[int]] = {}  # (status, reason) -> row ids: one settling per group
    for status, pairs in wanted.items():
        for row_id, reason in pairs:
            if row_id not in known:
                errors.append(_("row %(id)d is not one of your exported rows") % {"id": row_id})
            else:
                groups.setdefault((status, reason if status == "rejected" else ""), []).append(row_id)
    settled = {"accepted": 0, "rejected": 0}
    with transaction.atomic():
        for (status, reason), ids in groups.items():
            changed = {
                e.pk for e in _settle(ids, accepted=status == "accepted", reason=reason, by=by).changed
            }
            for row_id in ids:
                if row_id not in changed:  # in scope, but not exported (or already accepted): left alone
                    errors.append(
                        _("row %(id)d is not exported or already accepted: not changed") % {"id": row_id}
                    )
            settled[status] += len(changed)
    return ReturnedFileResult(accepted=settled["accepted"], rejected=settled["rejected"], errors=errors)


def _returned_lines(content: str, errors: list[str]) -> dict[str, list[tuple[int, str]]]:
    """A returned file's ``(row id, reason)`` pairs by status (``accepted``, ``rejected``); a line that says
    neither, or names no row, goes into ``errors``. Raises ``ReportingError`` for a file that is not such a
    CSV at all."""
    if "\x00" in content:
        raise ReportingError(_("The file contains a NUL character: it is not a CSV text file."))
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    try:
        lines = list(reader)
    except csv.Error as exc:  # a field over the csv module's limit (128 KiB), a broken quote
        raise ReportingError(
            _("Line %(n)d is not valid CSV: %(error)s") % {"n": reader.line_num, "error": exc}
        ) from None
    if not reader.fieldnames or not {"row_id", "status"} <= {f.strip() for f in reader.fieldnames}:
        raise ReportingError(_("The file needs the columns row_id and status (and reason for rejections)."))
    wanted: dict[str, list[tuple[int, str]]] = {"accepted": [], "rejected": []}
    for number, line in enumerate(lines, start=2):
        row_id, status = (line.get("row_id") or "").strip(), (line.get("status") or "").strip().lower()
        if not (row_id.isascii() and row_id.isdigit() and len(row_id) <= 18):
            errors.append(_("line %(n)d: row_id %(id)r is not a number") % {"n": number, "id": row_id})
        elif status not in wanted:
            errors.append(_("line %(n)d: status must be accepted or rejected") % {"n": number})
        elif status == "rejected" and not (line.get("reason") or "").strip():
            errors.append(_("line %(n)d: a rejection needs a reason") % {"n": number})
        else:
            wanted[status].append((int(row_id), (line.get("reason") or "").strip()))
    return wanted


# --- deadlines ---------------------------------------------------------------------------------------------

DUE_SOON_DAYS = 7  # what the digest and the ledger's filter call "due soon"


def unreported(entries: QuerySet, *, today: date | None = None) -> tuple[QuerySet, QuerySet]:
    """``(overdue, due_soon)``: rows not yet exported whose deadline has passed / falls within a week."""
    today = today or timezone.localdate()
    open_rows = entries.filter(state__in=OPEN)
    return (
        open_rows.filter(due_on__lt=today),
        open_rows.filter(due_on__gte=today, due_on__lte=today + timedelta(days=DUE_SOON_DAYS)),
    )


def expire_past_deadline(*, today: date | None = None) -> int:
    """Mark the CPE Monitor rows not yet sent whose 60 days have passed expired, with the reason the
    learner and staff see; they are never exported. Safe to run twice (expired rows are no longer open).
    Returns how many rows expired."""
    today = today or timezone.localdate()
    with transaction.atomic():
        rows = list(
            ReportingEntry.objects.filter(
                destination=Destination.CPE_MONITOR,
                state__in=OPEN,
                due_on__lt=today,
            ).select_for_update(skip_locked=True)
        )
        now = timezone.now()
        for entry in rows:
            entry.state, entry.reason, entry.modified = (
                ReportingEntry.State.EXPIRED,
                expired_reason(entry, today=today)[:REASON_LENGTH],
                now,
            )
        ReportingEntry.objects.bulk_update(rows, ["state", "reason", "modified"])
    return len(rows)
