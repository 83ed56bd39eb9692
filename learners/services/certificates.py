"""Certificates: issue once, snapshot what they state, email each message once, revoke and reissue.

The database makes each thing happen once: a unique constraint and a row lock for the certificate of an
enrollment, and a conditional update that claims an outbox row, with a lease its sender renews, just before
its email goes out. Tasks only call these functions, so a repeated, duplicated or redelivered task changes
nothing. The periodic sweep finishes what lost messages and dead workers left, and alerts staff once about
an email the mail server has deferred for hours.
"""

import logging
import os
import smtplib
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta

import celery.exceptions
import kombu.exceptions
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.db.models.fields.json import KT
from django.template.loader import render_to_string
from django.urls import reverse
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
from learners.services import reporting
from portal import audit

logger = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(minutes=1)  # leave fresh work to the tasks already dispatched for it
DUE_EARLY = timedelta(seconds=2)  # how early a retry may come and still be let through (clock skew)


class CertificateError(Exception):
    """Why a certificate action cannot be done, in words fit to show."""


class TemporaryEmailError(Exception):
    """The mail server could not take the message now; try again in ``retry_in`` seconds."""

    def __init__(self, message: str, retry_in: int):
        super().__init__(message)
        self.retry_in = retry_in


def _dispatch(task_name: str, *args) -> None:
    """Queue a task; if the broker is down, log it and leave the work to the sweep."""
    _dispatch_later(task_name, *args, countdown=None)


# Monotonic time until which this process queues nothing: after a failed dispatch, each further try would
# wait CELERY_BROKER_CONNECT_TIMEOUT (2 s) on a learner's request for a broker that is most likely still
# down. Per process on purpose: each web and worker process finds out for itself, at the cost of one slow
# dispatch per process per pause, with nothing shared that could itself be down.
_broker_down_until = 0.0
BROKER_ERRORS = (kombu.exceptions.OperationalError, ConnectionError, TimeoutError)


def _dispatch_later(task_name: str, *args, countdown: int | None) -> None:
    global _broker_down_until
    from learners import tasks

    if time.monotonic() < _broker_down_until:
        logger.info("not queueing %s%s: the broker looked down; the sweep will pick it up", task_name, args)
        return
    try:
        getattr(tasks, task_name).apply_async(args=args, retry=False, countdown=countdown)
    except Exception as exc:
        if isinstance(exc, celery.exceptions.Retry):  # run in-process, the task keeps its row for a retry
            return
        if not isinstance(exc, BROKER_ERRORS):  # a task run in-process failed: the broker is not to blame
            logger.warning("%s%s failed; the sweep will pick it up", task_name, args, exc_info=True)
            return
        pause = getattr(settings, "TASK_DISPATCH_PAUSE_SECONDS", 30)
        _broker_down_until = time.monotonic() + pause
        logger.warning(
            "could not queue %s%s; queueing nothing for %d s, the sweep will pick it up",
            task_name,
            args,
            pause,
            exc_info=True,
        )


# --- issuing -----------------------------------------------------------------------------------------------


def issue_certificate(*, enrollment: Enrollment, dispatch_email: bool = True) -> Certificate:
    """The certificate of a completed enrollment, issued (with its email queued) if it has none yet.

    Safe to call any number of times, concurrently: the enrollment row is locked and the certificate is
    unique per enrollment, so one certificate and one email result. After commit the email is dispatched
    to a worker, unless ``dispatch_email`` is False (the caller sends it itself, as the issuing task does).
    Raises ``CertificateError`` for an enrollment without a claim.
    """
    certificate = issue_certificates(enrollment_ids=[enrollment.pk], dispatch_email=dispatch_email).get(
        enrollment.pk
    )
    if certificate is None:
        raise CertificateError(_("This enrollment has no claim yet, so no certificate."))
    return certificate


def issue_certificates(
    *, enrollment_ids: list[int], also_waiting: int = 0, dispatch_email: bool = True
) -> dict[int, Certificate]:
    """Certificates for these enrollments, and for up to ``also_waiting`` other completed enrollments still
    without one, in one transaction and a fixed number of statements; ``{enrollment id: certificate}``.

    The named enrollments' rows are locked (waiting for any other transaction holding them); the others
    are taken only if no one else holds them (``skip_locked``), so concurrent workers share out a backlog
    without waiting for each other. An enrollment without a claim is left out. Newly issued certificates
    carry their queued email as ``queued_message``: dispatched after commit, or, with ``dispatch_email``
    False, left for the caller to send (``send_queued_message``).
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
        found = {c.enrollment_id: c for c in Certificate.objects.filter(enrollment__in=locked)}
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
                    "certificate.issued",
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
            certificate.queued_message = message
            found[enrollment.pk] = certificate
        if dispatch_email:
            ids = [message.pk for message in messages]
            transaction.on_commit(
                lambda: [_dispatch("send_certificate_email_task", pk) for pk in ids], robust=True
            )
    return found


def reissue_certificate(*, certificate: Certificate, by, reason: str) -> CertificateVersion:
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
            action="certificate.reissued",
            obj=certificate,
            provider_id=certificate.enrollment.activity.provider_id,
            data={"version": version.number, "reason": reason},
        )
        transaction.on_commit(lambda: _dispatch("send_certificate_email_task", message.pk), robust=True)
    return version


def revoke_certificate(*, certificate: Certificate, reason: str, by) -> Certificate:
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
        reporting.withdraw_for_revocation(enrollment=certificate.enrollment, reason=reason, by=by)
        audit.record(
            actor=by,
            action="certificate.revoked",
            obj=certificate,
            provider_id=certificate.enrollment.activity.provider_id,
            data={"reason": reason},
        )
    return certificate


def resend_certificate(*, certificate: Certificate, by) -> OutboxMessage:
    """Email the current version again (learner's button or staff action). Refused while one is on its way."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        why_not = resend_refusal(certificate)
        if why_not:
            raise CertificateError(why_not)
        version = certificate.versions.order_by("-number").first()
        message = _queue_email(version, by=by)
        audit.record(
            actor=by,
            action="certificate.resent",
            obj=certificate,
            provider_id=certificate.enrollment.activity.provider_id,
            data={"message": message.pk},
        )
        transaction.on_commit(lambda: _dispatch("send_certificate_email_task", message.pk), robust=True)
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


def _new_version(
    certificate: Certificate,
    *,
    reason: str,
    by,
    enrollment: Enrollment | None = None,
    number: int | None = None,
) -> CertificateVersion:
    if enrollment is None:
        enrollment = Enrollment.objects.select_related("activity__provider", "learner__profile", "claim").get(
            pk=certificate.enrollment_id
        )
    if number is None:
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

    def __init__(self, designations, credits, moc):
        self.designations, self.credits, self.moc = designations, credits, moc

    @classmethod
    def load(cls, enrollments: list[Enrollment]) -> "_SnapshotDetails":
        designations, credits, moc = {}, {}, {}
        activity_ids = {e.activity_id for e in enrollments}
        for d in CreditDesignation.objects.filter(activity_id__in=activity_ids).select_related("credit_type"):
            designations.setdefault(d.activity_id, {})[d.credit_type_id] = d
        claim_ids = [e.claim.pk for e in enrollments]
        for credit in ClaimedCredit.objects.filter(claim_id__in=claim_ids).select_related("credit_type"):
            credits.setdefault(credit.claim_id, []).append(credit)
        for row in ClaimedMoc.objects.filter(claim_id__in=claim_ids):
            moc.setdefault(row.claim_id, []).append(row)
        return cls(designations, credits, moc)


def certificate_name(learner, profile: LearnerProfile | None) -> str:
    """The learner's name as a certificate prints it: the legal name (or the email), and the degree."""
    name = learner.get_full_name().strip() or learner.email
    if profile and profile.degree and profile.degree != LearnerProfile.Degree.OTHER:
        name = f"{name}, {profile.degree}"
    return name


def name_changed_since_issue(*, certified_name: str | None, learner) -> bool:
    """Whether ``learner``'s name (or degree) now differs from what their certificate was issued to; the
    certificate and the registry rows keep the certified name until it is reissued."""
    return certified_name is not None and certified_name != certificate_name(
        learner, getattr(learner, "profile", None)
    )


def certified_name_of(certificate: str = "pk"):
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
    try:
        profile = learner.profile  # usually already loaded with the enrollment
    except LearnerProfile.DoesNotExist:
        profile = None
    details = details or _SnapshotDetails.load([enrollment])
    designations = details.designations.get(activity.pk, {})
    noun = activity.designation_noun

    def statement(designation) -> str:
        return designation.credit_type.statement(
            provider=provider.name, amount=designation.max_amount, format=noun
        )

    credits = []
    for credit in sorted(details.credits.get(claim.pk, []), key=lambda c: c.credit_type.position):
        designation = designations.get(credit.credit_type_id)
        credits.append(
            {
                "type": credit.credit_type.name,
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
                "board": moc.get_board_display(),
                "credit_type": moc.get_credit_type_display(),
                "points": f"{moc.points:.2f}",
            }
            for moc in sorted(details.moc.get(claim.pk, []), key=lambda m: (m.board, m.credit_type))
        ],
        "code": certificate.code,
        "verification_url": settings.SITE_URL + certificate.get_absolute_url(),
    }


# --- email -------------------------------------------------------------------------------------------------


def _email_for(version: CertificateVersion, *, learner, by=None, now=None) -> OutboxMessage:
    """The (unsaved) outbox row of the email that carries ``version`` to ``learner``."""
    now = now or timezone.now()
    subject = _("Your certificate: %(title)s") % {"title": version.snapshot["activity_title"]}
    return OutboxMessage(
        version=version,
        recipient=learner.email,
        subject=subject[:200],
        next_attempt_at=now,
        requested_by=by if by is not None and by.is_authenticated else None,
    )


def _queue_email(version: CertificateVersion, *, by, learner=None) -> OutboxMessage:
    message = _email_for(version, learner=learner or version.certificate.enrollment.learner, by=by)
    message.save()
    return message


def send_outbox_message(*, message_id: int) -> str:
    """Send one queued email, at most once; returns the message's state afterwards.

    The row is claimed with a conditional update (pending → sending) just before the email is built and
    sent, so a second task for the same message finds nothing to do. The claim takes a lease: a fresh token
    and an expiry (``CERTIFICATE_EMAIL_LEASE_SECONDS``), after which the sweep hands the email to another
    sender. The token is checked again right before the email goes out and when the outcome is recorded,
    so a sender whose lease was handed on sends nothing (returns the row's state) and overwrites nothing.

    A message waiting for its retry time (``next_attempt_at``, set by a failed attempt) is not claimed
    before then: a repeated or early task leaves it pending and returns "pending", and the retry scheduled
    with it (or the sweep) sends it when due. A temporary SMTP failure (4xx, refused or dropped connection)
    puts it back to pending and raises ``TemporaryEmailError`` (retry later, with ``backoff_seconds``),
    until ``give_up_after()`` (five days) has passed since it was queued: the first failure after that
    marks it failed. A permanent one (5xx, a refused address) marks it failed at once. The email of a
    certificate revoked since it was queued is marked failed, unsent.
    """
    return _claim_and_send(message_id)


def send_queued_message(message: OutboxMessage) -> str:
    """``send_outbox_message`` for a message loaded with its version and certificate (as the issuing task
    holds the emails it just queued), without loading them again."""
    return _claim_and_send(message.pk, message)


def _due(now: datetime) -> Q:
    """Pending messages whose retry time has come. A retry scheduled for the moment its row names may run
    a little early on a worker whose clock is behind; ``DUE_EARLY`` keeps it from being turned away."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + DUE_EARLY)


def lease_length() -> timedelta:
    """How long a claim on an email lasts unless renewed (its sender renews it every quarter of that while
    the send runs): about how long a dead sender's email waits before the sweep hands it on."""
    return timedelta(seconds=getattr(settings, "CERTIFICATE_EMAIL_LEASE_SECONDS", 60))


def _claim_and_send(message_id: int, message: OutboxMessage | None = None) -> str:
    now = timezone.now()
    token = uuid.uuid4()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, state=OutboxMessage.State.PENDING)
        .filter(_due(now))
        .update(
            state=OutboxMessage.State.SENDING,
            attempts=F("attempts") + 1,
            sending_since=now,
            lease_token=token,
            lease_expires_at=now + lease_length(),
            modified=now,
        )
    )
    if not claimed:
        return _state(message_id)
    if message is None:
        message = OutboxMessage.objects.select_related("version__certificate").get(pk=message_id)
        revoked = message.version.certificate.is_revoked
    else:  # as of now: the caller's copy predates the claim
        message.attempts, revoked_at = (
            OutboxMessage.objects.filter(pk=message_id)
            .values_list("attempts", "version__certificate__revoked_at")
            .get()
        )
        revoked = revoked_at is not None
    if revoked:  # revoked after this email was queued: never send it
        _finish(
            message_id,
            token,
            state=OutboxMessage.State.FAILED,
            last_error=_("certificate revoked before sending"),
        )
        return _state(message_id)
    with _leases.holding(message_id, token):
        return _send_held(message, token)


def _send_held(message: OutboxMessage, token: uuid.UUID) -> str:
    message_id = message.pk
    try:
        email = _build_email(message)
        if not _renew(message_id, token):  # handed on while the PDF was made: the new holder sends it
            logger.warning(
                "certificate email %s: lease lost before sending; not sent by this worker", message_id
            )
            return _state(message_id)
        _deliver(email)
    except Exception as exc:
        permanent, reason = classify_smtp_error(exc)
        if not permanent and timezone.now() - message.created >= give_up_after():
            reason = _("gave up after %(hours)d hours and %(n)d attempts: %(reason)s") % {
                "hours": int(give_up_after().total_seconds() // 3600),
                "n": message.attempts,
                "reason": reason,
            }
            _finish(message_id, token, state=OutboxMessage.State.FAILED, last_error=reason)
            logger.error("certificate email %s failed for good: %s", message_id, reason)
            return _state(message_id)
        if permanent:
            _finish(message_id, token, state=OutboxMessage.State.FAILED, last_error=reason)
            logger.warning("certificate email %s failed: %s", message_id, reason)
            return _state(message_id)
        retry_in = backoff_seconds(message.attempts)
        retried = _finish(
            message_id,
            token,
            state=OutboxMessage.State.PENDING,
            last_error=reason,
            next_attempt_at=timezone.now() + timedelta(seconds=retry_in),
        )
        if not retried:  # the email's new holder decides what happens next
            return _state(message_id)
        raise TemporaryEmailError(reason, retry_in) from exc
    _finish(message_id, token, state=OutboxMessage.State.SENT, sent_at=timezone.now(), last_error="")
    return _state(message_id)


class _LeaseKeeper:
    """Renews the leases this process holds, from a thread of its own, every quarter of a lease while their
    sends run: a lease then runs out only when its holder is gone (killed, or cut off from the database),
    never because a send is slow, and the lease can be short, so a dead worker's email is handed on soon.

    One thread per process, started at its first send (a forked worker process starts its own). It sleeps
    while nothing is held; a send shorter than a quarter of a lease costs it nothing.
    """

    def __init__(self):
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked child holds nothing and has no thread

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._held: dict[uuid.UUID, tuple[int, float]] = {}  # token: (message id, when to renew, monotonic)
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self, message_id: int, token: uuid.UUID):
        self._start()
        with self._lock:
            self._held[token] = (message_id, time.monotonic() + self._every())
        self._wake.set()
        try:
            yield
        finally:
            with self._lock:
                self._held.pop(token, None)

    @staticmethod
    def _every() -> float:
        return lease_length().total_seconds() / 4

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="outbox-lease-keeper", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                due = {token: held[0] for token, held in self._held.items() if held[1] <= now}
                next_at = min((held[1] for held in self._held.values()), default=None)
            if due:
                self._renew(due)
                with self._lock:
                    renew_at = time.monotonic() + self._every()
                    for token in due.keys() & self._held.keys():
                        self._held[token] = (self._held[token][0], renew_at)
                continue
            self._wake.wait(None if next_at is None else max(next_at - time.monotonic(), 0))
            self._wake.clear()

    @staticmethod
    def _renew(due: dict[uuid.UUID, int]) -> None:
        from django.db import connection

        try:
            OutboxMessage.objects.filter(
                pk__in=due.values(), lease_token__in=due.keys(), state=OutboxMessage.State.SENDING
            ).update(lease_expires_at=timezone.now() + lease_length())
        except Exception:  # the database may be back by the next round, well within the lease
            logger.warning(
                "could not renew the leases of certificate emails %s", list(due.values()), exc_info=True
            )
        finally:
            connection.close()  # this thread's own connection: none left open between rounds


_leases = _LeaseKeeper()


def _state(message_id: int) -> str:
    return OutboxMessage.objects.filter(pk=message_id).values_list("state", flat=True).first() or "missing"


def _renew(message_id: int, token: uuid.UUID) -> bool:
    """Extend the lease if this token still holds it; False if it was handed on."""
    now = timezone.now()
    return bool(
        OutboxMessage.objects.filter(
            pk=message_id, state=OutboxMessage.State.SENDING, lease_token=token
        ).update(lease_expires_at=now + lease_length())
    )


def _finish(message_id: int, token: uuid.UUID, **fields) -> bool:
    """Record the outcome of a send if this token still holds the lease; False (and nothing written) if
    the email was handed to another sender meanwhile."""
    done = OutboxMessage.objects.filter(
        pk=message_id, state=OutboxMessage.State.SENDING, lease_token=token
    ).update(sending_since=None, lease_token=None, lease_expires_at=None, modified=timezone.now(), **fields)
    if not done:
        logger.warning(
            "certificate email %s: lease lost before its outcome (%s) was recorded; another sender has it",
            message_id,
            fields.get("state"),
        )
    return bool(done)


_smtp = threading.local()


def _deliver(email: EmailMultiAlternatives) -> None:
    """Send over this worker's open connection to the mail server (opened once, not once per email); a
    connection the server has since closed is replaced once."""
    key = tuple(
        getattr(settings, name, None)
        for name in (
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_HOST_USER",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
        )
    )
    cached = getattr(_smtp, "connection", None)
    reused = cached is not None and cached[0] == key
    if not reused:
        if cached is not None:
            cached[1].close()
        _smtp.connection = (key, get_connection())
        _smtp.connection[1].open()
    connection = _smtp.connection[1]
    email.connection = connection
    try:
        email.send()
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException) as exc:
        _smtp.connection = None
        connection.close()
        # A server closing an idle connection either just drops it or, like Postfix and Exim, first says
        # 421, which smtplib reports as the reply to our next command.
        hung_up = not isinstance(exc, smtplib.SMTPResponseException) or exc.smtp_code == 421
        if not (reused and hung_up):
            raise
        _deliver(email)  # one fresh try
    except Exception:
        _smtp.connection = None
        connection.close()
        raise


def give_up_after() -> timedelta:
    """How long after it was queued an email the mail server keeps deferring is retried (five days)."""
    return timedelta(hours=getattr(settings, "CERTIFICATE_EMAIL_GIVE_UP_AFTER_HOURS", 120))


def alert_after() -> timedelta:
    """How long after it was queued an email still undelivered is reported to staff (four hours)."""
    return timedelta(hours=getattr(settings, "CERTIFICATE_EMAIL_ALERT_AFTER_HOURS", 4))


def backoff_seconds(attempts: int) -> int:
    """``CERTIFICATE_EMAIL_BACKOFF_SECONDS`` (30 s), then doubling: 1 min, 2 min, ... at most
    ``CERTIFICATE_EMAIL_BACKOFF_MAX_SECONDS`` (30 min), so an email goes out within half an hour of the
    mail server coming back, however long it was down."""
    first = getattr(settings, "CERTIFICATE_EMAIL_BACKOFF_SECONDS", 30)
    most = getattr(settings, "CERTIFICATE_EMAIL_BACKOFF_MAX_SECONDS", 1800)
    return min(first * 2 ** min(max(attempts - 1, 0), 32), most)


def classify_smtp_error(exc: Exception) -> tuple[bool, str]:
    """``(permanent, reason)``: 5xx replies are permanent; 4xx, refused or dropped connections temporary."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        reply = "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )
        return all(code >= 500 for code in codes), f"recipient refused: {reply}"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return exc.smtp_code >= 500, f"{exc.smtp_code} {text}"
    if isinstance(exc, (smtplib.SMTPException, ConnectionError, socket.timeout, OSError)):
        return False, f"{exc.__class__.__name__}: {exc}"
    return False, f"{exc.__class__.__name__}: {exc}"


def _build_email(message: OutboxMessage) -> EmailMultiAlternatives:
    from learners.certificate_pdf import render_certificate

    version = message.version
    certificate = version.certificate
    context = {
        "snapshot": version.snapshot,
        "version": version,
        "dashboard_url": settings.SITE_URL + "/me/",
        "verification_url": version.snapshot["verification_url"],
    }
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=render_to_string("learners/email/certificate.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"X-CME-Certificate": certificate.code, "X-CME-Message": str(message.pk)},
    )
    email.attach_alternative(render_to_string("learners/email/certificate.html", context), "text/html")
    email.attach(f"certificate-{certificate.code}.pdf", render_certificate(version), "application/pdf")
    return email


# --- the sweep ---------------------------------------------------------------------------------------------


def sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Finish what lost messages left behind; safe to run any number of times, concurrently.

    Issues certificates missing for claims, re-queues emails whose task never ran (broker down, worker
    lost), and releases emails whose sender's lease ran out (a worker that died), re-queueing them at once.
    Returns counts of each.
    """
    now = now or timezone.now()
    missing = list(
        Enrollment.objects.filter(
            status=Enrollment.Status.COMPLETED,
            certificate__isnull=True,
            claim__claimed_at__lte=now - SWEEP_GRACE,
        ).values_list("pk", flat=True)[:limit]
    )
    for enrollment_id in missing:
        _dispatch("issue_certificate_task", enrollment_id)
    # A lease that ran out belongs to a sender that died (or lost the database): its token no longer
    # lets it send or finish. The email is due at once, whoever's clock the task that takes it reads.
    released = OutboxMessage.objects.filter(
        state=OutboxMessage.State.SENDING, lease_expires_at__lte=now
    ).update(
        state=OutboxMessage.State.PENDING,
        sending_since=None,
        lease_token=None,
        lease_expires_at=None,
        next_attempt_at=None,
        modified=now,
    )
    due = list(
        OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now - SWEEP_GRACE))
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        _dispatch("send_certificate_email_task", message_id)
    return {"certificates": len(missing), "released": released, "emails": len(due)}


def overdue_emails(*, now: datetime | None = None):
    """Certificate emails still undelivered ``alert_after()`` after they were queued."""
    return OutboxMessage.objects.filter(
        state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.SENDING],
        created__lte=(now or timezone.now()) - alert_after(),
    )


def alert_undelivered_emails(*, now: datetime | None = None, limit: int = 200) -> int:
    """Tell staff, once per email, about certificate emails still undelivered ``alert_after()`` (4 hours)
    after they were queued; returns how many this call reported.

    Each is marked (``alerted_at``) in a short transaction that skips rows another run holds, so running
    this twice, or concurrently, reports each email once. The marked ones are then reported in one logged
    error (for whoever watches the logs; it gets out even when the mail server is down) and one email to
    the accreditation staff, sent best-effort: a failed alert email is logged, not retried, as the emails
    it reports are still being retried and the logged error stands. Nothing is dispatched.
    """
    now = now or timezone.now()
    undelivered = overdue_emails(now=now).filter(alerted_at__isnull=True)
    with transaction.atomic():
        ids = list(
            undelivered.select_for_update(skip_locked=True)
            .order_by("created")
            .values_list("pk", flat=True)[:limit]
        )
        OutboxMessage.objects.filter(pk__in=ids).update(alerted_at=now)
    if not ids:
        return 0
    messages = list(
        OutboxMessage.objects.filter(pk__in=ids)
        .select_related("version__certificate__enrollment__activity__provider")
        .order_by("created")
    )
    logger.error(
        "%d certificate email(s) undelivered %d hours or more after they were queued, still retrying until "
        "%d hours: %s",
        len(messages),
        alert_after().total_seconds() // 3600,
        give_up_after().total_seconds() // 3600,
        "; ".join(
            f"#{m.pk} {m.version.certificate.code} queued {m.created:%Y-%m-%d %H:%M} UTC, {m.attempts} "
            f"attempts, last error: {m.last_error or '-'}"
            for m in messages
        ),
    )
    _email_alert(messages, now=now)
    return len(messages)


def _email_alert(messages: list[OutboxMessage], *, now: datetime) -> None:
    from django.contrib.auth import get_user_model

    from portal.scoping import ACCREDITATION_STAFF_GROUP

    recipients = list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=ACCREDITATION_STAFF_GROUP)
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    if not recipients:
        return
    context = {
        "messages": messages,
        "hours": int(alert_after().total_seconds() // 3600),
        "give_up_hours": int(give_up_after().total_seconds() // 3600),
        "outbox_url": settings.SITE_URL + reverse("admin:learners_outboxmessage_changelist") + "?overdue=yes",
        "now": now,
    }
    email = EmailMultiAlternatives(
        subject=_("Certificate emails undelivered for %(hours)d hours: %(n)d")
        % {"hours": context["hours"], "n": len(messages)},
        body=render_to_string("emails/undelivered_certificates.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    email.attach_alternative(render_to_string("emails/undelivered_certificates.html", context), "text/html")
    try:
        email.send()
    except Exception:  # the mail server that defers the certificates may well refuse this too
        logger.error(
            "could not email staff about undelivered certificate emails %s",
            [m.pk for m in messages],
            exc_info=True,
        )


def delivery_status(certificate: Certificate) -> OutboxMessage | None:
    """The latest email of the certificate (what the learner's dashboard shows)."""
    return OutboxMessage.objects.filter(version__certificate=certificate).order_by("-created").first()
