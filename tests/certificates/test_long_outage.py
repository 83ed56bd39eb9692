"""A mail outage longer than any retry schedule: a temporary failure keeps being retried (backoff capped at
30 minutes) for five days, staff are alerted once per email after four hours, and the email goes out
once, soon after the server takes mail again. A real SMTP server on this machine, PostgreSQL (with
``DATABASE_URL``), and the clock moved with time-machine through the periodic sweep task, run as beat
would run it."""

import email
import email.policy
import logging
import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from learners import tasks
from learners.models import OutboxMessage
from learners.services import outbox_alerts
from tests.certificates.conftest import GREYLISTED, REFUSED
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import complete, make_learner

pytestmark = pytest.mark.django_db

EVERY = timedelta(minutes=10)  # beat runs the sweep every minute; every ten keeps these tests short


def run_beat(start, until, every=EVERY) -> list[dict]:
    """Run the periodic sweep task at each moment from ``start`` to ``until``; returns its results."""
    results, moment = [], start
    while moment <= until:
        with time_machine.travel(moment, tick=False):
            results.append(tasks.sweep_certificates_task())
        moment += every
    return results


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def alerts_received(smtp_server) -> list[tuple[list[str], email.message.EmailMessage]]:
    return [
        (recipients, parsed(raw))
        for recipients, raw in smtp_server.received
        if parsed(raw)["Subject"].startswith("Certificate emails undelivered")
    ]


def test_a_weekend_outage_is_outlasted_and_the_email_goes_out_once(
    completed_enrollment, accreditor, smtp_server, now, caplog
):
    caplog.set_level(logging.ERROR, logger="learners.services.outbox")
    smtp_server.stop()  # Friday evening
    tasks.issue_certificate_task(completed_enrollment.pk)
    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts) == ("pending", 1)

    back = now + timedelta(hours=60)  # Monday morning
    run_beat(now + EVERY, back - EVERY)
    message.refresh_from_db()
    assert message.state == "pending"  # never given up on
    assert message.attempts > 60  # far past the ten the portal used to stop at
    assert "Connection refused" in message.last_error or "refused" in message.last_error.lower()
    assert message.next_attempt_at <= back + timedelta(minutes=30)  # the backoff stops growing at 30 min
    assert now + timedelta(hours=4) <= message.alerted_at < now + timedelta(hours=4) + EVERY
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len([e for e in errors if "undelivered 4 hours or more" in e]) == 1  # one alert, not a flood
    assert len([e for e in errors if e.startswith("could not email staff")]) == 1  # the server was down
    assert smtp_server.received == []

    smtp_server.start()
    run_beat(back, back + timedelta(hours=2))
    message.refresh_from_db()
    assert (message.state, message.last_error, message.lease_token) == ("sent", "", None)
    assert message.sent_at <= back + timedelta(minutes=30) + EVERY
    assert [recipients for recipients, _ in smtp_server.received] == [["learner-a@example.com"]]


def test_staff_get_one_alert_per_email_still_deferred_after_four_hours(
    seed_activity, accreditor, staff_a, smtp_server, now
):
    """Only the learner's mail is deferred (greylisted, 451): the alert reaches accreditation staff, once
    for each email, and provider staff are not mailed."""
    learner = make_learner(UserFactory(email=GREYLISTED))
    first = complete(learner, seed_activity)
    tasks.issue_certificate_task(first.pk)
    later = now + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        second = complete(learner, ActivityFactory(provider=seed_activity.provider, title="Second activity"))
        tasks.issue_certificate_task(second.pk)

    results = run_beat(now + EVERY, now + timedelta(hours=7))
    assert sum(r["alerted"] for r in results) == 2
    alerts = alerts_received(smtp_server)
    assert [recipients for recipients, _ in alerts] == [["accreditor@example.com"]] * 2
    codes = [first.certificate.code, second.certificate.code]
    for (_, alert), code, other in zip(alerts, codes, reversed(codes), strict=True):
        text = alert.get_body(preferencelist=("plain",)).get_content()
        assert alert["Subject"] == "Certificate emails undelivered for 4 hours: 1"
        assert code in text and other not in text  # each email reported in one alert only
        assert GREYLISTED in text
        assert "451 4.7.1 Greylisted" in text
        assert "until 120 hours after each was queued" in text
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"pending"}

    assert outbox_alerts.alert_undelivered_emails() == 0  # safe to run again
    with time_machine.travel(now + timedelta(days=2), tick=False):
        assert outbox_alerts.alert_undelivered_emails() == 0
    assert len(alerts_received(smtp_server)) == 2


def test_a_refused_address_fails_at_once_and_raises_no_alert(seed_activity, accreditor, smtp_server, now):
    enrollment = complete(make_learner(UserFactory(email=REFUSED)), seed_activity)
    tasks.issue_certificate_task(enrollment.pk)
    run_beat(now + EVERY, now + timedelta(hours=5))
    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts, message.alerted_at) == ("failed", 1, None)
    assert "550" in message.last_error
    assert smtp_server.received == []


def test_nothing_to_alert_about_costs_no_email(completed_enrollment, accreditor, mailoutbox, now):
    tasks.issue_certificate_task(completed_enrollment.pk)  # sent at once
    mailoutbox.clear()
    with time_machine.travel(now + timedelta(days=1), tick=False):
        assert outbox_alerts.alert_undelivered_emails() == 0
    assert mailoutbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_alert_runs_report_each_email_once(seed_activity, accreditor, mailoutbox):
    for n in range(12):
        complete(make_learner(UserFactory(email=f"deferred-{n}@example.com")), seed_activity)
    # Committed for real, the claims issued and sent their emails; make them twelve emails still waiting.
    OutboxMessage.objects.update(
        state="pending", sent_at=None, attempts=3, created=timezone.now() - timedelta(hours=5)
    )
    mailoutbox.clear()
    start = threading.Barrier(4)
    reported: list[int] = []

    def run():
        try:
            start.wait(timeout=30)
            reported.append(outbox_alerts.alert_undelivered_emails(limit=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    reported.append(outbox_alerts.alert_undelivered_emails())  # whatever the limit left

    assert sum(reported) == 12
    assert not OutboxMessage.objects.filter(alerted_at__isnull=True).exists()
    listed = [line for m in mailoutbox for line in m.body.splitlines() if line.startswith("- ")]
    assert sorted(listed) == sorted(set(listed))
    assert len(listed) == 12


def test_the_alert_links_to_the_outbox_filtered_to_the_overdue_emails(
    seed_activity, accreditor, client, mailoutbox, now
):
    learner = make_learner(UserFactory())
    late = complete(learner, seed_activity)
    recent = complete(learner, ActivityFactory(provider=seed_activity.provider, title="Second activity"))
    for enrollment in (late, recent):
        tasks.issue_certificate_task(enrollment.pk)
    OutboxMessage.objects.update(state="pending", sent_at=None)  # as if the mail server never took them
    OutboxMessage.objects.filter(version__certificate__enrollment=late).update(
        created=now - timedelta(hours=5)
    )
    mailoutbox.clear()
    assert outbox_alerts.alert_undelivered_emails() == 1

    link = re.search(r"The outbox: (\S+)", mailoutbox[0].body)[1]
    client.force_login(accreditor)
    page = client.get(link.removeprefix(settings.SITE_URL))
    assert page.status_code == 200
    overdue = OutboxMessage.objects.get(version__certificate__enrollment=late)
    assert list(page.context["cl"].result_list) == [overdue]
    assert "Undelivered after 4 hours" in page.text
    detail = client.get(f"/admin/learners/outboxmessage/{overdue.pk}/change/")
    assert "Staff alerted at" in detail.text and "Lease expires at" in detail.text
