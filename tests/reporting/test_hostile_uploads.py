"""Hostile returned files and parameters get a form error or a 404 naming what is wrong, never a 500, and
settle nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from learners.models import ReportingEntry
from tests.helpers import page_text
from tests.reporting.conftest import ACTIVITY_CSV, RETURNED

pytestmark = pytest.mark.django_db


def upload(client, content: bytes):
    return client.post(RETURNED, {"file": SimpleUploadedFile("returned.csv", content)})


@pytest.fixture
def exported(as_staff_a, october):
    as_staff_a.post("/admin/learners/reportingentry/export/", {"preset": "accreditor_last_month"})
    rows = list(ReportingEntry.objects.filter(state="exported"))
    assert rows
    return rows


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"row_id,status,reason\r\n1,rejected,bad\x00reason\r\n", "contains a NUL character"),
        (b"row_id,status,reason\r\n1,rejected," + b"x" * 200_000 + b"\r\n", "is not valid CSV"),
    ],
)
def test_a_broken_returned_file_is_refused_whole(as_staff_a, exported, content, error):
    response = upload(as_staff_a, content)
    assert response.status_code == 200
    assert error in page_text(response)
    assert ReportingEntry.objects.filter(state="rejected").count() == 0


def test_a_row_id_in_other_digits_is_a_line_error(as_staff_a, exported):
    row = exported[0]
    content = f"row_id,status,reason\r\n²,accepted,\r\n{row.pk},accepted,\r\n".encode()
    response = upload(as_staff_a, content)
    assert "1 accepted, 0 rejected, 1 lines not applied" in page_text(response)
    assert "row_id '²' is not a number" in page_text(response)


@pytest.mark.parametrize(("value", "status"), [("²", 404), ("1" * 40, 404), ("-1", 404), ("1\x00", 400)])
def test_the_activity_csv_answers_a_bad_activity_with_a_4xx(as_staff_a, value, status):
    assert as_staff_a.get(ACTIVITY_CSV, {"activity": value}).status_code == status
