"""The reporting ledger: what each claim owes the registries, and how far it has got.

Rows appear when a claim is made (``record_claim``) and follow the learner's profile (``refresh_learner``):
a row waits, with the reason, until the learner has consented and given what its registry needs, then is
ready. Exporting (``export_entries``) writes a batch file and marks its rows exported, once: a row is in
one batch at most, so exporting again never counts it twice, and a batch's file can be downloaded again.
Staff settle exported rows as accepted or rejected, by hand or from the registry's returned file.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import vocabulary
from learners.models import (
    CertificateVersion,
    CreditClaim,
    Destination,
    ExportBatch,
    LearnerProfile,
    ReportingEntry,
)
from portal import audit
from portal.lib.csv import write_dicts

DAYS_TO_REPORT = {Destination.ACCREDITOR: 30, Destination.CPE_MONITOR: 60}
STATE_BOARDS = "STATE"  # the accreditor passes AMA credit on to the state licensing boards
OPEN = (ReportingEntry.State.WAITING, ReportingEntry.State.READY)
REASON_LENGTH = ReportingEntry._meta.get_field("reason").max_length  # a registry's reasons are cut to it


class ReportingError(Exception):
    """Why a ledger action cannot be done, in words fit to show."""


@dataclass(frozen=True)
class _Line:
    destination: str
    board: str
    credit_type: str
    amount: object


def _lines(claim: CreditClaim, profile: LearnerProfile | None) -> list[_Line]:
    """What ``claim`` owes the registries: MOC points and (for licensed physicians) AMA credit to the
    accreditor; pharmacy credit to CPE Monitor."""
    lines = []
    if claim.profession == vocabulary.Profession.PHYSICIAN:
        for moc in claim.moc.all():
            lines.append(_Line(Destination.ACCREDITOR, moc.board, moc.credit_type, moc.points))
        if profile is not None and profile.licenses.all():
            for credit in claim.credits.all():
                if credit.credit_type_id == vocabulary.AMA_PRA_1:
                    lines.append(
                        _Line(Destination.ACCREDITOR, STATE_BOARDS, credit.credit_type_id, credit.amount)
                    )
    for credit in claim.credits.all():
        if credit.credit_type_id == "pharmacy":
            lines.append(_Line(Destination.CPE_MONITOR, "", credit.credit_type_id, credit.amount))
    return lines


def _profiles(user_ids) -> dict[int, LearnerProfile]:
    """The learners' profiles by user id, with the licenses and board IDs the ledger reads."""
    profiles = LearnerProfile.objects.filter(user_id__in=user_ids).prefetch_related("licenses", "board_ids")
    return {profile.user_id: profile for profile in profiles}


def missing_for(entry: ReportingEntry, profile: LearnerProfile | None) -> str:
    """What the learner still has to give before ``entry`` can be reported ("" when nothing). Reads
    ``profile``'s licenses and board IDs through ``.all()``: prefetch them for many rows."""
    if profile is None:
        return _("The learner has no profile.")
    missing = []
    if not profile.has_reporting_consent:
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
            missing.append(
                _("%(board)s ID")
                % {"board": vocabulary.MOC_BOARD_ABBREVIATIONS.get(entry.board, entry.board)}
            )
    if not missing:
        return ""
    return _("Waiting for: %(missing)s.") % {"missing": ", ".join(missing)}


def record_claim(*, claim: CreditClaim) -> list[ReportingEntry]:
    """The ledger rows of a new claim (inside the claim's transaction)."""
    profile = _profiles([claim.enrollment.learner_id]).get(claim.enrollment.learner_id)
    return _add_lines(claim, _lines(claim, profile), profile)


def _set_state(entry: ReportingEntry, profile: LearnerProfile | None) -> bool:
    """Set a waiting or ready row's state from the profile; True if it changed."""
    reason = missing_for(entry, profile)
    state = ReportingEntry.State.WAITING if reason else ReportingEntry.State.READY
    changed = (entry.state, entry.reason) != (state, reason)
    entry.state, entry.reason = state, reason
    return changed


@transaction.atomic  # it locks the learner's open rows: its own transaction when the caller has none
def refresh_learner(*, learner) -> int:
    """After the learner's profile changed: rows their claims now owe are added (a license given later),
    and waiting or ready rows move between the two. Rows already exported or settled stay as they are.
    Returns how many rows were added or changed."""
    profile = _profiles([learner.pk]).get(learner.pk)
    claims = (
        CreditClaim.objects.filter(enrollment__learner=learner)
        .exclude(enrollment__certificate__revoked_at__isnull=False)  # revoked credit is not reported
        .select_related("enrollment")
    )
    have = {
        (e.claim_id, e.destination, e.board, e.credit_type)
        for e in ReportingEntry.objects.filter(learner=learner)
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


def _add_lines(claim: CreditClaim, lines: list[_Line], profile) -> list[ReportingEntry]:
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


def withdraw_for_revocation(*, enrollment, reason: str, by) -> int:
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
            entries=[("reporting.withdrawn", e, enrollment.activity.provider_id, {}) for e in rows],
        )
    return len(rows)


# --- export files ------------------------------------------------------------------------------------------

ACCREDITOR_COLUMNS = [
    "row_id", "activity_id", "activity_title", "completion_date", "learner_first_name", "learner_last_name",
    "birth_month", "birth_day", "board", "board_id", "credit_type", "amount", "license_state", "license_number",
]  # fmt: skip
CPE_MONITOR_COLUMNS = [
    "row_id", "eprofile_id", "birth_mmdd", "activity_number", "completion_date", "credits",
    "learner_first_name", "learner_last_name", "activity_title",
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
                        "credit_type": vocabulary.CREDIT_TYPE_BY_CODE[entry.credit_type].name,
                        "license_state": license_.state,
                        "license_number": license_.number,
                    }
                )
        else:
            board_ids = {b.board: b.board_id for b in profile.board_ids.all()}
            rows.append(
                {
                    **base,
                    "board": vocabulary.MOC_BOARD_ABBREVIATIONS.get(entry.board, entry.board),
                    "board_id": board_ids.get(entry.board, ""),
                    "credit_type": dict(vocabulary.MOC_CREDIT_TYPE_CHOICES).get(
                        entry.credit_type, entry.credit_type
                    ),
                    "license_state": "",
                    "license_number": "",
                }
            )
    return rows


def export_entries(
    *, entries: QuerySet, destination: str, by, description: str, provider=None
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
            made_by=by if getattr(by, "is_authenticated", False) else None,
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
            action="reporting.exported",
            obj=batch,
            provider_id=provider.pk if provider else None,
            data={"rows": len(chosen), "destination": destination},
        )
    return batch


def _filename(provider, destination: str, when) -> str:
    """``statpearls-accreditor-20261101-093000.csv``: whose, for where, and when (local time)."""
    stamp = f"{timezone.localtime(when):%Y%m%d-%H%M%S}"
    return f"{provider.slug}-{destination}-{stamp}.csv" if provider else f"{destination}-{stamp}.csv"


def settle_entries(*, entries: Iterable[ReportingEntry], accepted: bool, reason: str = "", by) -> int:
    """Mark exported rows accepted, or rejected with the registry's reason. Returns how many changed."""
    return len(_settle([e.pk for e in entries], accepted=accepted, reason=reason, by=by))


def _settle(ids: list[int], *, accepted: bool, reason: str, by) -> set[int]:
    """Settle the exported (or earlier rejected) rows among ``ids``; the ids of the rows changed."""
    reason = reason.strip()[:REASON_LENGTH]
    if not accepted and not reason:
        raise ReportingError(_("Say why the registry rejected it."))
    state = ReportingEntry.State.ACCEPTED if accepted else ReportingEntry.State.REJECTED
    with transaction.atomic():
        rows = list(
            ReportingEntry.objects.filter(
                pk__in=ids, state__in=[ReportingEntry.State.EXPORTED, ReportingEntry.State.REJECTED]
            )
            .select_related("activity", "learner")  # the audit entry names both
            .select_for_update(of=("self",))
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
        audit.record_many(
            actor=by,
            entries=[(f"reporting.{state}", e, e.activity.provider_id, {"reason": reason}) for e in rows],
        )
    return {e.pk for e in rows}


def requeue_entries(*, entries: Iterable[ReportingEntry], by) -> int:
    """Rejected rows, once corrected, go back to ready (or waiting) for the next export."""
    with transaction.atomic():
        rows = list(
            ReportingEntry.objects.filter(pk__in=[e.pk for e in entries], state=ReportingEntry.State.REJECTED)
            .select_for_update(of=("self",))  # not the activity's row
            .select_related("activity", "learner")  # the audit entry names both
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
            actor=by, entries=[("reporting.requeued", e, e.activity.provider_id, {}) for e in rows]
        )
    return len(rows)


@dataclass
class ReturnedFileResult:
    accepted: int = 0
    rejected: int = 0
    errors: list[str] | None = None


def apply_returned_file(*, content: str, entries: QuerySet, by) -> ReturnedFileResult:
    """Settle rows from a registry's returned file: CSV with ``row_id``, ``status`` (accepted or rejected)
    and ``reason``. Only rows in ``entries`` (the staff's scope) are touched; every other line is reported.
    """
    result = ReturnedFileResult(errors=[])
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
            result.errors.append(_("line %(n)d: row_id %(id)r is not a number") % {"n": number, "id": row_id})
        elif status not in wanted:
            result.errors.append(_("line %(n)d: status must be accepted or rejected") % {"n": number})
        elif status == "rejected" and not (line.get("reason") or "").strip():
            result.errors.append(_("line %(n)d: a rejection needs a reason") % {"n": number})
        else:
            wanted[status].append((int(row_id), (line.get("reason") or "").strip()))
    known = set(
        entries.filter(pk__in=[i for pairs in wanted.values() for i, _ in pairs]).values_list("pk", flat=True)
    )
    groups: dict[tuple[str, str], list[int]] = {}  # (status, reason) -> row ids: one settling per group
    for status, pairs in wanted.items():
        for row_id, reason in pairs:
            if row_id not in known:
                result.errors.append(_("row %(id)d is not one of your exported rows") % {"id": row_id})
            else:
                groups.setdefault((status, reason if status == "rejected" else ""), []).append(row_id)
    with transaction.atomic():
        for (status, reason), ids in groups.items():
            changed = _settle(ids, accepted=status == "accepted", reason=reason, by=by)
            for row_id in ids:
                if row_id not in changed:  # in scope, but not exported (or already accepted): left alone
                    result.errors.append(
                        _("row %(id)d is not exported or already accepted: not changed") % {"id": row_id}
                    )
            setattr(result, status, getattr(result, status) + len(changed))
    return result


# --- deadlines ---------------------------------------------------------------------------------------------

DUE_SOON_DAYS = 7


def unreported(entries: QuerySet, *, today: date | None = None) -> tuple[QuerySet, QuerySet]:
    """``(overdue, due_soon)``: rows not yet exported whose deadline has passed / falls within a week."""
    today = today or timezone.localdate()
    open_rows = entries.filter(state__in=OPEN)
    return (
        open_rows.filter(due_on__lt=today),
        open_rows.filter(due_on__gte=today, due_on__lte=today + timedelta(days=DUE_SOON_DAYS)),
    )


# --- the daily digest --------------------------------------------------------------------------------------


def send_deadline_digests(*, today: date | None = None) -> int:
    """Email each provider's staff what is overdue or due within a week in their providers' ledger.

    One email per staff member a day (a row records it first, so running the job twice sends nothing
    more; a failed send removes the row so the next run tries again, and the others are still sent before
    the first failure is raised). Returns how many were sent.
    """
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string

    from activities.models import Membership
    from learners.models import DeadlineDigest

    today = today or timezone.localdate()
    by_provider: dict[int, dict] = {}
    overdue, due_soon = unreported(ReportingEntry.objects.all(), today=today)
    for label, rows in (("overdue", overdue), ("due_soon", due_soon)):
        for entry in rows.select_related("activity__provider", "learner").order_by("due_on", "pk"):
            provider = entry.activity.provider
            summary = by_provider.setdefault(
                provider.pk, {"provider": provider, "overdue": [], "due_soon": []}
            )
            summary[label].append(entry)
    if not by_provider:
        return 0
    recipients: dict[int, dict] = {}
    for membership in Membership.objects.filter(
        provider_id__in=by_provider, user__is_active=True, user__is_staff=True
    ).select_related("user"):
        recipient = recipients.setdefault(membership.user_id, {"user": membership.user, "providers": []})
        recipient["providers"].append(by_provider[membership.provider_id])
    sent, failures = 0, []
    for recipient in recipients.values():
        user, providers = recipient["user"], sorted(recipient["providers"], key=lambda p: p["provider"].name)
        count = sum(len(p["overdue"]) + len(p["due_soon"]) for p in providers)
        digest, created = DeadlineDigest.objects.get_or_create(
            user=user, sent_on=today, defaults={"rows": count}
        )
        if not created:
            continue
        context = {
            "user": user,
            "providers": providers,
            "today": today,
            "ledger_url": settings.SITE_URL + "/admin/learners/reportingentry/",
        }
        message = EmailMultiAlternatives(
            subject=_("Reporting deadlines: %(n)d rows to report") % {"n": count},
            body=render_to_string("learners/email/deadline_digest.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
        )
        message.attach_alternative(
            render_to_string("learners/email/deadline_digest.html", context), "text/html"
        )
        try:
            message.send()
        except Exception as exc:  # not sent: the next run tries again; the others still get theirs
            digest.delete()
            failures.append(exc)
            continue
        sent += 1
    if failures:
        raise failures[0]
    return sent
