"""The daily deadline digest: each provider's staff get what is overdue or due within a week."""

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from learners.models import ReportingEntry
from learners.services.reporting.ledger import unreported


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
