"""Staff fixing attendance records through the services: adding (a learner, an email, a sign-in sheet),
removing, extending a claim window, the fixed code; each previewed with ``dry_run`` and audited."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.core import mail

from attendance.models import Attendance, ClaimWindowExtension, Invitation, SessionCheckin
from attendance.services import records
from learners import services
from learners.models import Enrollment
from portal.lib.dry_run import dry_run
from portal.models import AuditEntry
from tests.attendance.conftest import sessions_of
from tests.factories import UserFactory
from tests.helpers import attend

pytestmark = pytest.mark.django_db


def test_staff_add_attendance_for_a_learner_enrolling_them_once(rounds, learner_a, staff_a):
    first, second, _ = sessions_of(rounds)

    summary = records.add_attendance(
        learner=learner_a, sessions=[first, second], by=staff_a, reason="Forgot to check in"
    )
    again = records.add_attendance(learner=learner_a, sessions=[first], by=staff_a, reason="Twice")

    rows = Attendance.objects.filter(enrollment__learner=learner_a).order_by("session__start")
    assert [(a.session, a.source, a.recorded_by, a.reason) for a in rows] == [
        (first, "staff", staff_a, "Forgot to check in"),
        (second, "staff", staff_a, "Forgot to check in"),
    ]
    assert Enrollment.objects.filter(learner=learner_a, activity=rounds).count() == 1
    assert summary.text(preview=False).startswith("1 learner got 2 sessions.")
    assert (again.sessions_added, again.already) == (0, 1)
    entries = AuditEntry.objects.filter(action="attendance.recorded")
    assert entries.count() == 2
    assert {e.data["reason"] for e in entries} == {"Forgot to check in"}
    assert {e.actor for e in entries} == {staff_a}


def test_a_reason_is_required_and_nothing_is_written_without_one(rounds, learner_a, staff_a):
    with pytest.raises(records.RecordsError) as refused:
        records.add_attendance(learner=learner_a, sessions=sessions_of(rounds), by=staff_a, reason="  ")

    assert "reason" in refused.value.errors
    assert not Attendance.objects.exists()


def test_sessions_of_another_activity_are_refused(rounds, rounds_b, learner_a, staff_a):
    with pytest.raises(records.RecordsError) as refused:
        records.add_attendance(
            learner=learner_a,
            sessions=[sessions_of(rounds)[0], sessions_of(rounds_b)[0]],
            by=staff_a,
            reason="Mixed up",
        )
    assert "sessions" in refused.value.errors
    assert not Attendance.objects.exists()


def test_the_preview_says_what_would_happen_and_writes_nothing(
    rounds, learner_a, staff_a, django_capture_on_commit_callbacks
):
    first, second, _ = sessions_of(rounds)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        summary = dry_run(
            lambda: records.add_by_email(
                activity=rounds, email="new@example.com", sessions=[first, second], by=staff_a, reason="Sheet"
            )
        )

    assert "1 learner would get 2 sessions. 1 would be invited by email." in summary.text(preview=True)
    assert not Invitation.objects.exists()
    assert not AuditEntry.objects.exists()
    assert callbacks == []
    assert mail.outbox == []


def test_an_email_without_an_account_is_invited_once_and_emailed_once(
    rounds, staff_a, django_capture_on_commit_callbacks
):
    first, second, _ = sessions_of(rounds)
    with django_capture_on_commit_callbacks(execute=True):
        records.add_by_email(
            activity=rounds,
            email="New@Example.com",
            name="Nia New",
            sessions=[first],
            by=staff_a,
            reason="Sheet",
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = records.add_by_email(
            activity=rounds, email="new@example.com", sessions=[first, second], by=staff_a, reason="Sheet 2"
        )
    invitation = Invitation.objects.get()

    assert sorted(s.pk for s in invitation.sessions.all()) == [first.pk, second.pk]
    assert (again.invited, again.already, again.sessions_added) == ([], 1, 1)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["New@Example.com"]
    assert "Medicine grand rounds" in mail.outbox[0].body
    assert mail.outbox[0].alternatives[0][1] == "text/html"
    assert invitation.emailed_at is not None
    assert records.send_invitation(invitation_id=invitation.pk) is False  # never twice
    assert len(mail.outbox) == 1
    entry = AuditEntry.objects.get(action="invitation.sent")
    assert (entry.actor, entry.data["reason"]) == (staff_a, "Sheet")


def test_an_email_of_an_existing_account_attaches_at_once(rounds, learner_a, staff_a):
    first = sessions_of(rounds)[0]
    records.add_by_email(
        activity=rounds, email="LEARNER-A@example.com", sessions=[first], by=staff_a, reason="Sheet"
    )
    assert not Invitation.objects.exists()
    assert Attendance.objects.get().enrollment.learner == learner_a


def test_confirming_the_email_turns_the_invitation_into_attendance_once(
    rounds, staff_a, django_capture_on_commit_callbacks
):
    first, second, _ = sessions_of(rounds)
    with django_capture_on_commit_callbacks(execute=True):
        records.add_by_email(
            activity=rounds, email="new@example.com", sessions=[first, second], by=staff_a, reason="Sheet"
        )
    user = UserFactory(email="new@example.com")
    address = EmailAddress.objects.create(user=user, email="new@example.com", verified=True, primary=True)

    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)  # a repeat

    invitation = Invitation.objects.get()
    rows = Attendance.objects.filter(enrollment__learner=user).order_by("session__start")
    assert [(a.session, a.source) for a in rows] == [(first, "invitation"), (second, "invitation")]
    assert invitation.accepted_at is not None
    assert invitation.enrollment == rows[0].enrollment
    assert AuditEntry.objects.filter(action="invitation.accepted").count() == 1


def test_the_whole_way_from_signing_up_to_the_attendance(
    client, rounds, staff_a, django_capture_on_commit_callbacks
):
    first = sessions_of(rounds)[0]
    with django_capture_on_commit_callbacks(execute=True):
        records.add_by_email(
            activity=rounds, email="nia@example.com", sessions=[first], by=staff_a, reason="Sheet"
        )
    mail.outbox.clear()
    client.post(
        "/accounts/signup/",
        {
            "email": "nia@example.com",
            "password1": "violet-lantern-harbour-92",
            "password2": "violet-lantern-harbour-92",
            "first_name": "Nia",
            "last_name": "New",
            "profession": "physician",
        },
    )
    assert not Attendance.objects.exists()  # not before the address is confirmed
    (message,) = mail.outbox
    link = re.search(r"https?://testserver(/\S+)", message.body)
    assert link, message.body
    client.post(link.group(1))

    attendance = Attendance.objects.get()
    assert attendance.enrollment.learner.email == "nia@example.com"
    assert attendance.source == "invitation"


def test_remove_attendance_is_audited_and_refused_while_a_claim_covers_it(rounds, physician, staff_a):
    first, second, _ = sessions_of(rounds)
    enrollment = attend(physician, first).enrollment
    attend(physician, second)
    with time_machine.travel(first.end, tick=False):
        services.claim_credit(
            enrollment=enrollment,
            amounts={"ama_pra_1": D("1.00")},
            attested=True,
            sessions=[first.pk],
            at=first.end,
        )
    claimed = Attendance.objects.get(session=first)
    loose = Attendance.objects.get(session=second)

    with pytest.raises(records.RecordsError) as refused:
        records.remove_attendance(attendance=claimed, by=staff_a, reason="Mistake")
    records.remove_attendance(attendance=loose, by=staff_a, reason="Left before it began")

    assert "correct the claim first" in refused.value.errors["__all__"]
    assert list(Attendance.objects.values_list("session", flat=True)) == [first.pk]
    entry = AuditEntry.objects.get(action="attendance.removed")
    assert (entry.actor, entry.data["reason"], entry.data["session"]) == (
        staff_a,
        "Left before it began",
        second.pk,
    )


def test_an_extension_lets_a_claim_through_after_the_deadline(rounds, physician, staff_a):
    first = sessions_of(rounds)[0]
    enrollment = attend(physician, first).enrollment
    deadline = records.current_deadline(enrollment)
    late = dt.datetime.combine(deadline + dt.timedelta(days=3), dt.time(12), tzinfo=dt.UTC)

    with time_machine.travel(late, tick=False):
        with pytest.raises(services.ClaimError):
            services.claim_credit(
                enrollment=enrollment, amounts={"ama_pra_1": D("1.00")}, attested=True, at=late
            )
        with pytest.raises(records.RecordsError) as too_early:
            records.extend_claim_window(enrollment=enrollment, until=deadline, by=staff_a, reason="Ill")
        records.extend_claim_window(
            enrollment=enrollment, until=deadline + dt.timedelta(days=10), by=staff_a, reason="Was ill"
        )
        made = services.claim_credit(
            enrollment=enrollment, amounts={"ama_pra_1": D("1.00")}, attested=True, at=late
        )

    assert "until" in too_early.value.errors
    assert made.pk is not None
    assert ClaimWindowExtension.objects.count() == 1
    entry = AuditEntry.objects.get(action="claimwindowextension.added")
    assert (entry.actor, entry.data["reason"]) == (staff_a, "Was ill")


def test_the_fixed_code_is_set_and_cleared_with_an_audit_entry_each(rounds, staff_a):
    first = sessions_of(rounds)[0]
    with pytest.raises(records.RecordsError):
        records.set_fixed_code(session=first, code="a!", by=staff_a)
    with pytest.raises(records.RecordsError):  # a letter the learner's code field cannot send
        records.set_fixed_code(session=first, code="ÉCOLE7", by=staff_a)
    records.set_fixed_code(session=first, code="ROUNDS7", by=staff_a)
    records.set_fixed_code(session=first, code="ROUNDS7", by=staff_a)  # unchanged: no entry
    assert SessionCheckin.objects.get(session=first).fixed_code == "ROUNDS7"
    records.set_fixed_code(session=first, code="", by=staff_a)

    assert SessionCheckin.objects.get(session=first).fixed_code == ""
    assert [
        e.data["fixed_code"]
        for e in AuditEntry.objects.filter(action="sessioncheckin.changed").order_by("pk")
    ] == [
        "set",
        "cleared",
    ]


# --- sign-in sheets ----------------------------------------------------------------------------------------


def test_a_sign_in_sheet_records_everyone_counting_duplicates_and_what_is_on_record(
    rounds, learner_a, staff_a, django_capture_on_commit_callbacks
):
    first, second, _ = sessions_of(rounds)
    attend(learner_a, first)
    sheet = (
        "email,name,sessions\r\n"
        "learner-a@example.com,Ada Lovelace,2026-03-03;2026-03-10\r\n"
        "new@example.com,Nia New,2026-03-10 13:00\r\n"
        "NEW@example.com,Nia New,2026-03-10\r\n"
        ",,\r\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        summary = records.import_roster(activity=rounds, content=sheet, by=staff_a, reason="March sheet")

    assert (summary.sessions_added, summary.already, summary.duplicates, summary.invited) == (
        2,
        1,
        1,
        ["new@example.com"],
    )
    assert Attendance.objects.get(session=second, enrollment__learner=learner_a).source == "roster"
    assert list(Invitation.objects.get().sessions.all()) == [second]
    assert len(mail.outbox) == 1


def test_a_sign_in_sheet_with_errors_names_each_line_and_column_and_writes_nothing(
    rounds, learner_a, staff_a
):
    sheet = (
        "email,name,sessions\n"
        "learner-a@example.com,Ada,2026-03-03\n"
        "not-an-email,Bob,2026-03-03\n"
        "c@example.com,=HYPERLINK(1),2026-03-03\n"
        "d@example.com,Dee,2026-04-01\n"
        "e@example.com,Eve,\n"
        "f@example.com,Fay\n"
        "g@example.com,Gus,03/03/2026\n"
    )
    with pytest.raises(records.RecordsError) as refused:
        records.import_roster(activity=rounds, content=sheet, by=staff_a, reason="Sheet")

    text = refused.value.errors["file"]
    for expected in (
        "line 3, email",
        "line 4, name",
        "line 5, sessions: no session on 2026-04-01",
        "line 6, sessions: name at least one session",
        "line 7: expected 3 columns",
        "line 8, sessions: '03/03/2026' is not a date",
    ):
        assert expected in text
    assert "line 2" not in text
    assert not Attendance.objects.exists()
    assert not Invitation.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty."),
        (
            "mail,name,sessions\nx@example.com,X,2026-03-03\n",
            "Line 1: the header must be email,name,sessions",
        ),
        ("email,name,sessions\n", "no lines"),
        ('email,name,sessions\n"x@example.com,X,2026-03-03\n', ""),
    ],
)
def test_a_bad_sheet_is_refused_whole(rounds, staff_a, content, message):
    with pytest.raises(records.RecordsError) as refused:
        records.import_roster(activity=rounds, content=content, by=staff_a, reason="Sheet")
    assert message in refused.value.errors["file"]
    assert not Attendance.objects.exists()


def test_a_day_with_several_sessions_is_named_by_time_or_track(provider_a, staff_a, learner_a):
    from tests.attendance.conftest import utc
    from tests.factories import ActivityFactory

    day = utc(2026, 5, 5, 9)
    activity = ActivityFactory(
        provider=provider_a,
        activity_type="course",
        format="in_person",
        start=day,
        end=day + dt.timedelta(hours=8),
        sessions=[
            (day, day + dt.timedelta(hours=1)),
            (day + dt.timedelta(hours=3), day + dt.timedelta(hours=4)),
        ],
    )
    morning, afternoon = sessions_of(activity)
    afternoon.track = "Track B"
    afternoon.save()

    with pytest.raises(records.RecordsError) as ambiguous:
        records.parse_roster(activity=activity, content="email,name,sessions\na@example.com,A,2026-05-05\n")
    lines = records.parse_roster(
        activity=activity,
        content="email,name,sessions\na@example.com,A,2026-05-05 09:00; 2026-05-05 track b\n",
    )

    assert "several sessions" in ambiguous.value.errors["file"]
    assert lines[0].sessions == [morning, afternoon]
