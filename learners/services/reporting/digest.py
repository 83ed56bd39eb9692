"""The daily deadline digest: each provider's staff get, once a day, what is overdue or due within a week in
their own providers' ledger, and nothing about anyone else's.

A digest goes through the outbox like a certificate's email, with the same guarantees: recorded with its
email in one transaction, sent once (claimed just before its send), retried after a temporary failure, and
handed on by the sweep when the worker that was to send it died.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Membership
from learners.models import DeadlineDigest, OutboxMessage, ReportingEntry
from learners.services import outbox
from learners.services.reporting.ledger import unreported
from portal.models import User

ROWS_SHOWN = 20  # per provider and list; the rest are counted


def send_deadline_digests(*, today: date | None = None) -> int:
    """Email each provider's active staff what is overdue or due within a week in their providers' ledger
    (a member of several providers gets one email covering each); returns how many digests this run
    recorded.

    Each staff member's digest for the day is recorded with what it lists (``DeadlineDigest.snapshot``) and
    its email queued, in one transaction; the digest is unique per person and day, so running the job
    again, or twice at once, records and sends nothing more. The emails recorded are then sent at once,
    each claimed just before its send. A temporary failure leaves the email to the email task, after its
    backoff; a worker dying before or during the send leaves it pending (or leased) for the sweep. Nothing
    is raised for a failed send: the outbox shows it.
    """
    today = today or timezone.localdate()
    queued = [_record(user, providers, today=today) for user, providers in _listings(today)]
    for message_id in filter(None, queued):
        outbox.send_now(message_id=message_id)
    return len([message_id for message_id in queued if message_id])


def _listings(today: date) -> list[tuple[User, list[dict]]]:
    """``[(staff member, [their providers' summaries, by name])]`` for every active staff member of a
    provider with rows overdue or due soon."""
    by_provider: dict[int, dict] = {}
    overdue, due_soon = unreported(ReportingEntry.objects.all(), today=today)
    for label, rows in (("overdue", overdue), ("due_soon", due_soon)):
        for entry in rows.select_related("activity__provider", "learner").order_by("due_on", "pk"):
            provider = entry.activity.provider
            summary = by_provider.setdefault(
                provider.pk, {"name": provider.name, "overdue": [], "due_soon": []}
            )
            summary[label].append(entry)
    recipients: dict[int, tuple[User, list[dict]]] = {}
    for membership in Membership.objects.filter(
        provider_id__in=by_provider, user__is_active=True, user__is_staff=True
    ).select_related("user"):
        _, providers = recipients.setdefault(membership.user_id, (membership.user, []))
        providers.append(by_provider[membership.provider_id])
    return [(user, sorted(providers, key=lambda p: p["name"])) for user, providers in recipients.values()]


def _record(user: User, providers: list[dict], *, today: date) -> int | None:
    """Record ``user``'s digest for ``today`` with its email queued; the email's id, or None if the digest
    was recorded before (by an earlier or concurrent run)."""
    count = sum(len(p["overdue"]) + len(p["due_soon"]) for p in providers)
    with transaction.atomic():
        digest, created = DeadlineDigest.objects.get_or_create(
            user=user, sent_on=today, defaults={"rows": count, "snapshot": _snapshot(user, providers, today)}
        )
        if not created:
            return None
        subject = _("Reporting deadlines: %(n)d rows to report") % {"n": count}
        message = OutboxMessage.objects.create(
            kind=OutboxMessage.Kind.DEADLINE_DIGEST,
            digest=digest,
            recipient=user.email,
            subject=subject[:200],
            next_attempt_at=timezone.now(),
        )
    return message.pk


def _snapshot(user: User, providers: list[dict], today: date) -> dict:
    """What the digest lists as of ``today``, in words: the email reads only this."""
    return {
        "recipient": user.get_full_name() or user.email,
        "today": today.isoformat(),
        "providers": [
            {"name": p["name"], "overdue": _rows(p["overdue"]), "due_soon": _rows(p["due_soon"])}
            for p in providers
        ],
    }


def _rows(entries: list[ReportingEntry]) -> dict:
    shown = entries[:ROWS_SHOWN]
    return {
        "count": len(entries),
        "more": len(entries) - len(shown),
        "rows": [
            {
                "due_on": entry.due_on.isoformat(),
                "destination": entry.get_destination_display(),
                "activity": entry.activity.title,
                "learner": entry.learner.get_full_name() or entry.learner.email,
                "state": entry.get_state_display(),
                "reason": entry.reason,
            }
            for entry in shown
        ],
    }
