"""Staff are told about emails still undelivered hours after they were queued: once per email, in a logged
error and an email to the accreditation staff. The outbox admin's "overdue" filter shows the same emails."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from learners.models import OutboxMessage
from learners.services import emails, outbox
from portal.scoping import ACCREDITATION_STAFF_GROUP

logger = logging.getLogger(__name__)


def alert_after() -> timedelta:
    """How long after it was queued an email still undelivered is reported to staff (four hours)."""
    return timedelta(hours=settings.CERTIFICATE_EMAIL_ALERT_AFTER_HOURS)


def overdue_emails(*, now: datetime | None = None) -> QuerySet[OutboxMessage]:
    """Emails (of either kind) still undelivered ``alert_after()`` after they were queued."""
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
    # A digest is staff's own email, and tomorrow's follows it: staff are alerted about learners' emails.
    undelivered = overdue_emails(now=now).filter(kind=OutboxMessage.Kind.CERTIFICATE, alerted_at__isnull=True)
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
        outbox.give_up_after().total_seconds() // 3600,
        "; ".join(
            f"#{m.pk} {emails.version_of(m).certificate.code} queued {m.created:%Y-%m-%d %H:%M} UTC, {m.attempts} "
            f"attempts, last error: {m.last_error or '-'}"
            for m in messages
        ),
    )
    _email_alert(messages, now=now)
    return len(messages)


def _email_alert(messages: list[OutboxMessage], *, now: datetime) -> None:
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
        "give_up_hours": int(outbox.give_up_after().total_seconds() // 3600),
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
