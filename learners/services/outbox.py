"""The email outbox: each email the portal owes someone, sent once, retried, leased.

An email is a row queued in the transaction of the change it tells of: a certificate issued, reissued or sent
again (``certificates``), a staff member's deadline digest recorded for the day (``reporting.digest``). The
sender builds each kind's email from what its row points to (``emails.build_email``). Sending claims the row with a
conditional update just before its send, taking a lease its sender renews while the send runs, so a repeated,
duplicated or redelivered task sends nothing twice, and an email whose sender died is handed on by the sweep
once the lease runs out. A temporary failure waits (``backoff_seconds``) and is retried for days; a permanent
one fails at once. Staff are alerted once about an email the mail server has deferred for hours
(``outbox_alerts``). The email
task (``learners.tasks.send_email_task``) only calls ``send_message``.
"""

import logging
import os
import smtplib
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from learners.models import Certificate, OutboxMessage
from learners.services import dispatch, emails

logger = logging.getLogger(__name__)

DUE_EARLY = timedelta(seconds=2)  # how early a retry may come and still be let through (clock skew)


class TemporaryEmailError(Exception):
    """The mail server could not take the message now; try again in ``retry_in`` seconds."""

    def __init__(self, message: str, retry_in: int):
        super().__init__(message)
        self.retry_in = retry_in


@dataclass(frozen=True)
class Swept:
    """What one sweep did: emails whose sender's lease ran out handed back (``released``), and emails
    queued again because their task never ran or was one of those (``queued``)."""

    released: int
    queued: int


def send_message(*, message_id: int, loaded: OutboxMessage | None = None) -> str:
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

    ``loaded`` is the message as the caller already holds it with its version and certificate (the
    issuing task, with the emails it just queued), so that they are not loaded again.
    """
    return _claim_and_send(message_id, loaded)


def send_now(*, message_id: int, loaded: OutboxMessage | None = None) -> str:
    """``send_message`` for a sender that is not the email task (the issuing task sends the emails it just
    queued): a temporary failure queues the email task for the retry, after its backoff, instead of
    raising. Returns the message's state."""
    try:
        return send_message(message_id=message_id, loaded=loaded)
    except TemporaryEmailError as exc:
        dispatch.send_email(message_id, countdown=exc.retry_in)
        return OutboxMessage.State.PENDING


def _due(now: datetime) -> Q:
    """Pending messages whose retry time has come. A retry scheduled for the moment its row names may run
    a little early on a worker whose clock is behind; ``DUE_EARLY`` keeps it from being turned away."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + DUE_EARLY)


def lease_length() -> timedelta:
    """How long a claim on an email lasts unless renewed (its sender renews it every quarter of that while
    the send runs): about how long a dead sender's email waits before the sweep hands it on."""
    return timedelta(seconds=settings.CERTIFICATE_EMAIL_LEASE_SECONDS)


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
        message = OutboxMessage.objects.select_related("version__certificate", "digest").get(pk=message_id)
        revoked = message.version is not None and message.version.certificate.is_revoked
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
        email = emails.build_email(message)
        if not _renew(message_id, token):  # handed on while the PDF was made: the new holder sends it
            logger.warning("email %s: lease lost before sending; not sent by this worker", message_id)
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
            logger.error("email %s failed for good: %s", message_id, reason)
            return _state(message_id)
        if permanent:
            _finish(message_id, token, state=OutboxMessage.State.FAILED, last_error=reason)
            logger.warning("email %s failed: %s", message_id, reason)
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

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked child holds nothing and has no thread

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._held: dict[uuid.UUID, tuple[int, float]] = {}  # token: (message id, when to renew, monotonic)
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self, message_id: int, token: uuid.UUID) -> Iterator[None]:
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
        try:
            OutboxMessage.objects.filter(
                pk__in=due.values(), lease_token__in=due.keys(), state=OutboxMessage.State.SENDING
            ).update(lease_expires_at=timezone.now() + lease_length())
        except Exception:  # the database may be back by the next round, well within the lease
            logger.warning("could not renew the leases of emails %s", list(due.values()), exc_info=True)
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


def _finish(message_id: int, token: uuid.UUID, **fields: object) -> bool:
    """Record the outcome of a send if this token still holds the lease; False (and nothing written) if
    the email was handed to another sender meanwhile."""
    done = OutboxMessage.objects.filter(
        pk=message_id, state=OutboxMessage.State.SENDING, lease_token=token
    ).update(sending_since=None, lease_token=None, lease_expires_at=None, modified=timezone.now(), **fields)
    if not done:
        logger.warning(
            "email %s: lease lost before its outcome (%s) was recorded; another sender has it",
            message_id,
            fields.get("state"),
        )
    return bool(done)


class _OpenConnection(threading.local):
    """This thread's connection to the mail server, with the settings it was opened for."""

    connection: tuple[tuple, BaseEmailBackend] | None = None  # (the settings it was opened for, it)


_smtp = _OpenConnection()


def _deliver(email: EmailMultiAlternatives) -> None:
    """Send over this worker's open connection to the mail server (opened once, not once per email); a
    connection the server has since closed is replaced once."""
    key = (
        settings.EMAIL_BACKEND,
        settings.EMAIL_HOST,
        settings.EMAIL_PORT,
        settings.EMAIL_HOST_USER,
        settings.EMAIL_USE_TLS,
        settings.EMAIL_USE_SSL,
    )
    cached = _smtp.connection
    reused = cached is not None and cached[0] == key
    if cached is not None and reused:
        connection = cached[1]
    else:
        if cached is not None:
            cached[1].close()
        connection = get_connection()
        _smtp.connection = (key, connection)
        connection.open()
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
    return timedelta(hours=settings.CERTIFICATE_EMAIL_GIVE_UP_AFTER_HOURS)


def backoff_seconds(attempts: int) -> int:
    """``CERTIFICATE_EMAIL_BACKOFF_SECONDS`` (30 s), then doubling: 1 min, 2 min, ... at most
    ``CERTIFICATE_EMAIL_BACKOFF_MAX_SECONDS`` (30 min), so an email goes out within half an hour of the
    mail server coming back, however long it was down."""
    first = settings.CERTIFICATE_EMAIL_BACKOFF_SECONDS
    most = settings.CERTIFICATE_EMAIL_BACKOFF_MAX_SECONDS
    return min(first * 2 ** min(max(attempts - 1, 0), 32), most)


def classify_smtp_error(exc: Exception) -> tuple[bool, str]:
    """``(permanent, reason)``: 5xx replies are permanent; 4xx replies, refused or dropped connections,
    timeouts and anything else temporary."""
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
    return False, f"{exc.__class__.__name__}: {exc}"


# --- the sweep ---------------------------------------------------------------------------------------------


def sweep(*, now: datetime | None = None, limit: int = 500) -> Swept:
    """Finish what lost messages and dead workers left; safe to run any number of times, concurrently.

    Releases emails whose sender's lease ran out (a worker that died), and queues again the emails due
    ``dispatch.SWEEP_GRACE`` ago whose task never ran (broker down, worker lost), the released ones at once.
    A queued email is claimed by its sender, so one queued twice is sent once.
    """
    now = now or timezone.now()
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
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now - dispatch.SWEEP_GRACE))
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        dispatch.send_email(message_id)
    return Swept(released=released, queued=len(due))


def delivery_status(certificate: Certificate) -> OutboxMessage | None:
    """The latest email of the certificate (what the learner's dashboard shows)."""
    return OutboxMessage.objects.filter(version__certificate=certificate).order_by("-created").first()


def pending_emails(*, certificate: Certificate) -> list[int]:
    """The ids of the certificate's emails waiting to be sent."""
    return list(
        OutboxMessage.objects.filter(
            version__certificate=certificate, state=OutboxMessage.State.PENDING
        ).values_list("pk", flat=True)
    )
