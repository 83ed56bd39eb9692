"""Certificates: issue once, snapshot what they state, revoke and reissue, email them again.

The database makes each thing happen once: a unique constraint and a row lock for the certificate of an
enrollment. Each certificate's email is a row of the outbox (``learners.services.outbox``), queued in the
same transaction and sent after commit by a task (``learners.services.dispatch``), so a repeated,
duplicated or redelivered task changes nothing. ``issue_missing`` finishes what lost messages left.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from learners.models import (
    Certificate,
    CertificateVersion,
    CreditClaim,
    Enrollment,
    OutboxMessage,
)
from learners.services import dispatch, snapshots
from learners.services.reporting import ledger
from portal import audit
from portal.models import User


class CertificateError(Exception):
    """Why a certificate action cannot be done, in words fit to show."""


@dataclass(frozen=True)
class Issued:
    """A certificate ``issue_certificates`` found or issued. ``email`` is the email this call queued with
    it, loaded with its version and certificate; None for a certificate issued before."""

    certificate: Certificate
    email: OutboxMessage | None


# --- issuing -----------------------------------------------------------------------------------------------


def issue_certificate(*, enrollment: Enrollment, dispatch_email: bool = True) -> Certificate:
    """The certificate of a completed enrollment, issued (with its email queued) if it has none yet.

    Safe to call any number of times, concurrently: the enrollment row is locked and the certificate is
    unique per enrollment, so one certificate and one email result. After commit the email is dispatched
    to a worker, unless ``dispatch_email`` is False (the caller sends it itself, as the issuing task does).
    Raises ``CertificateError`` for an enrollment without a claim.
    """
    issued = issue_certificates(enrollment_ids=[enrollment.pk], dispatch_email=dispatch_email).get(
        enrollment.pk
    )
    if issued is None:
        raise CertificateError(_("This enrollment has no claim yet, so no certificate."))
    return issued.certificate


def issue_certificates(
    *, enrollment_ids: list[int], also_waiting: int = 0, dispatch_email: bool = True
) -> dict[int, Issued]:
    """Certificates for these enrollments, and for up to ``also_waiting`` other completed enrollments still
    without one, in one transaction and a fixed number of statements; ``{enrollment id: Issued}``.

    The named enrollments' rows are locked (waiting for any other transaction holding them); the others
    are taken only if no one else holds them (``skip_locked``), so concurrent workers share out a backlog
    without waiting for each other. An enrollment without a claim is left out. A certificate issued by
    this call comes with the email it queued (``Issued.email``, pending): dispatched after commit, or, with
    ``dispatch_email`` False, left for the caller to send (``outbox.send_now``). One issued before comes
    without.
    """
    with transaction.atomic():
        related = ("activity__provider", "learner__profile")
        locked = list(
            Enrollment.objects.select_for_update(of=("self",))
            .select_related(*related)
            .filter(pk__in=enrollment_ids)
        )
        if also_waiting > 0:
            locked += list(
                Enrollment.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related(*related)
                .filter(status=Enrollment.Status.COMPLETED, certificate__isnull=True)
                .exclude(pk__in=enrollment_ids)
                .order_by("completed_at")[:also_waiting]
            )
        # Read after the locks are held, in statements of their own: a join in the locking query would
        # show a waiting transaction the rows as they were before the holder of the lock committed.
        found = {
            c.enrollment_id: Issued(certificate=c, email=None)
            for c in Certificate.objects.filter(enrollment__in=locked)
        }
        claims = {c.enrollment_id: c for c in CreditClaim.objects.filter(enrollment__in=locked)}
        todo = [e for e in locked if e.pk not in found and e.pk in claims]
        if not todo:
            return found
        for enrollment in todo:
            enrollment.claim = claims[enrollment.pk]
        # Under the locks no one else inserts these; were a lock ever bypassed, the unique constraint
        # refuses the second and this transaction fails whole (a repeat then finds the first).
        issued = Certificate.objects.bulk_create([Certificate(enrollment=e) for e in todo])
        details = snapshots.SnapshotDetails.load(todo)
        now = timezone.now()
        versions = CertificateVersion.objects.bulk_create(
            [
                CertificateVersion(
                    certificate=certificate,
                    number=1,
                    issued_at=now,
                    snapshot=snapshots.certificate_snapshot(
                        enrollment=enrollment, certificate=certificate, issued_at=now, details=details
                    ),
                )
                for enrollment, certificate in zip(todo, issued, strict=True)
            ]
        )
        # Queued pending either way. The issuing task sends them itself after commit, claiming each just
        # before its send (a batch may take longer than a lease; one not yet reached can meanwhile be
        # taken by a task the sweep dispatched, and the batch then skips it).
        messages = OutboxMessage.objects.bulk_create(
            [
                _email_for(version, learner=enrollment.learner, now=now)
                for enrollment, version in zip(todo, versions, strict=True)
            ]
        )
        audit.record_many(
            actor=None,
            entries=[
                (
                    audit.AuditAction.CERTIFICATE_ISSUED,
                    certificate,
                    enrollment.activity.provider_id,
                    {"version": 1, "code": certificate.code},
                )
                for enrollment, certificate in zip(todo, issued, strict=True)
            ],
        )
        for enrollment, certificate, version, message in zip(todo, issued, versions, messages, strict=True):
            certificate.enrollment = enrollment
            version.certificate = certificate
            message.version = version
            found[enrollment.pk] = Issued(certificate=certificate, email=message)
        if dispatch_email:
            dispatch.send_emails_after_commit([message.pk for message in messages])
    return found


def reissue_certificate(*, certificate: Certificate, by: User | None, reason: str) -> CertificateVersion:
    """A new version from the learner's and activity's current details (after a name correction, say),
    emailed to the learner. Earlier versions stay and are shown as superseded."""
    reason = reason.strip()
    if not reason:
        raise CertificateError(_("Say why the certificate is reissued."))
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        why_not = reissue_refusal(certificate)
        if why_not:
            raise CertificateError(why_not)
        version = _new_version(certificate, reason=reason, by=by)
        # An email of an earlier version still waiting would send the learner a superseded certificate.
        OutboxMessage.objects.filter(
            version__certificate=certificate, state=OutboxMessage.State.PENDING
        ).update(
            state=OutboxMessage.State.FAILED,
            last_error=_("not sent: superseded by version %(n)d") % {"n": version.number},
            modified=timezone.now(),
        )
        message = _queue_email(version, by=by)
        audit.record(
            actor=by,
            action=audit.AuditAction.CERTIFICATE_REISSUED,
            obj=certificate,
            provider_id=certificate.enrollment.activity.provider_id,
            data={"version": version.number, "reason": reason},
        )
        dispatch.send_emails_after_commit([message.pk])
    return version


def reissue_refusal(certificate: Certificate) -> str | None:
    """Why the certificate cannot be reissued, or None."""
    if certificate.is_revoked:
        return _("A revoked certificate cannot be reissued.")
    return None


def revoke_refusal(certificate: Certificate) -> str | None:
    """Why the certificate cannot be revoked (again), or None."""
    if certificate.is_revoked:
        return _("This certificate is already revoked.")
    return None


def revoke_certificate(*, certificate: Certificate, reason: str, by: User | None) -> Certificate:
    """Revoke, keeping the row: the verification page then says revoked, and why. Revoking a revoked
    certificate changes nothing (``revoke_refusal`` says so beforehand)."""
    reason = reason.strip()
    if not reason:
        raise CertificateError(_("A reason is required to revoke a certificate."))
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.is_revoked:
            return certificate
        certificate.revoked_at, certificate.revoked_by, certificate.revoke_reason = timezone.now(), by, reason
        certificate.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "modified"])
        ledger.withdraw_for_revocation(enrollment=certificate.enrollment, reason=reason, by=by)
        audit.record(
            actor=by,
            action=audit.AuditAction.CERTIFICATE_REVOKED,
            obj=certificate,
            provider_id=certificate.enrollment.activity.provider_id,
            data={"reason": reason},
        )
    return certificate


def resend_certificate(*, certificate: Certificate, by: User | None) -> OutboxMessage:
    """Email the current version again (learner's button or staff action). Refused while one is on its way."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        why_not = resend_refusal(certificate)
        if why_not:
            raise CertificateError(why_not)
        version = certificate.versions.order_by("-number").first()
        assert version is not None  # a certificate is issued with its first version
        message = _queue_email(version, by=by)
        audit.record(
            actor=by,
            action=audit.AuditAction.CERTIFICATE_RESENT,
            obj=certificate,
            provider_id=certificate.enrollment.activity.provider_id,
            data={"message": message.pk},
        )
        dispatch.send_emails_after_commit([message.pk])
    return message


def resend_refusal(certificate: Certificate) -> str | None:
    """Why the certificate cannot be emailed again now, or None."""
    if certificate.is_revoked:
        return _("This certificate is revoked.")
    waiting = OutboxMessage.objects.filter(
        version__certificate=certificate, state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.SENDING]
    ).exists()
    if waiting:
        return _("An email with this certificate is already on its way.")
    return None


def _new_version(certificate: Certificate, *, reason: str, by: User | None) -> CertificateVersion:
    enrollment = Enrollment.objects.select_related("activity__provider", "learner__profile", "claim").get(
        pk=certificate.enrollment_id
    )
    number = (certificate.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    issued_at = timezone.now()
    return CertificateVersion.objects.create(
        certificate=certificate,
        number=number,
        issued_at=issued_at,
        snapshot=snapshots.certificate_snapshot(
            enrollment=enrollment, certificate=certificate, issued_at=issued_at
        ),
        reason=reason,
        issued_by=by if by is not None and by.is_authenticated else None,
    )


# --- email -------------------------------------------------------------------------------------------------


def _email_for(
    version: CertificateVersion, *, learner: User, by: User | None = None, now: datetime | None = None
) -> OutboxMessage:
    """The (unsaved) outbox row of the email that carries ``version`` to ``learner``."""
    now = now or timezone.now()
    # The certificate's own title (Credit, Completion or Participation), as the PDF and the verification page.
    subject = _("Your %(certificate)s: %(title)s") % {
        "certificate": version.snapshot["title"],
        "title": version.snapshot["activity_title"],
    }
    return OutboxMessage(
        kind=OutboxMessage.Kind.CERTIFICATE,
        version=version,
        recipient=learner.email,
        subject=subject[:200],
        next_attempt_at=now,
        requested_by=by if by is not None and by.is_authenticated else None,
    )


def _queue_email(version: CertificateVersion, *, by: User | None) -> OutboxMessage:
    message = _email_for(version, learner=version.certificate.enrollment.learner, by=by)
    message.save()
    return message


# --- the sweep ---------------------------------------------------------------------------------------------


def issue_missing(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue the issuing of certificates that completed claims are still without ``dispatch.SWEEP_GRACE`` after
    the claim (its own task was lost: the broker was down, the worker died); returns how many were
    queued. Safe to run any number of times, concurrently: issuing is."""
    now = now or timezone.now()
    missing = list(
        Enrollment.objects.filter(
            status=Enrollment.Status.COMPLETED,
            certificate__isnull=True,
            claim__claimed_at__lte=now - dispatch.SWEEP_GRACE,
        ).values_list("pk", flat=True)[:limit]
    )
    for enrollment_id in missing:
        dispatch.issue_certificate(enrollment_id)
    return len(missing)
