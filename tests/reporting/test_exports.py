"""Export files from the admin: the accreditor's learner-credit file and the CPE Monitor file, checked field
by field; the two-click export of last month; no row ever in two files; past files downloaded unchanged;
waiting rows never exported; and every export limited to the staff member's providers."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from activities.models import Activity
from learners.models import ExportBatch, ReportingEntry
from tests.factories import UserFactory
from tests.helpers import change_profile, complete, make_learner, messages_of, page_text
from tests.reporting.conftest import (
    ACTIVITY_CSV,
    BATCHES,
    EXPORT,
    NOV_2,
    OCT_20,
    OCT_31,
    PARS_ID,
    SEP_28,
    UAN,
    export_file,
    made_files,
    moc_activity,
    pars_records,
    rows_of,
)

pytestmark = pytest.mark.django_db

ACCREDITOR_PRESET = {"preset": "accreditor_last_month"}
CPE_PRESET = {"preset": "cpe_last_month"}


FIXTURES = Path(__file__).parent / "fixtures"


def parse(response) -> list[dict]:
    """The records of a downloaded file: PARS records (``pars_records``), or CPE Monitor's CSV rows."""
    assert response.status_code == 200, response
    text = response.content.decode("utf-8")
    if response["Content-Disposition"].endswith('.txt"'):
        return pars_records(text)
    return list(csv.DictReader(io.StringIO(text)))


def exported(response) -> set[int]:
    """The ledger rows the file just downloaded (the latest batch) carried."""
    assert response.status_code == 200
    batch = ExportBatch.objects.latest("pk")
    return set(ReportingEntry.objects.filter(batch=batch).values_list("pk", flat=True))


def download_url(batch) -> str:
    return reverse("admin:learners_exportbatch_download", args=[batch.pk])


def custom(**fields) -> dict:
    return {"custom": "1", "destination": "accreditor", "activity": "", **fields}


# --- the files, field by field -------------------------------------------------------------------------------


def test_accreditor_file_is_one_pars_record_per_completion_field_by_field(as_staff_a, october, physician):
    abim, abs_, state = rows_of(physician)
    assert [(r.board, r.credit_type, r.state) for r in (abim, abs_, state)] == [
        ("ABIM", "medical_knowledge", "ready"),
        ("ABS", "accredited_cme", "ready"),
        ("STATE", "ama_pra_1", "ready"),
    ]

    page = as_staff_a.get(EXPORT)  # click 1
    assert "Accreditor file: MOC and state credit completed last month" in page_text(page)
    response = export_file(as_staff_a, ACCREDITOR_PRESET)  # click 2, then the file's link on the page

    batch = ExportBatch.objects.get()
    assert response["Content-Disposition"] == f'attachment; filename="{batch.filename}"'
    assert batch.filename.startswith(f"{batch.provider.slug}-accreditor-") and batch.filename.endswith(".txt")
    # The file written by hand from the PARS learner-record fields: tab-delimited, no header, one record.
    expected = (FIXTURES / "pars_october.txt").read_bytes().decode("utf-8")
    assert response.content.decode("utf-8") == expected
    assert batch.content == expected
    (record,) = pars_records(expected)
    assert record == {
        "provider_id": "0000421",  # the provider's ACCME ID
        "activity_id": PARS_ID,  # the activity's 9-digit PARS ID
        "activity_title": "Pain management update",
        "learner_first_name": "Ada",
        "learner_last_name": "Lovelace",
        "birth": "07/04",
        "completion_date": "2026-10-03",
        "action": "add",
        "credits": [
            ("NPI", "1234567893", "AMA PRA Category 1", "1.50"),  # the CME credit, once (PARS copies it)
            ("ABIM", "ABIM-448812", "MK", "1.50"),
            ("ABS", "ABS-77120", "CME", "1.00"),
        ],
    }
    assert batch.row_count == 3
    assert batch.provider.name == "Provider A"
    assert batch.made_by.email == "staff-a@example.com"
    assert batch.description == "Accreditor (ACCME PARS), completed Oct. 1, 2026 to Oct. 31, 2026"
    for row in rows_of(physician):
        assert (row.state, row.batch_id, row.exported_at) == ("exported", batch.pk, row.exported_at)
        assert row.exported_at is not None
    # The pharmacist's row is for CPE Monitor: still ready, in no accreditor file.
    assert rows_of(october["paul"].learner).get().state == "ready"


def test_cpe_monitor_file_field_by_field(as_staff_a, october, pharmacist):
    entry = rows_of(pharmacist).get()
    assert (entry.destination, entry.credit_type, entry.state) == ("cpe_monitor", "pharmacy", "ready")

    response = export_file(as_staff_a, CPE_PRESET)

    batch = ExportBatch.objects.get()
    assert batch.destination == "cpe_monitor"
    assert response["Content-Disposition"] == f'attachment; filename="{batch.filename}"'
    expected = (FIXTURES / "cpe_monitor_october.csv").read_bytes().decode("utf-8")
    assert response.content.decode("utf-8") == expected
    assert parse(response) == [
        {
            "provider_number": "JA0000000",  # the UAN's provider part (the provider has no ACPE number set)
            "epid": "1234567",
            "date_of_birth": "0309",
            "uan": UAN,
            "date_of_participation": "2026-10-20",
            "action": "I",
        }
    ]
    entry.refresh_from_db()
    assert (entry.state, entry.batch) == ("exported", batch)
    assert set(rows_of(october["ada"].learner).values_list("state", flat=True)) == {"ready"}


# --- two clicks, exactly last month, once ---------------------------------------------------------------------


@pytest.fixture
def around_october(provider_a, activity):
    """Completions on 28 September, 31 October (late evening) and 2 November, all ready."""
    other = moc_activity(provider_a, title="Sepsis bundle", pars_id="260050001")
    people = {}
    for key, at, act in (("sep", SEP_28, activity), ("oct31", OCT_31, other), ("nov", NOV_2, other)):
        person = make_learner(
            UserFactory(email=f"{key}@example.com"),
            first_name=key.title(),
            last_name="Physician",
            birth_month=2,
            birth_day=3,
            board_ids=[("ABIM", f"ABIM-{key}")],
            consent=True,
        )
        complete(person, act, at=at, moc_boards=["ABIM"])
        people[key] = person
    return people


def test_two_clicks_export_exactly_last_months_ready_rows(as_staff_a, october, around_october, waiting):
    ready_october = set(
        ReportingEntry.objects.filter(
            destination="accreditor", state="ready", completed_on__month=10
        ).values_list("pk", flat=True)
    )
    assert len(ready_october) == 5  # Ada's three, Bob's ABIM row, the 31 October ABIM row
    others = {
        pk: state
        for pk, state in ReportingEntry.objects.exclude(pk__in=ready_october).values_list("pk", "state")
    }

    page = as_staff_a.get(EXPORT)
    assert page.status_code == 200
    assert 'name="preset" value="accreditor_last_month"' in page.text
    response = export_file(as_staff_a, ACCREDITOR_PRESET)

    rows = parse(response)
    assert exported(response) == ready_october
    assert {r["completion_date"][:7] for r in rows} == {"2026-10"}
    assert len(rows) == 3  # Ada's completion, Bob's, the 31 October one: one record each
    assert set(ReportingEntry.objects.filter(pk__in=ready_october).values_list("state", flat=True)) == {
        "exported"
    }
    # Nothing else moved: September and November rows, waiting rows, CPE rows.
    assert dict(ReportingEntry.objects.exclude(pk__in=ready_october).values_list("pk", "state")) == others


def test_exporting_again_exports_nothing_new(as_staff_a, october):
    first = export_file(as_staff_a, ACCREDITOR_PRESET)
    assert len(parse(first)) == 1  # Ada's completion, carrying her three rows
    batch = ExportBatch.objects.get()
    assert batch.row_count == 3

    again, files = made_files(as_staff_a, ACCREDITOR_PRESET)

    assert files == []
    assert "Nothing is ready to report in Accreditor (ACCME PARS)" in page_text(again)
    assert ExportBatch.objects.count() == 1
    assert set(ReportingEntry.objects.filter(destination="accreditor").values_list("batch", flat=True)) == {
        batch.pk
    }
    # The custom form over everything finds nothing new either.
    assert made_files(as_staff_a, custom())[1] == []
    assert ExportBatch.objects.count() == 1


def test_download_again_returns_the_identical_file(as_staff_a, october):
    first = export_file(as_staff_a, ACCREDITOR_PRESET)
    batch = ExportBatch.objects.get()
    states = dict(ReportingEntry.objects.values_list("pk", "modified"))

    listing = as_staff_a.get(BATCHES)
    assert listing.status_code == 200
    assert "<h1>Past files</h1>" in listing.text  # the page that makes them is "Export files"
    assert download_url(batch) in listing.text
    assert "Download again" in listing.text
    again = as_staff_a.get(download_url(batch))

    assert again.status_code == 200
    assert again.content == first.content
    assert (
        again["Content-Type"] == first["Content-Type"] == "text/plain; charset=utf-8"
    )  # PARS: tab-delimited
    assert again["Content-Disposition"] == first["Content-Disposition"]
    assert ExportBatch.objects.count() == 1
    assert dict(ReportingEntry.objects.values_list("pk", "modified")) == states


def test_waiting_rows_never_appear_in_a_file(as_staff_a, october, waiting):
    held = ReportingEntry.objects.filter(state="waiting")
    reasons = {e.learner.email: e.reason for e in held}
    assert reasons == {
        "noconsent@example.com": "Waiting for: consent to reporting.",
        "noboard@example.com": "Waiting for: ABS ID.",
        "noeprofile@example.com": "Waiting for: NABP e-Profile ID.",
    }
    held_ids = set(held.values_list("pk", flat=True))

    accreditor = parse(export_file(as_staff_a, custom()))
    cpe = parse(export_file(as_staff_a, custom(destination="cpe_monitor")))

    carried = set(ReportingEntry.objects.filter(batch__isnull=False).values_list("pk", flat=True))
    assert carried and held_ids.isdisjoint(carried)
    assert {r["learner_last_name"] for r in accreditor} == {"Lovelace", "Boardless"}  # Bob's ABIM row
    assert {r["epid"] for r in cpe} == {"1234567"}  # Paul's
    assert set(ReportingEntry.objects.filter(pk__in=held_ids).values_list("state", flat=True)) == {"waiting"}

    # Nothing ready, some waiting: the page says so, and no empty file is made.
    response, files = made_files(as_staff_a, custom())
    assert files == []
    assert "2 rows are still waiting" in page_text(response)  # Nora's, Bob's ABS

    # Once the learner gives what was missing, the row goes in the next file, alone.
    change_profile(waiting["no_eprofile"], nabp_eprofile_id="7654321")
    later = parse(export_file(as_staff_a, custom(destination="cpe_monitor")))
    assert [r["epid"] for r in later] == ["7654321"]
    assert ExportBatch.objects.count() == 3


def test_custom_export_by_activity_and_date_range(as_staff_a, october, around_october, activity):
    response = export_file(
        as_staff_a, custom(activity=activity.pk, completed_from="2026-09-01", completed_to="2026-10-15")
    )

    rows = parse(response)
    assert {(r["learner_first_name"], r["completion_date"]) for r in rows} == {
        ("Ada", "2026-10-03"),
        ("Sep", "2026-09-28"),
    }
    batch = ExportBatch.objects.get()
    assert "Pain management update" in batch.description
    # The other activity's 31 October and 2 November rows are still ready.
    assert set(
        ReportingEntry.objects.filter(activity__title="Sepsis bundle").values_list("state", flat=True)
    ) == {"ready"}


def test_custom_form_errors_name_the_field(as_staff_a, october):
    response = as_staff_a.post(
        EXPORT, custom(destination="nowhere", completed_from="2026-10-31", completed_to="2026-10-01")
    )
    assert response.status_code == 200
    text = page_text(response)
    assert "Select a valid choice" in text
    response = as_staff_a.post(EXPORT, custom(completed_from="2026-10-31", completed_to="2026-10-01"))
    assert "The end of the range comes before its start." in page_text(response)
    assert ExportBatch.objects.count() == 0


def test_nothing_ready_shows_a_message_not_an_empty_file(as_staff_a, activity):
    response, files = made_files(as_staff_a, CPE_PRESET)
    assert files == []
    assert "Nothing is ready to report in CPE Monitor (NABP)" in page_text(response)
    assert ExportBatch.objects.count() == 0


def test_export_page_shows_what_each_preset_would_take(as_staff_a, october, waiting):
    text = page_text(as_staff_a.get(EXPORT))
    assert "4 ready, 2 waiting" in text  # accreditor: Ada's three and Bob's ABIM; Nora's and Bob's ABS wait
    assert "1 ready, 1 waiting" in text  # CPE Monitor: Paul ready, Edna waiting


def test_the_ledger_links_to_the_export_page_and_it_to_the_activity_csv(as_staff_a, october):
    ledger = as_staff_a.get(reverse("admin:learners_reportingentry_changelist"))
    assert f'href="{EXPORT}"' in ledger.text and "Export files" in ledger.text
    page = as_staff_a.get(EXPORT)
    assert f'action="{ACTIVITY_CSV}"' in page.text


def test_viewers_cannot_export(client, viewer_a, october):
    client.force_login(viewer_a)
    page = client.get(EXPORT)
    assert page.status_code == 200
    assert 'name="preset"' not in page.text
    assert client.post(EXPORT, ACCREDITOR_PRESET).status_code == 403
    assert client.post(EXPORT, custom()).status_code == 403
    assert ExportBatch.objects.count() == 0
    assert set(ReportingEntry.objects.values_list("state", flat=True)) == {"ready"}


# --- scoping ------------------------------------------------------------------------------------------------


def test_other_providers_staff_export_only_their_own_rows(as_staff_b, october, october_b, activity):
    page = as_staff_b.get(EXPORT)
    assert "Pain management update" not in page.text
    assert "1 ready, 0 waiting" in page_text(page)

    rows = parse(export_file(as_staff_b, ACCREDITOR_PRESET))

    assert [(r["learner_last_name"], r["activity_id"]) for r in rows] == [("Outsider", "260099009")]
    assert ExportBatch.objects.get().provider.name == "Provider B"
    assert set(ReportingEntry.objects.filter(activity=activity).values_list("state", flat=True)) == {"ready"}
    # A crafted form naming provider A's activity is refused and exports nothing.
    crafted = as_staff_b.post(EXPORT, custom(activity=activity.pk, destination="cpe_monitor"))
    assert crafted.status_code == 200
    assert "Select a valid choice" in page_text(crafted)
    assert ExportBatch.objects.count() == 1
    assert set(ReportingEntry.objects.filter(activity=activity).values_list("state", flat=True)) == {"ready"}


def test_other_providers_batches_are_out_of_reach(client, staff_a, staff_b, october, october_b):
    client.force_login(staff_a)
    client.post(EXPORT, ACCREDITOR_PRESET)
    batch_a = ExportBatch.objects.get()
    client.force_login(staff_b)
    client.post(EXPORT, ACCREDITOR_PRESET)
    batch_b = ExportBatch.objects.exclude(pk=batch_a.pk).get()

    listing = client.get(BATCHES)
    assert batch_b.filename in listing.text or download_url(batch_b) in listing.text
    assert download_url(batch_a) not in listing.text
    assert client.get(download_url(batch_a)).status_code == 404
    assert client.get(reverse("admin:learners_exportbatch_change", args=[batch_a.pk])).status_code == 404
    assert client.get(download_url(batch_b)).status_code == 200
    assert client.get(reverse("admin:learners_exportbatch_download", args=["nope"])).status_code == 404


def test_accreditation_staff_export_across_providers(
    client, accreditor, staff_a, october, october_b, provider_a, provider_b
):
    client.force_login(accreditor)
    page, files = made_files(client, ACCREDITOR_PRESET)

    rows = [row for file in files for row in parse(file)]
    assert {r["learner_last_name"] for r in rows} == {"Lovelace", "Outsider"}
    assert "provider-a-accreditor-" in page_text(page) and "provider-b-accreditor-" in page_text(page)
    batch_a, batch_b = ExportBatch.objects.order_by("provider__name")
    assert (batch_a.provider, batch_b.provider) == (provider_a, provider_b)
    assert client.get(download_url(batch_b)).status_code == 200
    client.force_login(staff_a)
    assert client.get(download_url(batch_a)).status_code == 200
    assert client.get(download_url(batch_b)).status_code == 404


def test_a_file_of_one_providers_rows_belongs_to_that_provider(client, accreditor, staff_a, october):
    client.force_login(accreditor)
    parse(export_file(client, CPE_PRESET))
    batch = ExportBatch.objects.get()
    assert batch.provider.name == "Provider A"
    client.force_login(staff_a)
    assert client.get(download_url(batch)).status_code == 200


def test_staff_of_several_providers_get_one_file_per_provider(
    client, staff_ab, staff_b, october, october_b, provider_a, provider_b
):
    client.force_login(staff_ab)
    page, downloads = made_files(client, ACCREDITOR_PRESET)

    batches = {b.provider: b for b in ExportBatch.objects.all()}
    assert set(batches) == {provider_a, provider_b}
    files = {
        d["Content-Disposition"].split('filename="')[1].rstrip('"'): d.content.decode("utf-8")
        for d in downloads
    }
    assert files == {b.filename: b.content for b in batches.values()}
    text = page_text(page)
    for batch in batches.values():
        assert f"{batch.filename} ({batch.provider.name}): {batch.row_count} row" in text
    names = {
        provider: {r["learner_last_name"] for r in pars_records(batch.content)}
        for provider, batch in batches.items()
    }
    assert names == {provider_a: {"Lovelace"}, provider_b: {"Outsider"}}
    assert (
        batches[provider_a].row_count + batches[provider_b].row_count
        == ReportingEntry.objects.filter(state="exported").count()
    )

    # each file belongs to its provider: provider B's staff download theirs again, not A's
    client.force_login(staff_b)
    again = client.get(download_url(batches[provider_b]))
    assert again.content.decode("utf-8") == batches[provider_b].content
    assert client.get(download_url(batches[provider_a])).status_code == 404


def test_a_multi_provider_export_is_all_or_nothing(client, staff_ab, october, october_b, monkeypatch):
    from learners.services.reporting import exports

    real, calls = exports._export, []

    def fail_on_second(**kwargs):
        calls.append(kwargs["provider"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(exports, "_export", fail_on_second)
    client.force_login(staff_ab)
    client.raise_request_exception = False
    assert client.post(EXPORT, ACCREDITOR_PRESET).status_code == 500
    assert not ExportBatch.objects.exists()
    assert set(ReportingEntry.objects.values_list("state", flat=True)) == {"ready"}


def test_the_export_service_writes_a_file_per_provider_and_says_what_still_waits(
    staff_ab, october, october_b, waiting, activity, provider_a, provider_b
):
    from learners.services.reporting import exports

    october_range = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}
    result = exports.export_for_providers(
        entries=ReportingEntry.objects.all(), destination="accreditor", by=staff_ab, **october_range
    )

    assert [(b.provider, b.row_count) for b in result.batches] == sorted(
        [(provider_a, 4), (provider_b, 1)], key=lambda pair: pair[0].slug
    )  # Ada's three and Bob's ABIM row; Bea's ABIM row
    assert result.waiting == 2  # Nora's state-board row and Bob's ABS row
    assert result.description.startswith("Accreditor (ACCME PARS), completed ")
    assert {b.description for b in result.batches} == {result.description}
    assert list(ExportBatch.objects.order_by("pk")) == list(result.batches)

    again = exports.export_for_providers(
        entries=ReportingEntry.objects.all(), destination="accreditor", by=staff_ab, **october_range
    )
    assert (again.batches, again.waiting) == ((), 2)
    assert ExportBatch.objects.count() == 2

    pharmacy = exports.export_for_providers(
        entries=ReportingEntry.objects.all(), destination="cpe_monitor", by=staff_ab, activity=activity
    )
    assert [b.row_count for b in pharmacy.batches] == [1]  # Paul's; Edna's waits for her e-Profile ID
    assert pharmacy.waiting == 1
    assert pharmacy.description == "CPE Monitor (NABP), Pain management update"


def test_a_viewer_role_at_one_provider_exports_only_where_they_edit(
    client, provider_a, staff_b, october, october_b
):
    from activities.models import Membership

    Membership.objects.create(user=staff_b, provider=provider_a, role="viewer")
    client.force_login(staff_b)
    assert "Lovelace" in client.get(reverse("admin:learners_reportingentry_changelist")).text
    rows = parse(export_file(client, ACCREDITOR_PRESET))
    assert {r["learner_last_name"] for r in rows} == {"Outsider"}
    assert set(rows_of(october["ada"].learner).values_list("state", flat=True)) == {"ready"}


def test_completion_dates_follow_the_claim(as_staff_a, physician, activity):
    complete(physician, activity, at=OCT_20, moc_boards=["ABIM"])
    rows = parse(export_file(as_staff_a, ACCREDITOR_PRESET))
    assert {r["completion_date"] for r in rows} == {"2026-10-20"}
    assert [[c[0] for c in r["credits"]] for r in rows] == [["NPI", "ABIM"]]


def test_a_past_file_has_a_read_only_page(as_staff_a, october):
    as_staff_a.post(EXPORT, ACCREDITOR_PRESET)
    batch = ExportBatch.objects.get()
    page = as_staff_a.get(reverse("admin:learners_exportbatch_change", args=[batch.pk]))
    assert page.status_code == 200
    assert batch.filename in page.text and download_url(batch) in page.text
    as_staff_a.post(reverse("admin:learners_exportbatch_change", args=[batch.pk]), {"row_count": "0"})
    assert as_staff_a.post(reverse("admin:learners_exportbatch_delete", args=[batch.pk])).status_code == 403
    assert ExportBatch.objects.get().row_count == 3


def test_the_activity_picker_offers_only_own_activities(as_staff_b, activity, moc_activity_b):
    response = as_staff_b.get(
        reverse("admin:autocomplete"),
        {"app_label": "learners", "model_name": "reportingentry", "field_name": "activity", "term": ""},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Provider B cardiology"]


# --- the result on the page, and the past files ----------------------------------------------------------


def test_the_export_result_and_the_past_files_are_on_the_page(as_staff_a, october, waiting):
    page, files = made_files(as_staff_a, ACCREDITOR_PRESET)

    batch = ExportBatch.objects.get()
    text = page_text(page)
    assert "Result: Accreditor (ACCME PARS), completed Oct. 1, 2026 to Oct. 31, 2026" in text
    assert f"{batch.filename} (Provider A): 4 rows exported." in text
    assert "2 rows are still waiting for learners' consent or details." in text
    assert [f.content.decode() for f in files] == [batch.content]
    assert messages_of(page) == []  # on the page itself, not only as a flash message
    past = page.text.split('id="past-files"', 1)[1].split("</table>", 1)[0]
    assert download_url(batch) in past and batch.filename in past
    assert "Nov. 15, 2026" in past and staff_a_name(batch) in past
    # later visits list it too, with the dates in the admin's format
    later = page_text(as_staff_a.get(EXPORT))
    assert "Oct. 1, 2026 to Oct. 31, 2026: 0 ready, 2 waiting" in later
    assert batch.filename in later


def staff_a_name(batch) -> str:
    return batch.made_by.get_full_name() or batch.made_by.email


def test_the_mixed_role_user_exports_nothing_where_they_only_view(
    client, mixed_role, october_b, moc_activity_b
):
    client.force_login(mixed_role)
    page, files = made_files(client, ACCREDITOR_PRESET)
    assert files == [] and "Nothing is ready to report" in page_text(page)
    crafted = client.post(EXPORT, custom(activity=moc_activity_b.pk))
    assert crafted.status_code == 200 and "Select a valid choice" in page_text(crafted)
    assert not ExportBatch.objects.exists()
    assert set(ReportingEntry.objects.values_list("state", flat=True)) == {"ready"}


def test_an_activity_the_file_cannot_carry_is_named_on_the_page(as_staff_a, october, activity):
    Activity.objects.filter(pk=activity.pk).update(accreditor_activity_id="")

    page, files = made_files(as_staff_a, ACCREDITOR_PRESET)

    refused = page.text.split('id="export-refused"', 1)[1].split("</ul>", 1)[0]
    assert "Pain management update: The activity has no PARS activity ID (9 digits)." in refused
    assert files == []
    assert not ReportingEntry.objects.filter(destination="accreditor", state="exported").exists()
