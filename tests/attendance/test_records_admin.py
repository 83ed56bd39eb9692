"""The staff pages that fix attendance records, by persona: provider A's editor (works, audited with the
reason), A's viewer (403), B's editor (404), the mixed-role user writing to B's session (refused),
accreditation staff (works anywhere). Previews write nothing; bad input is a form error."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from attendance.forms import RosterForm
from attendance.models import Attendance, Invitation, SessionCheckin
from learners.services.enrollments import enroll
from portal.models import AuditEntry
from tests.attendance.conftest import sessions_of
from tests.helpers import attend, messages_of, page_text

pytestmark = pytest.mark.django_db


def page(session):
    return reverse("admin:attendance_session_attendance", args=[session.pk])


def mark(session, enrollment):
    return reverse("admin:attendance_session_mark", args=[session.pk, enrollment.pk])


@pytest.fixture
def first(rounds):
    return sessions_of(rounds)[0]


@pytest.fixture
def enrolled(rounds, learner_a):
    return enroll(learner=learner_a, activity=rounds, at=rounds.start)[0]


def test_the_page_lists_who_checked_in_when_and_how_and_who_did_not(
    client, staff_a, rounds, first, learner_a, learner_b, staff_b
):
    attend(learner_b, first)
    enroll(learner=learner_a, activity=rounds, at=rounds.start)
    client.force_login(staff_a)

    response = client.get(page(first))

    text = page_text(response)
    assert "1 checked in of 2 enrolled." in text
    assert "learner-b@example.com" in text and "Code on the screen" in text
    assert 'id="absent-list"' in response.content.decode()
    assert mark(first, learner_a.enrollments.get()) in response.content.decode()
    assert reverse("attendance:screen", args=[first.pk]) in response.content.decode()


def test_the_page_shows_who_has_claimed_the_sessions_credit(client, staff_a, rounds, physician, learner_b):
    from decimal import Decimal

    from learners import services

    first, second = sessions_of(rounds)[:2]
    attend(physician, first)
    attend(learner_b, first)
    enrollment = physician.enrollments.get()
    services.claim_credit(
        enrollment=enrollment,
        amounts={"ama_pra_1": Decimal("1.00")},
        attested=True,
        sessions=[first.pk],
        at=first.end + dt.timedelta(hours=1),
    )
    client.force_login(staff_a)

    html = client.get(page(first)).content.decode()

    assert "1 learner has claimed this session's credit." in page_text(client.get(page(first)))
    rows = {row.split("</tr>")[0] for row in html.split("<tr>")}
    assert any("learner-a@" in row and "Yes" in row for row in rows)
    assert any("learner-b@" in row and "Not yet" in row for row in rows)
    assert "0 learners have claimed this session" in page_text(client.get(page(second)))


def test_the_session_admin_links_to_its_attendance_page(client, staff_a, first):
    client.force_login(staff_a)
    change = client.get(reverse("admin:activities_session_change", args=[first.pk]))
    listing = client.get(reverse("admin:activities_session_changelist"))
    assert page(first) in change.content.decode()
    assert page(first) in listing.content.decode()


def test_mark_attended_is_two_clicks_and_a_reason(client, staff_a, first, enrolled):
    client.force_login(staff_a)
    confirm = client.get(mark(first, enrolled))
    assert "learner-a@example.com would be recorded as present" in page_text(confirm)
    assert not Attendance.objects.exists()

    refused = client.post(mark(first, enrolled), {"reason": ""})
    assert refused.status_code == 200 and not Attendance.objects.exists()

    done = client.post(mark(first, enrolled), {"reason": "Forgot to check in", "confirm": "1"})

    assert done.status_code == 302
    row = Attendance.objects.get()
    assert (row.session, row.enrollment, row.source, row.recorded_by, row.reason) == (
        first,
        enrolled,
        "staff",
        staff_a,
        "Forgot to check in",
    )
    entry = AuditEntry.objects.get(action="attendance.recorded")
    assert (entry.actor, entry.data["reason"]) == (staff_a, "Forgot to check in")
    assert "1 learner got 1 session." in messages_of(done)[0]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("viewer_a", 403), ("staff_b", 404), ("accreditor", 302)],
)
def test_mark_attended_by_persona(request, client, first, enrolled, persona, status):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.post(mark(first, enrolled), {"reason": "Forgot", "confirm": "1"})
    assert response.status_code == status
    assert Attendance.objects.exists() is (status == 302)


def test_the_mixed_role_user_cannot_write_to_b(client, mixed_role, rounds_b, learner_a):
    session = sessions_of(rounds_b)[0]
    enrollment = enroll(learner=learner_a, activity=rounds_b, at=rounds_b.start)[0]
    client.force_login(mixed_role)

    seen = client.get(page(session))
    urls = [
        (mark(session, enrollment), {"reason": "x", "confirm": "1"}),
        (
            reverse("admin:attendance_session_add", args=[session.pk]),
            {"email": "a@example.com", "sessions": [session.pk], "reason": "x", "confirm": "1"},
        ),
        (
            reverse("admin:attendance_session_import", args=[session.pk]),
            {
                "content": RosterForm.sign("email,name,sessions\na@example.com,A,2026-03-04\n"),
                "reason": "x",
                "confirm": "1",
            },
        ),
        (page(session), {"fixed_code": "ABCD12"}),
    ]
    statuses = [client.post(url, data).status_code for url, data in urls]

    assert seen.status_code == 200  # a viewer at B reads
    assert "Mark attended" not in seen.content.decode()
    assert statuses == [403, 403, 403, 403]
    assert not Attendance.objects.exists() and not Invitation.objects.exists()
    assert not SessionCheckin.objects.filter(fixed_code__gt="").exists()
    assert not AuditEntry.objects.filter(action__startswith="attendance").exists()


def test_add_attendees_previews_then_confirms_by_email(
    client, staff_a, first, django_capture_on_commit_callbacks
):
    client.force_login(staff_a)
    url = reverse("admin:attendance_session_add", args=[first.pk])
    data = {"email": "nia@example.com", "name": "Nia", "sessions": [first.pk], "reason": "Paper sheet"}

    preview = client.post(url, {**data, "preview": "1"})
    assert "1 learner would get 1 session. 1 would be invited by email." in page_text(preview)
    assert not Invitation.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**data, "confirm": "1"})

    assert done.status_code == 302
    assert list(Invitation.objects.get().sessions.all()) == [first]
    assert len(mail.outbox) == 1
    assert AuditEntry.objects.get(action="invitation.sent").data["reason"] == "Paper sheet"


def test_add_attendees_bad_input_is_a_form_error(client, staff_a, first, rounds_b):
    client.force_login(staff_a)
    url = reverse("admin:attendance_session_add", args=[first.pk])
    other = sessions_of(rounds_b)[0]
    response = client.post(url, {"email": "nope", "sessions": [other.pk, "x"], "reason": "", "confirm": "1"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"email", "sessions", "reason"}
    assert not Attendance.objects.exists() and not Invitation.objects.exists()


def test_import_a_sign_in_sheet_preview_then_confirm_the_same_content(client, staff_a, first, learner_a):
    client.force_login(staff_a)
    url = reverse("admin:attendance_session_import", args=[first.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    sheet = SimpleUploadedFile("sheet.csv", b"email,name,sessions\nlearner-a@example.com,Ada,2026-03-03\n")
    preview = client.post(url, {"sheet": sheet, "reason": "March sheet", "preview": "1"})
    assert "1 learner would get 1 session." in page_text(preview)
    assert not Attendance.objects.exists()
    signed = preview.context["form"].initial["content"]

    tampered = client.post(url, {"content": signed + "x", "reason": "March sheet", "confirm": "1"})
    assert "Upload the sheet again." in page_text(tampered)
    done = client.post(url, {"content": signed, "reason": "March sheet", "confirm": "1"})

    assert done.status_code == 302
    assert Attendance.objects.get().source == "roster"


def test_a_bad_sheet_shows_every_line_and_writes_nothing(client, staff_a, first):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff_a)
    url = reverse("admin:attendance_session_import", args=[first.pk])
    sheet = SimpleUploadedFile(
        "s.csv", b"email,name,sessions\nbad,A,2026-03-03\nb@example.com,B,2027-01-01\n"
    )
    response = client.post(url, {"sheet": sheet, "reason": "Sheet", "confirm": "1"})
    text = page_text(response)
    assert "line 2, email" in text and "line 3, sessions" in text
    assert "Confirm" not in [
        b for b in response.content.decode().split('value="')[1:] if b.startswith("Confirm")
    ]
    assert not Attendance.objects.exists() and not Invitation.objects.exists()
    not_utf8 = client.post(url, {"sheet": SimpleUploadedFile("s.csv", b"\xff\xfe\x00"), "reason": "S"})
    assert "sheet" in not_utf8.context["form"].errors


def test_remove_an_attendance_with_a_reason(client, staff_a, viewer_a, staff_b, first, learner_a):
    row = attend(learner_a, first)
    url = reverse("admin:attendance_attendance_remove", args=[row.pk])
    client.force_login(viewer_a)
    assert client.post(url, {"reason": "x", "confirm": "1"}).status_code == 403
    client.force_login(staff_b)
    assert client.post(url, {"reason": "x", "confirm": "1"}).status_code == 404
    assert Attendance.objects.exists()

    client.force_login(staff_a)
    done = client.post(url, {"reason": "Checked in by mistake", "confirm": "1"})

    assert done.status_code == 302
    assert not Attendance.objects.exists()
    entry = AuditEntry.objects.get(action="attendance.removed")
    assert (entry.actor, entry.data["reason"]) == (staff_a, "Checked in by mistake")


def test_set_and_clear_the_fixed_code(client, staff_a, viewer_a, first):
    client.force_login(viewer_a)
    assert client.post(page(first), {"fixed_code": "ROUNDS7"}).status_code == 403
    client.force_login(staff_a)
    bad = client.post(page(first), {"fixed_code": "a b"})
    assert "fixed_code" in bad.context["form"].errors
    client.post(page(first), {"fixed_code": "ROUNDS7"})
    assert SessionCheckin.objects.get(session=first).fixed_code == "ROUNDS7"
    client.post(page(first), {"fixed_code": ""})
    assert SessionCheckin.objects.get(session=first).fixed_code == ""
    assert AuditEntry.objects.filter(action="sessioncheckin.changed", actor=staff_a).count() == 2


def test_unknown_ids_are_404_not_500(client, staff_a, first):
    client.force_login(staff_a)
    assert client.get(reverse("admin:attendance_session_attendance", args=[999999])).status_code == 404
    assert client.get(reverse("admin:attendance_attendance_remove", args=[999999])).status_code == 404
    assert client.get(reverse("admin:attendance_session_mark", args=[first.pk, 999999])).status_code == 404


def test_a_viewer_reads_the_page_without_the_ways_to_change_it(client, viewer_a, first, enrolled, learner_b):
    attend(learner_b, first)
    client.force_login(viewer_a)
    response = client.get(page(first))
    html = response.content.decode()
    assert response.status_code == 200
    assert "learner-b@example.com" in html
    assert "Mark attended" not in html and "Remove" not in html and "Import sign-in sheet" not in html
    add = reverse("admin:attendance_session_add", args=[first.pk])
    assert client.get(add).status_code == 403
