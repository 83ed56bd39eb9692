"""The daily deadline digest: each provider's staff get, once a day, what is overdue or due within a week
in their own providers' ledger, and nothing about anyone else's."""

import smtplib
import socket
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from celery.schedules import crontab
from django.core.mail.backends import locmem
from django.db import connection
from django.utils import timezone

from learners.models import DeadlineDigest, OutboxMessage, ReportingEntry
from learners.services import dispatch, outbox, outbox_alerts
from learners.services.reporting import digest, exports, ledger
from learners.tasks import send_deadline_digests_task, send_email_task
from portal.celery import app
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import ABIM_ID, BIRTH, EPROFILE_ID, complete, make_learner
from tests.ledger.conftest import make_activity

pytestmark = pytest.mark.django_db

TODAY = date(2025, 3, 10)
LEDGER_URL = "http://testserver/admin/learners/reportingentry/"


@pytest.fixture(autouse=True)
def frozen():
    """The clock stopped on the morning of TODAY (the job runs at 11:00 UTC)."""
    with time_machine.travel(datetime.combine(TODAY, time(11), tzinfo=UTC), tick=False) as traveller:
        yield traveller


def digest_activity(provider, title):
    return make_activity(
        provider,
        title=title,
        credits={"ama_pra_1": "1.50", "pharmacy": "1.50"},
        moc=[("ABIM", "medical_knowledge", "1.50")],
    )


@pytest.fixture
def activity(provider_a):
    return digest_activity(provider_a, "Intrathecal drug delivery")


@pytest.fixture
def activity_b(provider_b):
    return digest_activity(provider_b, "Provider B pain course")


def row(activity, due_on: date, last_name: str, *, destination="accreditor", identified=True):
    """One ledger row of a new learner named ``last_name`` that falls due on ``due_on``: a physician's MOC
    line (30 days), or a pharmacist's CPE Monitor line (60 days), ready, or waiting when not
    ``identified``."""
    days = 30 if destination == "accreditor" else 60
    if destination == "accreditor":
        user = make_learner(
            UserFactory(),
            first_name="Dr",
            last_name=last_name,
            consent=True,
            birth=BIRTH if identified else None,
            board_ids=[("ABIM", ABIM_ID)],
        )
        moc = ["ABIM"]
    else:
        user = make_learner(
            UserFactory(),
            profession="pharmacist",
            first_name="Dr",
            last_name=last_name,
            consent=identified,
            birth=BIRTH if identified else None,
            eprofile=EPROFILE_ID if identified else "",
        )
        moc = []
    completed = datetime.combine(due_on - timedelta(days=days), time(9), tzinfo=UTC)
    complete(user, activity, moc_boards=moc, at=completed)
    entry = ReportingEntry.objects.get(learner=user)
    assert entry.due_on == due_on
    assert entry.state == ("ready" if identified else "waiting")
    return entry


def names(entries) -> set[str]:
    return {e.learner.last_name for e in entries}


def bodies(message) -> tuple[str, str]:
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return message.body, html


@pytest.fixture
def boundary_rows(activity):
    """Rows of provider A on each side of each boundary, for both registries."""
    day = timedelta(days=1)
    return {
        "overdue": [
            row(activity, TODAY - day, "MocYesterday"),
            row(activity, TODAY - day, "CpeYesterday", destination="cpe_monitor"),
            row(activity, TODAY - 40 * day, "CpeLongAgo", destination="cpe_monitor", identified=False),
        ],
        "due_soon": [
            row(activity, TODAY, "MocToday"),
            row(activity, TODAY + 7 * day, "MocInAWeek"),
            row(activity, TODAY + 7 * day, "CpeInAWeek", destination="cpe_monitor"),
        ],
        "later": [
            row(activity, TODAY + 8 * day, "MocInEightDays"),
            row(activity, TODAY + 8 * day, "CpeInEightDays", destination="cpe_monitor"),
        ],
    }


# --- what counts as overdue and due soon -----------------------------------------------------------------------


def test_rows_are_overdue_due_soon_or_later_at_the_boundaries(boundary_rows):
    overdue, due_soon = ledger.unreported(ReportingEntry.objects.all(), today=TODAY)

    assert names(overdue) == names(boundary_rows["overdue"])
    assert names(due_soon) == names(boundary_rows["due_soon"])


def test_today_is_the_portals_date_by_default(boundary_rows, frozen):
    overdue, due_soon = ledger.unreported(ReportingEntry.objects.all())
    assert names(due_soon) == names(boundary_rows["due_soon"])

    frozen.shift(timedelta(days=1))  # a day later, today's row is overdue and the eight-day rows are due soon
    overdue, due_soon = ledger.unreported(ReportingEntry.objects.all())
    assert names(overdue) == names(boundary_rows["overdue"]) | {"MocToday"}
    assert names(due_soon) == {"MocInAWeek", "CpeInAWeek", "MocInEightDays", "CpeInEightDays"}


def test_exported_and_settled_rows_are_not_listed(activity, provider_a, staff_a):
    exported = row(activity, TODAY - timedelta(days=2), "Exported")
    accepted = row(activity, TODAY, "Accepted")
    exports.export_entries(
        entries=ReportingEntry.objects.filter(pk__in=[exported.pk, accepted.pk]),
        destination="accreditor",
        by=staff_a,
        description="test",
        provider=provider_a,
    )
    ledger.settle_entries(entries=[accepted], accepted=True, by=staff_a)
    still_open = row(activity, TODAY, "StillOpen")

    overdue, due_soon = ledger.unreported(ReportingEntry.objects.all(), today=TODAY)

    assert (list(overdue), list(due_soon)) == ([], [still_open])


# --- the email -------------------------------------------------------------------------------------------------


def test_the_digest_lists_each_providers_counts_and_rows_with_the_ledger_link(
    boundary_rows, staff_a, mailoutbox
):
    assert digest.send_deadline_digests() == 1

    (message,) = mailoutbox
    assert message.to == ["staff-a@example.com"]
    assert message.subject == "Reporting deadlines: 6 rows to report"
    text, html = bodies(message)
    title = "Intrathecal drug delivery"
    for body in (text, html):
        assert "Provider A" in body
        assert "Provider B" not in body
        assert LEDGER_URL in body
        for entry in boundary_rows["later"]:
            assert entry.learner.last_name not in body
    assert "Overdue: 3" in text
    assert "Due within a week: 3" in text
    assert f"- due 2025-03-09: Accreditor (ACCME PARS), {title}, Dr MocYesterday (Ready to report)" in text
    assert f"- due 2025-03-09: CPE Monitor (NABP), {title}, Dr CpeYesterday (Ready to report)" in text
    assert (
        f"- due 2025-01-29: CPE Monitor (NABP), {title}, Dr CpeLongAgo (Waiting for consent or details: "
        "Waiting for: birth month and day, NABP e-Profile ID.)"
    ) in text
    assert f"- due 2025-03-10: Accreditor (ACCME PARS), {title}, Dr MocToday (Ready to report)" in text
    assert f"- due 2025-03-17: Accreditor (ACCME PARS), {title}, Dr MocInAWeek (Ready to report)" in text
    assert f"- due 2025-03-17: CPE Monitor (NABP), {title}, Dr CpeInAWeek (Ready to report)" in text
    # overdue rows come first, oldest first
    assert text.index("CpeLongAgo") < text.index("MocYesterday") < text.index("MocToday")

    assert "<strong>Overdue: 3</strong> · Due within a week: 3" in html
    assert f"Overdue since 2025-03-09: Accreditor (ACCME PARS), {title}, Dr MocYesterday" in html
    assert f"Due 2025-03-17: CPE Monitor (NABP), {title}, Dr CpeInAWeek (Ready to report)" in html
    assert "Waiting for: birth month and day, NABP e-Profile ID." in html
    assert f'<a href="{LEDGER_URL}">' in html

    assert DeadlineDigest.objects.get(user=staff_a).rows == 6


def test_html_in_titles_is_escaped_in_the_html_body_only(provider_a, staff_a, mailoutbox):
    activity = digest_activity(provider_a, "Pain <b>&</b> spine")
    row(activity, TODAY, "Escaped")

    digest.send_deadline_digests()

    text, html = bodies(mailoutbox[0])
    assert "Pain <b>&</b> spine" in text
    assert "Pain &lt;b&gt;&amp;&lt;/b&gt; spine" in html


def test_a_long_list_shows_twenty_rows_and_says_how_many_more(activity, staff_a, mailoutbox):
    for n in range(22):
        row(activity, TODAY - timedelta(days=1 + n), f"Overdue{n:02d}")

    digest.send_deadline_digests()

    text, html = bodies(mailoutbox[0])
    for body in (text, html):
        assert "Overdue: 22" in body
        assert "Overdue21" in body and "Overdue02" in body  # the twenty most overdue come first...
        assert "Overdue01" not in body and "Overdue00" not in body
        assert "and 2 more" in body  # ...and the rest are counted, in both bodies
    assert mailoutbox[0].subject == "Reporting deadlines: 22 rows to report"


def test_every_active_staff_member_of_the_provider_gets_one(activity, staff_a, viewer_a, mailoutbox):
    row(activity, TODAY, "Due")
    MembershipFactory(provider=activity.provider, user__email="not-staff@example.com", user__is_staff=False)
    MembershipFactory(provider=activity.provider, user__email="gone@example.com", user__is_active=False)

    assert digest.send_deadline_digests() == 2

    assert sorted(m.to[0] for m in mailoutbox) == ["staff-a@example.com", "viewer-a@example.com"]


def test_nothing_due_sends_nothing(activity, staff_a, mailoutbox):
    row(activity, TODAY + timedelta(days=8), "Later")

    assert digest.send_deadline_digests() == 0

    assert mailoutbox == []
    assert not DeadlineDigest.objects.exists()


# --- once per person per day -----------------------------------------------------------------------------------


def test_running_twice_in_a_day_sends_nothing_more(boundary_rows, staff_a, mailoutbox):
    assert send_deadline_digests_task.delay().get() == 1
    assert send_deadline_digests_task.delay().get() == 0

    assert len(mailoutbox) == 1
    assert list(DeadlineDigest.objects.values_list("user", "sent_on")) == [(staff_a.pk, TODAY)]


def test_the_next_day_brings_the_next_digest(boundary_rows, staff_a, mailoutbox, frozen):
    assert send_deadline_digests_task() == 1
    frozen.shift(timedelta(days=1))

    assert send_deadline_digests_task() == 1

    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject == "Reporting deadlines: 8 rows to report"  # the eight-day rows joined
    assert sorted(DeadlineDigest.objects.values_list("sent_on", flat=True)) == [
        TODAY,
        TODAY + timedelta(days=1),
    ]


# --- each provider's staff see their own provider --------------------------------------------------------------


@pytest.fixture
def both_providers(activity, activity_b):
    row(activity, TODAY - timedelta(days=1), "AlphaLearner")
    row(activity_b, TODAY + timedelta(days=2), "BetaLearner", destination="cpe_monitor")
    row(activity_b, TODAY + timedelta(days=3), "GammaLearner")


def test_each_providers_staff_see_only_their_provider(both_providers, staff_a, staff_b, mailoutbox):
    assert digest.send_deadline_digests() == 2

    by_recipient = {m.to[0]: m for m in mailoutbox}
    a_text, a_html = bodies(by_recipient["staff-a@example.com"])
    b_text, b_html = bodies(by_recipient["staff-b@example.com"])
    for body in (a_text, a_html):
        assert "Provider A" in body and "AlphaLearner" in body
        assert "Provider B" not in body and "BetaLearner" not in body and "GammaLearner" not in body
    for body in (b_text, b_html):
        assert "Provider B" in body and "BetaLearner" in body and "GammaLearner" in body
        assert "Provider A" not in body and "AlphaLearner" not in body
    assert by_recipient["staff-b@example.com"].subject == "Reporting deadlines: 2 rows to report"


def test_staff_of_a_provider_with_nothing_due_get_nothing(activity, staff_a, staff_b, mailoutbox):
    row(activity, TODAY, "OnlyA")

    digest.send_deadline_digests()

    assert [m.to for m in mailoutbox] == [["staff-a@example.com"]]


def test_a_member_of_both_providers_gets_one_email_covering_both(
    both_providers, provider_a, provider_b, mailoutbox
):
    both = MembershipFactory(provider=provider_a, user__email="both@example.com").user
    MembershipFactory(provider=provider_b, user=both)

    assert digest.send_deadline_digests() == 1

    (message,) = mailoutbox
    assert message.to == ["both@example.com"]
    assert message.subject == "Reporting deadlines: 3 rows to report"
    text, html = bodies(message)
    for body in (text, html):
        assert body.index("Provider A") < body.index("AlphaLearner") < body.index("Provider B")
        assert body.index("Provider B") < body.index("BetaLearner")
        assert "GammaLearner" in body
    assert "Overdue: 1" in text and "Overdue: 0" in text
    assert DeadlineDigest.objects.get(user=both).rows == 3


# --- through the outbox: sent once, retried, handed on when a worker dies ------------------------------------

EVENING = timedelta(hours=5)  # past the four hours after which staff hear of undelivered certificate email


class WorkerDied(BaseException):
    """The worker process is killed here: nothing after this point runs, nothing is caught."""


class DyingMailServer(locmem.EmailBackend):
    """The worker dies while the mail server takes the email."""

    def send_messages(self, messages):
        raise WorkerDied


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def mail_server_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


def recipients(mailoutbox) -> list[str]:
    return sorted(m.to[0] for m in mailoutbox)


def digest_emails():
    return OutboxMessage.objects.filter(kind=OutboxMessage.Kind.DEADLINE_DIGEST)


NOTHING_SWEPT = outbox.Swept(released=0, queued=0)


def test_a_worker_dying_after_recording_the_digests_leaves_them_to_the_sweep(
    boundary_rows, activity, staff_a, viewer_a, monkeypatch, mailoutbox
):
    def killed(**kwargs):
        raise WorkerDied

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "send_now", killed)
        with pytest.raises(WorkerDied):
            send_deadline_digests_task()
    assert mailoutbox == []
    assert DeadlineDigest.objects.count() == 2  # recorded, each with its email waiting in the outbox
    assert set(digest_emails().values_list("state", "attempts")) == {("pending", 0)}

    assert send_deadline_digests_task() == 0  # the task, redelivered, finds the day recorded
    assert mailoutbox == []
    row(activity, TODAY, "JoinedAfterTheDigest")  # not in the digest: it lists the day as it was recorded

    now = timezone.now()
    assert outbox.sweep(now=now) == NOTHING_SWEPT  # just queued: its own sender may still come
    assert outbox.sweep(now=now + dispatch.SWEEP_GRACE) == outbox.Swept(released=0, queued=2)
    assert recipients(mailoutbox) == ["staff-a@example.com", "viewer-a@example.com"]
    assert outbox.sweep(now=now + dispatch.SWEEP_GRACE) == NOTHING_SWEPT
    assert send_deadline_digests_task() == 0
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert message.subject == "Reporting deadlines: 6 rows to report"
        text, html = bodies(message)
        assert "Overdue: 3" in text and "MocYesterday" in text
        assert "JoinedAfterTheDigest" not in text and "JoinedAfterTheDigest" not in html
    assert set(digest_emails().values_list("state", "attempts")) == {("sent", 1)}


def test_a_worker_dying_mid_send_leaves_a_lease_the_sweep_hands_on(
    boundary_rows, staff_a, settings, mailoutbox, frozen
):
    settings.EMAIL_BACKEND = f"{__name__}.DyingMailServer"
    with pytest.raises(WorkerDied):
        send_deadline_digests_task()
    message = digest_emails().get()
    expires = timezone.now() + outbox.lease_length()
    assert (message.state, message.attempts, message.lease_expires_at) == ("sending", 1, expires)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_deadline_digests_task() == 0
    assert outbox.sweep(now=expires - timedelta(seconds=1)) == NOTHING_SWEPT  # the sender may be alive
    frozen.move_to(expires)
    assert outbox.sweep() == outbox.Swept(released=1, queued=1)
    assert outbox.sweep() == NOTHING_SWEPT
    assert recipients(mailoutbox) == ["staff-a@example.com"]
    message.refresh_from_db()
    assert (message.state, message.attempts, message.lease_token) == ("sent", 2, None)


def test_a_temporary_mail_failure_is_retried_and_each_digest_sent_once(
    boundary_rows, staff_a, viewer_a, settings, mailoutbox, frozen
):
    mail_server_down(settings)
    assert send_deadline_digests_task() == 2  # recorded, each with its email; nothing raised
    retry_at = timezone.now() + timedelta(seconds=30)
    assert set(digest_emails().values_list("state", "attempts", "next_attempt_at")) == {
        ("pending", 1, retry_at)
    }
    assert all("refused" in m.last_error.lower() for m in digest_emails())
    assert send_deadline_digests_task() == 0  # the day is recorded: a second run adds nothing
    assert OutboxMessage.objects.count() == 2

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    frozen.move_to(retry_at)
    for message in digest_emails():  # the retries the failures scheduled
        assert send_email_task(message.pk) == "sent"
        assert send_email_task(message.pk) == "sent"  # a duplicate of the retry sends nothing more
    assert outbox.sweep(now=retry_at + dispatch.SWEEP_GRACE) == NOTHING_SWEPT
    assert recipients(mailoutbox) == ["staff-a@example.com", "viewer-a@example.com"]
    assert {m.subject for m in mailoutbox} == {"Reporting deadlines: 6 rows to report"}
    assert set(digest_emails().values_list("state", "attempts", "last_error")) == {("sent", 2, "")}


def test_a_refused_address_fails_the_digest_at_once(boundary_rows, provider_a, mailoutbox, monkeypatch):
    MembershipFactory(provider=provider_a, user__email="gone-away@example.com")

    def refused(email):
        raise smtplib.SMTPRecipientsRefused({"gone-away@example.com": (550, b"5.1.1 No such user")})

    monkeypatch.setattr(outbox, "_deliver", refused)
    assert digest.send_deadline_digests() == 1
    message = digest_emails().get()
    assert (message.state, message.attempts) == ("failed", 1)
    assert "550" in message.last_error
    assert send_deadline_digests_task() == 0  # failed for staff to see in the outbox, not sent again


def test_staff_are_not_alerted_about_a_digest_still_waiting(boundary_rows, staff_a, settings, accreditor):
    mail_server_down(settings)
    send_deadline_digests_task()
    assert digest_emails().get().state == "pending"
    assert outbox_alerts.alert_undelivered_emails(now=timezone.now() + EVENING) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_runs_record_and_send_each_digest_once(boundary_rows, staff_a, viewer_a, mailoutbox):
    mailoutbox.clear()  # committed for real here: the claims' certificates were emailed
    start = threading.Barrier(4)
    recorded: list[int] = []
    errors: list[BaseException] = []

    def run():
        try:
            start.wait(timeout=30)
            recorded.append(digest.send_deadline_digests())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sum(recorded) == 2
    assert recipients(mailoutbox) == ["staff-a@example.com", "viewer-a@example.com"]
    assert DeadlineDigest.objects.count() == 2
    assert set(digest_emails().values_list("state", "attempts")) == {("sent", 1)}


# --- the outbox in the admin ------------------------------------------------------------------------------------


def test_a_digest_in_the_outbox_is_shown_to_accreditation_staff_only(
    both_providers, staff_a, staff_b, accreditor, client
):
    """A digest belongs to no provider (a member of several gets one covering each): provider staff do not
    see one in the outbox, not even their own, nor another provider's staff theirs."""
    digest.send_deadline_digests()
    mine, theirs = (digest_emails().get(recipient=f"staff-{x}@example.com") for x in "ab")

    client.force_login(accreditor)
    page = client.get("/admin/learners/outboxmessage/?kind=deadline_digest")
    assert set(page.context["cl"].result_list) == {mine, theirs}
    detail = client.get(f"/admin/learners/outboxmessage/{mine.pk}/change/")
    assert "Deadline digest" in detail.text and "staff-a@example.com" in detail.text

    client.force_login(staff_a)
    page = client.get("/admin/learners/outboxmessage/")
    assert page.status_code == 200
    assert not {mine, theirs} & set(page.context["cl"].result_list)
    assert client.get(f"/admin/learners/outboxmessage/{theirs.pk}/change/").status_code == 404
    assert client.get(f"/admin/learners/outboxmessage/{mine.pk}/change/").status_code == 404


# --- the schedule ----------------------------------------------------------------------------------------------


def test_the_beat_schedule_runs_the_digest_task_daily():
    entry = app.conf.beat_schedule["deadline-digests"]

    assert entry["task"] == send_deadline_digests_task.name == "learners.tasks.send_deadline_digests_task"
    assert entry["task"] in app.tasks
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert (schedule.hour, schedule.minute) == ({11}, {0})  # once a day...
    assert schedule.day_of_week == set(range(7))  # ...every day
    assert schedule.day_of_month == set(range(1, 32))
    assert schedule.month_of_year == set(range(1, 13))
