"""The enrollments-and-completions CSV of one activity, for the provider's own records: every field, the
provider's scope, and a query count that does not grow with the enrollments."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from learners import services
from learners.services import certificates
from tests.factories import UserFactory
from tests.helpers import complete, make_learner
from tests.reporting.conftest import ACTIVITY_CSV, OCT_3

pytestmark = pytest.mark.django_db


def parse(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="enrollments-')
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


@pytest.fixture
def records(october, activity, staff_a, django_capture_on_commit_callbacks, mailoutbox):
    """Ada's certificate emailed; Paul's issued, its email not yet sent, then revoked; Ivy only enrolled."""
    with django_capture_on_commit_callbacks(execute=True):
        certificates.issue_certificate(enrollment=october["ada"])
    assert len(mailoutbox) == 1
    paul = certificates.issue_certificate(enrollment=october["paul"])
    certificates.revoke_certificate(certificate=paul, reason="Claimed twice", by=staff_a)
    ivy = make_learner(
        UserFactory(email="=cmd@example.com"),
        first_name="Ivy",
        last_name="=HYPERLINK(1)",
        profession="nurse",
        consent=True,
    )
    services.enroll(learner=ivy, activity=activity)
    october["ada"].refresh_from_db()
    october["paul"].refresh_from_db()
    return october


def test_activity_csv_lists_every_enrollment(as_staff_a, records, activity):
    response = as_staff_a.get(ACTIVITY_CSV, {"activity": activity.pk})

    header, *rows = parse(response)
    assert header == [
        "Last name", "First name", "Email", "Profession", "Enrolled at", "Status", "Completed at",
        "AMA PRA Category 1 Credit™", "ACPE Pharmacy Contact Hours", "MOC", "Certificate",
        "Certificate status", "Delivery",
    ]  # fmt: skip
    ada, paul = records["ada"], records["paul"]
    assert rows == [
        ["'=HYPERLINK(1)", "Ivy", "'=cmd@example.com", "Nurse", "2026-11-15 10:00", "In progress", "",
         "", "", "", "", "", ""],
        ["Ehrlich", "Paul", "paul@example.com", "Pharmacist", "2026-10-20 09:15", "Completed",
         "2026-10-20 09:15", "", "1.50", "", paul.certificate.code, "Revoked", "Waiting to send"],
        ["Lovelace", "Ada", "learner-a@example.com", "Physician (MD/DO)", "2026-10-03 14:30", "Completed",
         "2026-10-03 14:30", "1.50", "", "ABIM Medical Knowledge 1.50; ABS Accredited CME 1.00",
         ada.certificate.code, "Valid", "Sent"],
    ]  # fmt: skip


def test_viewers_may_download_it(client, viewer_a, records, activity):
    client.force_login(viewer_a)
    assert len(parse(client.get(ACTIVITY_CSV, {"activity": activity.pk}))) == 4


def test_other_providers_activity_is_404(as_staff_b, records, activity, october_b, moc_activity_b):
    assert as_staff_b.get(ACTIVITY_CSV, {"activity": activity.pk}).status_code == 404
    assert as_staff_b.get(ACTIVITY_CSV, {"activity": "999999"}).status_code == 404
    assert as_staff_b.get(ACTIVITY_CSV, {"activity": "x"}).status_code == 404
    assert as_staff_b.get(ACTIVITY_CSV).status_code == 404
    rows = parse(as_staff_b.get(ACTIVITY_CSV, {"activity": moc_activity_b.pk}))
    assert [row[0] for row in rows[1:]] == ["Outsider"]


def test_learners_and_anonymous_visitors_are_refused(client, learner_b, activity):
    assert client.get(ACTIVITY_CSV, {"activity": activity.pk}).status_code == 302  # to the admin login
    client.force_login(learner_b)
    assert client.get(ACTIVITY_CSV, {"activity": activity.pk}).status_code == 302


def test_activity_csv_queries_do_not_grow_with_the_enrollments(
    as_staff_a, activity, django_capture_on_commit_callbacks
):
    def add(count, offset):
        for n in range(offset, offset + count):
            person = make_learner(
                UserFactory(email=f"csv{n}@example.com"),
                first_name=f"P{n}",
                last_name="Physician",
                birth_month=1,
                birth_day=1,
                board_ids=[("ABIM", f"ABIM-{n}")],
                consent=True,
            )
            enrollment = complete(person, activity, at=OCT_3, moc_boards=["ABIM"])
            if n % 2:
                with django_capture_on_commit_callbacks(execute=True):
                    certificates.issue_certificate(enrollment=enrollment)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            rows = parse(as_staff_a.get(ACTIVITY_CSV, {"activity": activity.pk}))
        return len(captured), len(rows) - 1

    add(5, 0)
    few, count = queries()
    assert count == 5
    add(20, 5)
    many, count = queries()
    assert count == 25
    assert many == few
