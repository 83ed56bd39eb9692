"""Certificates: issue once, snapshot what they state, revoke and reissue, email them again.

The database makes each thing happen once: a unique constraint and a row lock for the certificate of an
enrollment. Each certificate's email is a row of the outbox (``learners.services.outbox``), queued in the
same transaction and sent after commit by a task (``learners.services.dispatch``), so a repeated,
duplicated or redelivered task changes nothing. ``issue_missing`` finishes what lost messages left.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import vocabulary
from activities.models import CreditDesignation
from activities.text import activity_dates_text
from learners.models import (
    Certificate,
    CertificateVersion,
    ClaimedCredit,
    ClaimedMoc,
    CreditClaim,
    Enrollment,
    LearnerProfile,
    OutboxMessage,
)
from learners.services import dispatch
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
        details = _SnapshotDetails.load(todo)
        now = timezone.now()
        versions = CertificateVersion.objects.bulk_create(
            [
                CertificateVersion(
                    certificate=certificate,
                    number=1,
                    issued_at=now,
                    snapshot=certificate_snapshot(
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
        if certificate.is_revoked:
            raise CertificateError(_("A revoked certificate cannot be reissued."))
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


def revoke_certificate(*, certificate: Certificate, reason: str, by: User | None) -> Certificate:
    """Revoke, keeping the row: the verification page then says revoked, and why."""
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
        snapshot=certificate_snapshot(enrollment=enrollment, certificate=certificate, issued_at=issued_at),
        reason=reason,
        issued_by=by if by is not None and by.is_authenticated else None,
    )


class _SnapshotDetails:
    """The designations, claimed credit and claimed MOC of several enrollments, read in three queries."""

    def __init__(
        self,
        designations: dict[int, dict[str, CreditDesignation]],
        credits: dict[int, list[ClaimedCredit]],
        moc: dict[int, list[ClaimedMoc]],
    ) -> None:
        self.designations, self.credits, self.moc = designations, credits, moc

    @classmethod
    def load(cls, enrollments: list[Enrollment]) -> "_SnapshotDetails":
        designations: dict[int, dict[str, CreditDesignation]] = {}
        credits: dict[int, list[ClaimedCredit]] = {}
        moc: dict[int, list[ClaimedMoc]] = {}
        activity_ids = {e.activity_id for e in enrollments}
        for d in CreditDesignation.objects.filter(activity_id__in=activity_ids).select_related("credit_type"):
            designations.setdefault(d.activity_id, {})[d.credit_type_id] = d
        claim_ids = [e.claim.pk for e in enrollments]
        for credit in ClaimedCredit.objects.filter(claim_id__in=claim_ids).select_related("credit_type"):
            credits.setdefault(credit.claim_id, []).append(credit)
        for row in ClaimedMoc.objects.filter(claim_id__in=claim_ids):
            moc.setdefault(row.claim_id, []).append(row)
        return cls(designations, credits, moc)


def certificate_name(learner: User, profile: LearnerProfile | None) -> str:
    """The learner's name as a certificate prints it: the legal name (or the email), and the degree."""
    name = learner.get_full_name().strip() or learner.email
    if profile and profile.degree and profile.degree != LearnerProfile.Degree.OTHER:
        name = f"{name}, {profile.degree}"
    return name


def name_changed_since_issue(*, certified_name: str | None, learner: User) -> bool:
    """Whether ``learner``'s name (or degree) now differs from what their certificate was issued to; the
    certificate and the registry rows keep the certified name until it is reissued."""
    return certified_name is not None and certified_name != certificate_name(learner, _profile_of(learner))


def _profile_of(learner: User) -> LearnerProfile | None:
    try:
        return learner.profile  # usually already loaded with the enrollment
    except LearnerProfile.DoesNotExist:
        return None


def certified_name_of(certificate: str = "pk") -> Subquery:
    """An expression for the learner's name on the latest issue of the certificate at ``certificate`` (a
    path from the queried model to a certificate), for annotating admin lists."""
    latest = (
        CertificateVersion.objects.filter(certificate=OuterRef(certificate))
        .order_by("-number")
        .annotate(name=KT("snapshot__learner_name"))
        .values("name")[:1]
    )
    return Subquery(latest)


def certificate_snapshot(
    *,
    enrollment: Enrollment,
    certificate: Certificate,
    issued_at: datetime,
    details: _SnapshotDetails | None = None,
) -> dict:
    """Everything the certificate states, frozen at issue: the PDF and the verification page read only this."""
    activity, learner, claim = enrollment.activity, enrollment.learner, enrollment.claim
    provider = activity.provider
    profile = _profile_of(learner)
    details = details or _SnapshotDetails.load([enrollment])
    designations = details.designations.get(activity.pk, {})
    noun = activity.designation_noun

    def statement(designation: CreditDesignation) -> str:
        return designation.credit_type.statement(
            provider=provider.name, amount=designation.max_amount, format=noun
        )

    credits = []
    for credit in sorted(details.credits.get(claim.pk, []), key=lambda c: c.credit_type.position):
        designation = designations.get(credit.credit_type_id)
        credits.append(
            {
                "type": credit.credit_type.label,
                "code": credit.credit_type_id,
                "amount": f"{credit.amount:.2f}",
                "unit": credit.credit_type.unit,
                "statement": statement(designation) if designation else "",
                "activity_number": designation.activity_number if designation else "",
            }
        )
    ama = designations.get(vocabulary.AMA_PRA_1)
    participation = claim.profession != vocabulary.Profession.PHYSICIAN
    name = certificate_name(learner, profile)
    joint = ""
    if activity.providership == activity.Providership.JOINT:
        partner = activity.joint_provider or _("its joint provider")
        joint = _(
            "This activity has been planned and implemented in accordance with the accreditation requirements "
            "and policies of the Accreditation Council for Continuing Medical Education (ACCME) through the "
            "joint providership of %(provider)s and %(partner)s."
        ) % {"provider": provider.name, "partner": partner}
    return {
        "kind": "participation" if participation else "credit",
        "title": _("Certificate of Participation") if participation else _("Certificate of Credit"),
        "learner_name": name,
        # As certified, for the registry files (which name the learner in two fields).
        "learner_first_name": learner.first_name,
        "learner_last_name": learner.last_name,
        "profession": claim.get_profession_display(),
        "provider": provider.name,
        "accreditation_statement": provider.accreditation_statement,
        "joint_providership": joint,
        "activity_title": activity.title,
        "activity_type": activity.get_activity_type_display(),
        "format": activity.get_format_display(),
        "location": activity.location if activity.is_live else "",
        "activity_dates": activity_dates_text(activity),
        "start": activity.start.isoformat(),
        "end": activity.end.isoformat(),
        "completed_on": timezone.localdate(enrollment.completed_at).isoformat(),
        "claimed_on": timezone.localdate(claim.claimed_at).isoformat(),
        "issued_on": timezone.localdate(issued_at).isoformat(),
        "credits": credits,
        "ama_designation": statement(ama) if (participation and ama) else "",
        "moc": [
            {
                "board": vocabulary.board_abbreviation(moc.board),
                "credit_type": vocabulary.moc_credit_type_label(moc.credit_type),
                "points": f"{moc.points:.2f}",
            }
            for moc in sorted(details.moc.get(claim.pk, []), key=lambda m: (m.board, m.credit_type))
        ],
        "code": certificate.code,
        "verification_url": settings.SITE_URL + certificate.get_absolute_url(),
    }


# --- email -------------------------------------------------------------------------------------------------


def _email_for(
    version: CertificateVersion, *, learner: User, by: User | None = None, now: datetime | None = None
) -> OutboxMessage:
    """The (unsaved) outbox row of the email that carries ``version`` to ``learner``."""
    now = now or timezone.now()
    subject = _("Your certificate: %(title)s") % {"title": version.snapshot["activity_title"]}
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
