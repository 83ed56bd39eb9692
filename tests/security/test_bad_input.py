"""Bad input is a 4xx naming the parameter: NUL characters anywhere, dates out of range, Unicode digits.

``test_fuzz.py`` sends every kind of hostile value everywhere; these tests pin down what each answer says.
"""

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from activities.filters import end_of
from learners.selectors.learner import transcript
from portal.forms import EARLIEST_DATE, LATEST_DATE
from tests.learners.conftest import field_error

pytestmark = pytest.mark.django_db

RANGE = "Enter a date between 1900-01-01 and 2199-12-31."


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("/verify/%00/", "address"),
        ("/verify/abc%00/v1/", "address"),
        ("/me/certificates/%00.pdf", "address"),
        ("/verify/?code=%00", "query parameter 'code'"),
        ("/activities/?q=a%00b", "query parameter 'q'"),
        ("/api/activities/?provider=%00", "query parameter 'provider'"),
        ("/activities/?x%00=1", "query parameter 'x\\\\x00'"),
        ("/activities/?q=fine&q=%00", "query parameter 'q'"),
        (
            "/admin/autocomplete/?app_label=activities&model_name=activity&field_name=provider&term=%00",
            "'term'",
        ),
    ],
)
def test_a_nul_character_anywhere_in_the_url_is_a_400_naming_where(client, staff_a, url, named):
    client.force_login(staff_a)
    response = client.get(url)
    assert response.status_code == 400
    assert named in response.text
    assert "contains a NUL character" in response.text


def test_a_nul_character_in_a_form_field_is_a_400_naming_the_field(client):
    response = client.post(reverse("account_login"), {"login": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400
    assert "form field 'login' contains a NUL character" in response.text


def test_a_nul_character_in_an_uploaded_files_name_is_dropped(client, accreditor):
    client.force_login(accreditor)
    upload = SimpleUploadedFile("list\x00ing.txt", b"Title: x", content_type="text/plain")
    response = client.post(reverse("admin:activities_activity_import"), {"files": [upload]})
    assert response.status_code == 200
    assert "listing.txt:" in response.text


def test_a_nul_character_in_a_cookie_is_a_400_not_a_session_lookup(learner_a):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    response = client.get(reverse("learners:dashboard"))
    assert response.status_code == 400
    assert "cookie 'sessionid'" in response.text


def test_uploaded_file_contents_may_hold_nul_bytes(client, accreditor):
    """Only names and text fields are checked: a file's bytes are the importer's to judge."""
    client.force_login(accreditor)
    upload = SimpleUploadedFile("listing.txt", b"Title: a\x00b\n", content_type="text/plain")
    response = client.post(reverse("admin:activities_activity_import"), {"files": [upload]})
    assert response.status_code == 200
    assert "listing.txt" in response.text


@pytest.mark.parametrize("param", ["starts_after", "starts_before"])
@pytest.mark.parametrize("value", ["9999-12-31", "1899-12-31", "2200-01-01"])
def test_a_catalog_date_out_of_range_is_a_400_on_the_page_naming_the_filter(client, param, value):
    response = client.get(reverse("activities:catalog"), {param: value})
    assert response.status_code == 400
    assert RANGE in response.text


@pytest.mark.parametrize("param", ["starts_after", "starts_before"])
def test_an_api_date_out_of_range_is_a_400_naming_the_parameter(client, param):
    response = client.get(reverse("api:activity_list"), {param: "9999-12-31"})
    assert response.status_code == 400
    assert json.loads(response.content)["errors"] == {param: [RANGE]}


def test_the_ends_of_the_range_are_accepted(client, activity_a):
    response = client.get(
        reverse("api:activity_list"),
        {"starts_after": EARLIEST_DATE.isoformat(), "starts_before": LATEST_DATE.isoformat()},
    )
    assert response.status_code == 200
    assert [a["slug"] for a in json.loads(response.content)["results"]] == [activity_a.slug]


@pytest.mark.parametrize("field", ["start", "end"])
def test_a_transcript_date_out_of_range_is_refused_beside_its_field(client, learner_a, field):
    client.force_login(learner_a)
    for url in (reverse("learners:transcript"), reverse("learners:transcript_csv")):
        response = client.get(url, {field: "9999-12-31"})
        assert response.status_code == 400
        assert field_error(response, f"id_{field}") == RANGE


def test_the_day_after_the_last_date_is_no_bound_rather_than_an_overflow(learner_a):
    assert end_of(date.max) is None
    assert transcript(user=learner_a, start=date.min, end=date.max).lines == []


@pytest.mark.parametrize("value", ["²", "٣", "1²", "0x10", "1e3", "-1", "99999999999999999999999"])
def test_a_page_number_that_is_not_a_plain_number_is_a_400_or_404(client, value):
    response = client.get(reverse("api:activity_list"), {"page": value})
    assert response.status_code in {400, 404}
