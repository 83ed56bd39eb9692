"""Reads for learner pages: every one filters by the learner, so nobody reaches another's records."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from activities.models import CreditType
from learners.models import (
    Certificate,
    ClaimedCredit,
    ClaimedMoc,
    ClaimedSession,
    Enrollment,
    OutboxMessage,
    ReportingEntry,
)
from portal.models import User


def enrollments_for(*, user: User) -> QuerySet[Enrollment]:
    """The learner's enrollments with their activities, claims and claimed credit, newest first."""
    return (
        Enrollment.objects.filter(learner=user)
        .select_related("activity__provider", "claim")
        .prefetch_related(
            Prefetch("claim__credits", queryset=ClaimedCredit.objects.select_related("credit_type")),
            Prefetch("claim__moc", queryset=ClaimedMoc.objects.all()),
        )
        .order_by("-created")
    )


def attach_delivery(enrollments: list[Enrollment]) -> None:
    """Set ``certificate_obj``, ``delivery`` (its latest email) and ``reporting_rows`` (where the credit is
    reported, and how far) on each enrollment: three queries in all."""
    by_enrollment = {
        c.enrollment_id: c for c in Certificate.objects.filter(enrollment__in=[e.pk for e in enrollments])
    }
    latest: dict[int, OutboxMessage] = {}
    for message in (
        OutboxMessage.objects.filter(version__certificate__in=list(by_enrollment.values()))
        .select_related("version")
        .order_by("created")
    ):
        if message.version is not None:  # always: the filter takes certificate emails only
            latest[message.version.certificate_id] = message
    reporting: dict[int, list[ReportingEntry]] = {}
    for entry in ReportingEntry.objects.filter(
        claim__enrollment__in=[e.pk for e in enrollments],
        action=ReportingEntry.Action.ADD,
        superseded_at__isnull=True,
    ).order_by("destination", "board", "credit_type"):
        reporting.setdefault(entry.claim_id, []).append(entry)
    for enrollment in enrollments:
        certificate = by_enrollment.get(enrollment.pk)
        enrollment.certificate_obj = certificate
        enrollment.delivery = latest.get(certificate.pk) if certificate else None
        claim = (
            getattr(enrollment, "claim", None) if enrollment.status == Enrollment.Status.COMPLETED else None
        )
        enrollment.reporting_rows = reporting.get(claim.pk, []) if claim else []


def enrollment_for(*, user: User, public_id: uuid.UUID | str) -> Enrollment:
    """One of the learner's enrollments; ``Enrollment.DoesNotExist`` for anyone else's."""
    return enrollments_for(user=user).select_related("activity").get(public_id=public_id)


@dataclass
class TranscriptLine:
    claimed_at: datetime
    activity_title: str
    provider: str
    activity_type: str
    credit_type: str
    amount: Decimal
    sessions: list[str] = field(default_factory=list)  # a live activity's sessions claimed, by date


@dataclass
class Transcript:
    start: date | None
    end: date | None
    credit_type: CreditType | None
    lines: list[TranscriptLine] = field(default_factory=list)
    totals: list[tuple[str, Decimal]] = field(default_factory=list)


def transcript(
    *, user: User, start: date | None = None, end: date | None = None, credit_type: CreditType | None = None
) -> Transcript:
    """Every credit the learner claimed between ``start`` and ``end`` (inclusive), with totals per type."""
    credits = ClaimedCredit.objects.filter(claim__enrollment__learner=user).select_related(
        "credit_type", "claim__enrollment__activity__provider"
    )
    tz = timezone.get_current_timezone()
    if start:
        credits = credits.filter(claim__claimed_at__gte=datetime.combine(start, time.min, tzinfo=tz))
    if end and end < date.max:  # a range ending on the last representable day has no upper bound
        credits = credits.filter(
            claim__claimed_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
        )
    if credit_type:
        credits = credits.filter(credit_type=credit_type)
    result = Transcript(start, end, credit_type)
    totals: dict[str, Decimal] = {}
    credits = credits.order_by("claim__claimed_at", "credit_type__position")
    sessions: dict[int, list[str]] = {}
    claimed = ClaimedSession.objects.filter(claim__enrollment__learner=user).select_related("session")
    for row in claimed.order_by("session__start", "session__pk"):
        day = row.session.date
        sessions.setdefault(row.claim_id, []).append(f"{day:%b} {day.day}, {day.year}")
    for credit in credits:
        activity = credit.claim.enrollment.activity
        result.lines.append(
            TranscriptLine(
                claimed_at=credit.claim.claimed_at,
                activity_title=activity.title,
                provider=activity.provider.name,
                activity_type=activity.get_activity_type_display(),
                credit_type=credit.credit_type.label,
                amount=credit.amount,
                sessions=sessions.get(credit.claim_id, []),
            )
        )
        label = credit.credit_type.label
        totals[label] = totals.get(label, Decimal(0)) + credit.amount
    result.totals = sorted(totals.items())
    return result
