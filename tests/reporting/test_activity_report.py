"""The activity report with learner counts, from the Export files page: JA-PARS for a jointly accredited
provider (learners by profession, a regularly scheduled series counted per session attended, pharmacy
technicians in their own column), ACCME PARS for the others (physicians and other learners); activities
lacking what the registry needs are left out and named; and the report is limited to the user's providers.

The clock stands at 15 November 2026 (``tests/reporting/conftest.py``); the report is for 2026.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from activities.models import Activity, CommercialSupport, JointProvider, Provider
from learners.models import ExportBatch
from learners.services.reporting import ja_pars
from tests.factories import ActivityFactory, UserFactory, utc
from tests.helpers import attend, complete, make_learner, page_text
from tests.reporting.conftest import EXPORT

pytestmark = pytest.mark.django_db

REPORT_CSV = reverse("admin:learners_reportingentry_activity_report")


def person(email, profession, last_name):
    return make_learner(
        UserFactory(email=email), first_name="Test", last_name=last_name, profession=profession
    )


@pytest.fixture
def ja_world(provider_a, provider_b, physician, nurse, pharmacist):
    """Provider A is jointly accredited. In 2026 it ran grand rounds (a regularly scheduled series of three
    sessions in Springfield), an enduring material, and a jointly provided course that names no joint
    provider; it also has a draft. Provider B, accredited by ACCME alone, ran one enduring material."""
    Provider.objects.filter(pk=provider_a.pk).update(joint_accreditation=True)
    tech = person("tech@example.com", "pharmacy_technician", "Technician")
    pa = person("pa@example.com", "physician_assistant", "Assistant")
    psychologist = person("psy@example.com", "psychologist", "Psychologist")

    rounds = ActivityFactory(
        provider=provider_a,
        title="Grand rounds 2026",
        activity_type="rss",
        format="in_person",
        start=utc(2026, 2, 4, 12),
        end=utc(2026, 4, 1, 13),
        credits={"ama_pra_1": "3.00", "ipce": "3.00", "nursing": "3.00"},
        sessions=[(utc(2026, m, 4, 12), utc(2026, m, 4, 13)) for m in (2, 3, 4)],
    )
    rounds.sessions.update(venue="Main hall", city="Springfield", state="IL", country="USA")
    feb, mar, apr = rounds.sessions.order_by("start")
    for session in (feb, mar, apr):
        attend(physician, session)
    for session in (feb, mar):
        attend(nurse, session)
    attend(tech, apr)

    enduring = ActivityFactory(
        provider=provider_a,
        title="Opioid safety for the team",
        start=utc(2025, 6, 1),
        end=utc(2027, 6, 1),
        credits={"ama_pra_1": "1.00", "ipce": "1.00", "nursing": "1.00", "pharmacy": "1.00", "aapa": "1.00"},
        accreditor_activity_id="202612345",
        commercial_support=False,
    )
    complete(physician_b := person("doc2@example.com", "physician", "Lastyear"), enduring, at=utc(2025, 9, 1))
    for learner in (physician, nurse, pharmacist, tech, pa, psychologist):
        complete(learner, enduring, at=utc(2026, 10, 3, 9))

    unnamed = ActivityFactory(
        provider=provider_a,
        title="Sepsis course with a partner",
        activity_type="course",
        format="in_person",
        location="Springfield Convention Center",
        start=utc(2026, 5, 5, 9),
        end=utc(2026, 5, 5, 17),
        providership=Activity.Providership.JOINT,
        joint_provider="",
    )
    ActivityFactory(provider=provider_a, title="Draft not reported", status=Activity.Status.DRAFT)

    other = ActivityFactory(
        provider=provider_b,
        title="Provider B update",
        start=utc(2026, 1, 5),
        end=utc(2027, 1, 5),
        credits={"ama_pra_1": "2.00"},
    )
    for learner in (physician, nurse, pa):
        complete(learner, other, at=utc(2026, 8, 8))
    return {
        "rounds": rounds,
        "enduring": enduring,
        "unnamed": unnamed,
        "other": other,
        "last_year": physician_b,
    }


def report_page(client, provider, year=2026):
    return client.get(EXPORT, {"report": "activities", "provider": provider.pk, "year": year})


def report_rows(client, provider, year=2026) -> list[dict]:
    response = client.get(REPORT_CSV, {"provider": provider.pk, "year": year})
    assert response.status_code == 200, response
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


COUNTS = [
    "physicians", "nurses", "pharmacists", "pharmacy_technicians", "physician_assistants", "other_learners",
    "total_learners",
]  # fmt: skip


def test_ja_pars_counts_learners_by_profession_and_a_series_per_session(
    client, staff_a, ja_world, provider_a
):
    client.force_login(staff_a)
    rows = {row["title"]: row for row in report_rows(client, provider_a)}

    assert list(rows) == ["Opioid safety for the team", "Grand rounds 2026"]  # by start date
    # The series: Ada at 3 sessions, Florence at 2, the technician at 1; counted per session attended.
    assert [rows["Grand rounds 2026"][c] for c in COUNTS] == ["3", "2", "0", "1", "0", "0", "6"]
    # The enduring material: the learners who completed it in 2026, not the one of 2025.
    assert [rows["Opioid safety for the team"][c] for c in COUNTS] == ["1", "1", "1", "1", "1", "1", "6"]


def test_ja_pars_file_carries_the_activity_data(client, staff_a, ja_world, provider_a):
    client.force_login(staff_a)
    rows = {row["title"]: row for row in report_rows(client, provider_a)}
    rounds, enduring = rows["Grand rounds 2026"], rows["Opioid safety for the team"]

    assert {k: rounds[k] for k in ("format", "delivery_method", "start_date", "end_date")} == {
        "format": "Regularly Scheduled Series",
        "delivery_method": "In-person",
        "start_date": "02/04/2026",
        "end_date": "04/01/2026",
    }
    assert (rounds["city"], rounds["state"], rounds["country"]) == ("Springfield", "IL", "USA")
    assert (rounds["credits_ama_pra_1"], rounds["credits_ipce"], rounds["credits_nursing"]) == (
        "3.00", "3.00", "3.00",
    )  # fmt: skip
    assert rounds["credits_pharmacy"] == "" and rounds["credits_aapa"] == ""
    assert (rounds["providership"], rounds["joint_providers"], rounds["commercial_support"]) == (
        "Direct", "", "No",
    )  # fmt: skip
    assert rounds["provider_activity_id"] == str(ja_world["rounds"].pk)
    assert enduring["pars_activity_id"] == "202612345"
    assert (enduring["format"], enduring["delivery_method"]) == ("Enduring Material", "Online")
    assert enduring["start_date"] == "06/01/2025"  # reported in each year it is open
    assert enduring["credits_pharmacy"] == "1.00" and enduring["credits_aapa"] == "1.00"


def test_activities_missing_what_the_registry_needs_are_left_out_and_named(
    client, staff_a, ja_world, provider_a
):
    client.force_login(staff_a)
    page = report_page(client, provider_a)

    assert page.status_code == 200
    text = page_text(page)
    assert "Result: JA-PARS activity report, Provider A, 2026" in text
    assert "provider-a-ja-pars-activities-2026.csv: 2 activities." in text
    refused = page.text.split('id="activity-report-refused"', 1)[1].split("</ul>", 1)[0]
    assert refused.count("<li>") == 1
    assert "Sepsis course with a partner</a>: jointly provided, but no joint provider is named" in refused
    assert "Draft not reported" not in text and "Provider B update" not in text
    download = page.text.split('id="activity-report-download" href="', 1)[1].split('"', 1)[0]
    assert client.get(download.replace("&amp;", "&"))["Content-Disposition"] == (
        'attachment; filename="provider-a-ja-pars-activities-2026.csv"'
    )
    assert "Sepsis course with a partner" not in {r["title"] for r in report_rows(client, provider_a)}

    # Once the partner is named, the course goes in the file.
    JointProvider.objects.create(activity=ja_world["unnamed"], name="Springfield Pain Society", position=0)
    course = {r["title"]: r for r in report_rows(client, provider_a)}["Sepsis course with a partner"]
    assert (course["providership"], course["joint_providers"]) == ("Joint", "Springfield Pain Society")
    assert course["location"] == "Springfield Convention Center"
    assert ExportBatch.objects.count() == 0  # the report marks nothing and keeps no batch


def test_a_provider_not_jointly_accredited_gets_the_pars_report(client, staff_b, ja_world, provider_b):
    client.force_login(staff_b)
    text = page_text(report_page(client, provider_b))
    assert "Result: ACCME PARS activity report, Provider B, 2026" in text

    rows = report_rows(client, provider_b)

    assert [r["title"] for r in rows] == ["Provider B update"]
    assert (rows[0]["physicians"], rows[0]["other_learners"], rows[0]["total_learners"]) == ("1", "2", "3")
    assert "nurses" not in rows[0] and "credits_ipce" not in rows[0]
    assert rows[0]["credits_ama_pra_1"] == "2.00"


def test_the_report_follows_the_dashboards_physician_split(ja_world, provider_b):
    """PARS's physician / other counts are the dashboard's for an activity that is not a series."""
    from learners.selectors import dashboards

    report = ja_pars.activity_report(provider=provider_b, year=2026)
    figures = dashboards.year_report(activities=Activity.objects.filter(provider=provider_b), year=2026)
    (row,) = figures.rows
    assert (report.rows[0]["physicians"], report.rows[0]["other_learners"]) == (
        row.figures.physician_learners,
        row.figures.other_learners,
    )


# --- who may make it ------------------------------------------------------------------------------------


def test_viewers_make_the_report_of_their_provider(client, viewer_a, ja_world, provider_a):
    client.force_login(viewer_a)
    page = client.get(EXPORT)
    assert 'id="activity-report-form"' in page.text and 'name="preset"' not in page.text
    assert "2 activities" in page_text(report_page(client, provider_a))
    assert len(report_rows(client, provider_a)) == 2


def test_another_providers_staff_get_a_404(client, staff_b, ja_world, provider_a):
    client.force_login(staff_b)
    assert report_page(client, provider_a).status_code == 404
    assert client.get(REPORT_CSV, {"provider": provider_a.pk, "year": 2026}).status_code == 404
    assert client.get(REPORT_CSV, {"provider": "999999", "year": 2026}).status_code == 404
    assert "Provider A" not in page_text(client.get(EXPORT))  # not among the providers to choose


def test_the_mixed_role_user_reads_the_report_where_they_only_view(client, mixed_role, ja_world, provider_b):
    """The report changes nothing, so a viewer's role is enough, as for the dashboard's CSV."""
    client.force_login(mixed_role)
    assert [r["title"] for r in report_rows(client, provider_b)] == ["Provider B update"]
    assert ExportBatch.objects.count() == 0


def test_accreditation_staff_make_any_providers_report(client, accreditor, ja_world, provider_a, provider_b):
    client.force_login(accreditor)
    assert len(report_rows(client, provider_a)) == 2
    assert len(report_rows(client, provider_b)) == 1


def test_bad_choices_are_named_never_a_500(client, staff_a, ja_world, provider_a):
    client.force_login(staff_a)
    for year in ("abc", "20260", "1200", ""):
        page = report_page(client, provider_a, year=year)
        assert page.status_code == 200
        assert 'id="activity-report-result"' not in page.text
        assert "errorlist" in page.text.split('id="activity-report-form"', 1)[1].split("</form>", 1)[0]
    page = client.get(EXPORT, {"report": "activities", "provider": "", "year": "2026"})
    assert page.status_code == 200 and "This field is required." in page_text(page)
    response = client.get(REPORT_CSV, {"provider": provider_a.pk, "year": "abc"})
    assert response.status_code == 400
    assert client.get(REPORT_CSV, {"provider": "x" * 50, "year": "2026"}).status_code == 404


def test_an_in_person_activity_needs_a_place_and_commercial_support_is_stated(ja_world, provider_a):
    from activities.models import Session

    Session.objects.filter(activity=ja_world["rounds"]).update(city="", state="", country="")
    Activity.objects.filter(pk=ja_world["enduring"].pk).update(commercial_support=True)

    report = ja_pars.activity_report(provider=provider_a, year=2026)

    refused = {activity.title: why for activity, why in report.refused}
    assert refused["Grand rounds 2026"] == (
        "in person, but no session has a city, state and country and the activity no location"
    )
    assert (
        refused["Opioid safety for the team"] == "commercial support received, but no supporter is recorded"
    )

    CommercialSupport.objects.create(
        activity=ja_world["enduring"], supporter="Acme Pharma", monetary_amount=Decimal("5000"), in_kind=""
    )
    report = ja_pars.activity_report(provider=provider_a, year=2026)
    (enduring,) = [row for row in report.rows if row["title"] == "Opioid safety for the team"]
    assert enduring["commercial_support"] == "Yes"
    assert enduring["commercial_supporters"] == "Acme Pharma (monetary 5000.00)"


def test_the_report_takes_the_same_queries_however_many_activities(ja_world, provider_a, physician):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            ja_pars.activity_report(provider=provider_a, year=2026)
        return len(captured)

    few = queries()
    for n in range(4):
        more = ActivityFactory(
            provider=provider_a,
            title=f"More {n}",
            activity_type="rss",
            format="in_person",
            start=utc(2026, 6, 1, 12),
            end=utc(2026, 7, 1, 13),
            sessions=[(utc(2026, 6, 1, 12), utc(2026, 6, 1, 13)), (utc(2026, 7, 1, 12), utc(2026, 7, 1, 13))],
        )
        more.sessions.update(venue="Hall", city="Springfield", state="IL", country="USA")
        attend(physician, more.sessions.first())
    assert len(ja_pars.activity_report(provider=provider_a, year=2026).rows) == 6
    assert queries() == few
