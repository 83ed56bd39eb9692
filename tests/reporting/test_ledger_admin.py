"""The reporting ledger in the admin: scoped lists and filters (the deadline filter above all), settling rows
by hand or from the registry's returned file, putting rejected rows back in the queue, and query counts
that do not grow with the rows."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learners.models import ExportBatch, ReportingEntry
from portal.models import AuditEntry
from tests.factories import UserFactory
from tests.helpers import complete, make_learner, messages_of, page_text
from tests.reporting.conftest import (
    EXPORT,
    LEDGER,
    OCT_3,
    OCT_20,
    RETURNED,
    export_file,
    pars_records,
    rows_of,
)

pytestmark = pytest.mark.django_db


def act(client, action, entries, **fields):
    """An action as the changelist's form sends it (``confirm="yes"`` for the preview's second POST)."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [e.pk for e in entries], **fields}
    if "confirm" not in fields:
        data["index"] = "0"
    return client.post(LEDGER, data)


def export(client, preset="accreditor_last_month"):
    """Export a preset from the Export files page and download the file it made."""
    return export_file(client, {"preset": preset})


def upload(client, text: str, name="returned.csv"):
    return client.post(RETURNED, {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def states(entries) -> list[tuple[str, str]]:
    return [
        (e.state, e.reason)
        for e in ReportingEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("pk")
    ]


# --- the list ---------------------------------------------------------------------------------------------------


def test_ledger_lists_rows_with_their_columns(as_staff_a, october):
    response = as_staff_a.get(LEDGER)
    assert response.status_code == 200
    text = page_text(response)
    for expected in (
        "Ada Lovelace", "Paul Ehrlich", "Pain management update", "Accreditor (ACCME PARS)",
        "CPE Monitor (NABP)", "ABIM", "ABS", "State boards", "Medical Knowledge", "Accredited CME",
        "AMA PRA Category 1 Credit™", "ACPE Pharmacy Contact Hours", "1.50", "Ready to report",
    ):  # fmt: skip
        assert expected in text, expected
    assert "Add reporting entry" not in text
    for value in ("mark_accepted", "mark_rejected", "requeue"):
        assert f'value="{value}"' in response.text
    assert 'value="delete_selected"' not in response.text


def test_rows_cannot_be_added_changed_or_deleted(as_staff_a, october):
    entry = ReportingEntry.objects.first()
    change = reverse("admin:learners_reportingentry_change", args=[entry.pk])
    assert as_staff_a.get(reverse("admin:learners_reportingentry_add")).status_code == 403
    page = as_staff_a.get(change)
    assert page.status_code == 200 and 'type="submit"' not in page.text.split('id="content-main"')[1]
    as_staff_a.post(change, {"state": "accepted", "amount": "99"})
    assert (
        as_staff_a.post(reverse("admin:learners_reportingentry_delete", args=[entry.pk])).status_code == 403
    )
    entry.refresh_from_db()
    assert (entry.state, str(entry.amount)) == ("ready", "1.50")


def test_search_and_filters(as_staff_a, october, waiting):
    assert "Paul Ehrlich" not in page_text(as_staff_a.get(LEDGER, {"q": "lovelace"}))
    text = page_text(as_staff_a.get(LEDGER, {"q": "paul@example.com"}))
    assert "Paul Ehrlich" in text and "Ada Lovelace" not in text
    text = page_text(as_staff_a.get(LEDGER, {"q": "Pain management"}))
    assert "Paul Ehrlich" in text and "Ada Lovelace" in text
    text = page_text(as_staff_a.get(LEDGER, {"state": "waiting"}))
    assert "Waiting for: consent to reporting." in text and "Ada Lovelace" not in text
    text = page_text(as_staff_a.get(LEDGER, {"destination": "cpe_monitor"}))
    assert "Paul Ehrlich" in text and "Ada Lovelace" not in text
    text = page_text(as_staff_a.get(LEDGER, {"completed_on__month": "10", "completed_on__year": "2026"}))
    assert "Ada Lovelace" in text


def test_deadline_filter(as_staff_a, october, activity):
    """At 15 November: rows completed 3 October are overdue (due 2 November), rows completed 20 October to
    the accreditor are due within 7 days (19 November), pharmacy rows of 20 October are due later (19
    December). Exported rows have no deadline left."""
    late = make_learner(
        UserFactory(email="late@example.com"),
        first_name="Lena",
        last_name="Late",
        birth_month=4,
        birth_day=4,
        board_ids=[("ABIM", "ABIM-4")],
        consent=True,
    )
    complete(late, activity, at=OCT_20, moc_boards=["ABIM"])

    def listed(value):
        return page_text(as_staff_a.get(LEDGER, {"deadline": value}))

    overdue, soon, later = listed("overdue"), listed("soon"), listed("later")
    assert "Ada Lovelace" in overdue and "Lena Late" not in overdue and "Paul Ehrlich" not in overdue
    assert "3 reporting ledger" in overdue
    assert "Lena Late" in soon and "Ada Lovelace" not in soon and "Paul Ehrlich" not in soon
    assert "Paul Ehrlich" in later and "Ada Lovelace" not in later and "Lena Late" not in later

    summary = page_text(as_staff_a.get(LEDGER))
    assert "Not yet reported, by deadline Provider Overdue Due within 7 days Provider A 3 1" in summary

    # Ada's and Lena's rows go into a file: nothing is overdue or due soon any more.
    export(as_staff_a)
    assert "Ada Lovelace" not in listed("overdue") and "Lena Late" not in listed("soon")
    assert "0 reporting ledger" in listed("overdue")
    assert "Not yet reported, by deadline" not in page_text(as_staff_a.get(LEDGER))


def test_waiting_rows_count_as_overdue(as_staff_a, waiting):
    text = page_text(as_staff_a.get(LEDGER, {"deadline": "overdue"}))
    assert "Nora Noconsent" in text and "Bob Boardless" in text  # completed 3 October, still waiting
    assert "Edna Noprofile" not in text  # CPE Monitor: 60 days


# --- settling by hand ---------------------------------------------------------------------------------------


def test_accept_by_hand(as_staff_a, october, physician):
    export(as_staff_a)
    abim, abs_, state = rows_of(physician)
    paul_row = rows_of(october["paul"].learner).get()

    response = act(as_staff_a, "mark_accepted", [abim, abs_, paul_row])

    assert response.status_code == 302
    assert "2 rows marked accepted." in messages_of(response)
    assert any("1 row skipped: not exported (Ready to report)" in m for m in messages_of(response))
    assert states([abim, abs_, state, paul_row]) == [
        ("accepted", ""), ("accepted", ""), ("exported", ""), ("ready", ""),
    ]  # fmt: skip
    assert ReportingEntry.objects.get(pk=abim.pk).settled_at is not None
    assert AuditEntry.objects.filter(action="reporting.accepted").count() == 2


def test_the_ledger_services_say_what_they_changed_and_what_they_skipped_and_why(
    as_staff_a, staff_a, october, physician
):
    from learners.services.reporting import ledger

    export(as_staff_a)
    abim, abs_, state = rows_of(physician)
    paul_row = rows_of(october["paul"].learner).get()  # CPE Monitor: not in the accreditor file

    accepted = ledger.settle_entries(entries=[abim, abs_, paul_row], accepted=True, by=staff_a)
    assert accepted.changed == (abim, abs_)
    assert accepted.skipped == ((paul_row, "not exported (Ready to report)"),)

    again = ledger.settle_entries(entries=[abim], accepted=True, by=staff_a)
    assert (again.changed, again.skipped) == ((), ((abim, "not exported (Accepted)"),))

    requeued = ledger.requeue_entries(entries=[abim, state], by=staff_a)
    assert requeued.changed == ()
    assert requeued.skipped == ((abim, "not rejected (Accepted)"), (state, "not rejected (Exported)"))
    assert states([abim, abs_, state, paul_row]) == [
        ("accepted", ""), ("accepted", ""), ("exported", ""), ("ready", ""),
    ]  # fmt: skip
    assert AuditEntry.objects.filter(action="reporting.accepted").count() == 2


def test_reject_previews_then_needs_a_reason(as_staff_a, october, physician):
    export(as_staff_a)
    abim, abs_, _state = rows_of(physician)
    paul_row = rows_of(october["paul"].learner).get()

    preview = act(as_staff_a, "mark_rejected", [abim, paul_row])
    assert preview.status_code == 200
    text = page_text(preview)
    assert "1 row would be marked rejected, 1 not." in text
    assert f"row {abim.pk}: Ada Lovelace" in text
    assert f"row {paul_row.pk}: not exported (Ready to report)" in text
    assert states([abim]) == [("exported", "")]

    no_reason = act(as_staff_a, "mark_rejected", [abim, paul_row], confirm="yes", reason="  ")
    assert no_reason.status_code == 200
    assert "This field is required." in page_text(no_reason)
    assert states([abim]) == [("exported", "")]

    done = act(as_staff_a, "mark_rejected", [abim, paul_row], confirm="yes", reason="Board ID not found")
    assert done.status_code == 302
    assert "1 row marked rejected." in messages_of(done)
    assert states([abim, abs_, paul_row]) == [
        ("rejected", "Board ID not found"), ("exported", ""), ("ready", ""),
    ]  # fmt: skip


def test_requeue_puts_rejected_rows_back_and_they_go_out_again(as_staff_a, october, physician):
    first = export(as_staff_a)
    batch = ExportBatch.objects.get()
    abim, abs_, state = rows_of(physician)
    act(as_staff_a, "mark_rejected", [abim], confirm="yes", reason="Board ID not found")
    act(as_staff_a, "mark_accepted", [abs_])

    response = act(as_staff_a, "requeue", [abim, abs_, state])

    assert "1 rejected row is back in the queue." in messages_of(response)
    assert any("2 rows were not rejected" in m for m in messages_of(response))
    abim.refresh_from_db()
    assert (abim.state, abim.reason, abim.batch, abim.exported_at, abim.settled_at) == (
        "ready", "", None, None, None,
    )  # fmt: skip
    assert states([abs_, state]) == [("accepted", ""), ("exported", "")]

    # The corrected row goes in the next file, alone; the first file is kept as it was sent.
    again = export(as_staff_a)
    assert [r["credits"] for r in pars_records(again.content.decode())] == [
        [("NPI", "1234567893", "AMA PRA Category 1", "1.50"), ("ABIM", "ABIM-448812", "MK", "1.50")]
    ]
    assert list(ReportingEntry.objects.filter(batch=ExportBatch.objects.latest("pk"))) == [abim]
    assert ExportBatch.objects.count() == 2
    batch.refresh_from_db()
    assert batch.content.encode() == first.content
    assert batch.row_count == 3


def test_requeue_of_a_row_whose_learner_withdrew_consent_makes_it_wait(as_staff_a, october, physician):
    from tests.helpers import change_profile

    export(as_staff_a)
    abim = rows_of(physician).first()
    act(as_staff_a, "mark_rejected", [abim], confirm="yes", reason="No consent on file")
    change_profile(physician, consent=False)
    act(as_staff_a, "requeue", [abim])
    assert states([abim]) == [("waiting", "Waiting for: consent to reporting.")]


def test_viewers_cannot_settle_or_requeue(client, viewer_a, staff_a, october, physician):
    client.force_login(staff_a)
    export(client)
    abim, abs_, _state = rows_of(physician)
    act(client, "mark_rejected", [abs_], confirm="yes", reason="Board ID not found")

    client.force_login(viewer_a)
    response = client.get(LEDGER)
    assert response.status_code == 200 and "Ada Lovelace" in page_text(response)
    for value in ("mark_accepted", "mark_rejected", "requeue"):
        assert f'value="{value}"' not in response.text
    assert "Record registry results from a CSV" not in response.text
    act(client, "mark_accepted", [abim])
    act(client, "mark_rejected", [abim], confirm="yes", reason="Viewer tries")
    act(client, "requeue", [abs_])
    assert states([abim, abs_]) == [("exported", ""), ("rejected", "Board ID not found")]
    assert client.get(RETURNED).status_code == 403
    assert upload(client, f"row_id,status,reason\r\n{abim.pk},accepted,\r\n").status_code == 403
    assert states([abim]) == [("exported", "")]


# --- the returned file --------------------------------------------------------------------------------------


def test_returned_file_settles_rows_and_lists_every_error(
    client, staff_a, staff_b, october, october_b, physician
):
    client.force_login(staff_b)
    export(client)
    bea_row = ReportingEntry.objects.get(learner__last_name="Outsider")
    client.force_login(staff_a)
    export(client)
    abim, abs_, state = rows_of(physician)
    paul_row = rows_of(october["paul"].learner).get()  # ready, never exported

    content = (
        "\ufeffrow_id,status,reason\r\n"
        f"{abim.pk},accepted,\r\n"
        f"{abs_.pk},Rejected,Board ID does not match\r\n"
        f"{state.pk},rejected,\r\n"
        "999999,accepted,\r\n"
        f"{bea_row.pk},accepted,\r\n"
        f"{paul_row.pk},accepted,\r\n"
        "abc,accepted,\r\n"
        f"{state.pk},maybe,\r\n"
    )
    response = upload(client, content)

    assert response.status_code == 200
    text = page_text(response)
    assert "1 accepted, 1 rejected, 6 lines not applied." in text
    errors = [
        "line 4: a rejection needs a reason",
        "line 8: row_id 'abc' is not a number",
        "line 9: status must be accepted or rejected",
        "row 999999 is not one of your exported rows",
        f"row {bea_row.pk} is not one of your exported rows",
        f"row {paul_row.pk} is not exported or already accepted: not changed",
    ]
    for error in errors:
        assert error in text, error
    assert states([abim, abs_, state, paul_row, bea_row]) == [
        ("accepted", ""), ("rejected", "Board ID does not match"), ("exported", ""), ("ready", ""),
        ("exported", ""),
    ]  # fmt: skip
    assert "1 accepted, 1 rejected, 6 lines not applied." in messages_of(response)


def test_a_returned_files_long_reason_is_kept_to_the_ledgers_length(as_staff_a, october, physician):
    export(as_staff_a)
    abim = rows_of(physician).first()
    reason = "Diplomate not found: " + "the board ID does not match the name and birth date on file. " * 8

    response = upload(as_staff_a, f'row_id,status,reason\r\n{abim.pk},rejected,"{reason}"\r\n')

    assert "0 accepted, 1 rejected, 0 lines not applied." in page_text(response)
    abim.refresh_from_db()
    assert abim.state == "rejected" and abim.reason == reason.strip()[:300]


def test_returned_file_naming_other_providers_rows_touches_nothing(
    client, staff_a, staff_b, october, october_b, physician
):
    client.force_login(staff_a)
    export(client)
    rows_a = list(rows_of(physician))
    client.force_login(staff_b)

    response = upload(client, "row_id,status,reason\n" + "".join(f"{e.pk},rejected,Hijack\n" for e in rows_a))

    text = page_text(response)
    assert "0 accepted, 0 rejected, 3 lines not applied." in text
    for entry in rows_a:
        assert f"row {entry.pk} is not one of your exported rows" in text
    assert {s for s, _ in states(rows_a)} == {"exported"}


def test_a_returned_file_without_the_columns_is_refused(as_staff_a, october):
    response = upload(as_staff_a, "id;result\n1;ok\n")
    assert "The file needs the columns row_id and status" in page_text(response)
    response = upload(as_staff_a, "x", name="returned.csv")
    assert "The file needs the columns row_id and status" in page_text(response)
    response = as_staff_a.post(
        RETURNED, {"file": SimpleUploadedFile("r.csv", b"\xff\xfe\x00bad", "text/csv")}
    )
    assert "not UTF-8" in page_text(response)
    assert as_staff_a.post(RETURNED, {}).status_code == 200
    assert set(ReportingEntry.objects.values_list("state", flat=True)) == {"ready"}


def test_the_ledger_links_to_the_returned_file_page(as_staff_a, october):
    assert f'href="{RETURNED}"' in as_staff_a.get(LEDGER).text
    assert as_staff_a.get(RETURNED).status_code == 200


# --- scoping ------------------------------------------------------------------------------------------------


def test_other_providers_staff_never_see_or_settle_the_rows(client, staff_a, staff_b, october, october_b):
    client.force_login(staff_a)
    export(client)
    rows_a = list(ReportingEntry.objects.filter(activity__provider__name="Provider A", state="exported"))
    client.force_login(staff_b)

    response = client.get(LEDGER)
    text = page_text(response)
    assert "Bea Outsider" in text
    assert "Ada Lovelace" not in text and "Paul Ehrlich" not in text
    assert "Pain management update" not in text  # not even in the activity filter
    assert "Provider A" not in text
    assert "Ada" not in page_text(client.get(LEDGER, {"q": "Lovelace"}))
    change = reverse("admin:learners_reportingentry_change", args=[rows_a[0].pk])
    assert client.get(change).status_code == 404

    for action, extra in (
        ("mark_accepted", {}),
        ("mark_rejected", {}),
        ("mark_rejected", {"confirm": "yes", "reason": "Hijack"}),
        ("requeue", {}),
    ):
        reply = act(client, action, rows_a, **extra)
        assert "Ada Lovelace" not in page_text(reply)
    assert {s for s, _ in states(rows_a)} == {"exported"}


def test_accreditation_staff_see_every_provider(client, accreditor, october, october_b):
    client.force_login(accreditor)
    text = page_text(client.get(LEDGER))
    assert "Ada Lovelace" in text and "Bea Outsider" in text
    assert "Provider A" in text and "Provider B" in text
    text = page_text(client.get(LEDGER, {"deadline": "overdue"}))
    assert "Ada Lovelace" in text and "Bea Outsider" in text  # Bea completed 10 October: due 9 November
    assert "Provider A 3 0 Provider B 1 0" in text  # overdue and due soon, per provider
    provider_b = ReportingEntry.objects.get(learner__last_name="Outsider").activity.provider_id
    text = page_text(client.get(LEDGER, {"deadline": "overdue", "activity__provider__id__exact": provider_b}))
    assert "Bea Outsider" in text and "Ada Lovelace" not in text


# --- query counts -------------------------------------------------------------------------------------------


def _learners_completing(activity, count: int, offset: int = 0):
    for n in range(offset, offset + count):
        person = make_learner(
            UserFactory(email=f"many{n}@example.com"),
            first_name=f"Many{n}",
            last_name="Physician",
            birth_month=1,
            birth_day=1 + n % 28,
            licenses=[("CA", f"C{n}")],
            board_ids=[("ABIM", f"ABIM-{n}")],
            consent=True,
        )
        complete(person, activity, at=OCT_3, moc_boards=["ABIM"])


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_ledger_queries_do_not_grow_with_the_rows(as_staff_a, activity):
    _learners_completing(activity, 5)
    assert ReportingEntry.objects.count() == 10
    few = _queries(as_staff_a, LEDGER)
    few_filtered = _queries(as_staff_a, LEDGER, {"deadline": "overdue", "state": "ready"})
    _learners_completing(activity, 20, offset=5)
    assert ReportingEntry.objects.count() == 50
    assert _queries(as_staff_a, LEDGER) == few
    assert _queries(as_staff_a, LEDGER, {"deadline": "overdue", "state": "ready"}) == few_filtered


def _posting_queries(client, url, data) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data)
    assert response.status_code == 200
    return len(queries)


def _settling_queries(client, activity) -> tuple[int, int, int]:
    """Queries to export every ready row, settle them from a returned file (half accepted, half rejected
    with one of two reasons), and put the rejected ones back in the queue."""
    export_queries = _posting_queries(client, EXPORT, {"preset": "accreditor_last_month"})
    rows = list(ReportingEntry.objects.filter(state="exported").order_by("pk"))
    lines = [
        f"{e.pk},accepted," if n % 2 else f"{e.pk},rejected,{'Board ID not found' if n % 4 else 'Bad date'}"
        for n, e in enumerate(rows)
    ]
    content = "row_id,status,reason\n" + "\n".join(lines) + "\n"
    returned_queries = _posting_queries(
        client, RETURNED, {"file": SimpleUploadedFile("r.csv", content.encode(), "text/csv")}
    )
    assert ReportingEntry.objects.filter(state="rejected").count() == len(rows) // 2
    rejected = ReportingEntry.objects.filter(state="rejected")
    requeue = {"action": "requeue", ACTION_CHECKBOX_NAME: [e.pk for e in rejected]}
    with CaptureQueriesContext(connection) as queries:
        assert client.post(LEDGER, requeue).status_code == 302
    assert not ReportingEntry.objects.filter(state="rejected").exists()
    ReportingEntry.objects.update(state="ready", batch=None, exported_at=None, settled_at=None, reason="")
    return export_queries, returned_queries, len(queries)


def test_exporting_and_settling_queries_do_not_grow_with_the_rows(as_staff_a, activity):
    _learners_completing(activity, 4)
    _settling_queries(as_staff_a, activity)  # once first: caches filled (content types), as in a process
    few = _settling_queries(as_staff_a, activity)
    _learners_completing(activity, 16, offset=4)
    assert ReportingEntry.objects.count() == 40
    assert _settling_queries(as_staff_a, activity) == few


def test_the_results_page_says_the_csv_is_our_own_format(as_staff_a, october):
    ledger = as_staff_a.get(LEDGER)
    assert "Record registry results from a CSV (our own format)" in page_text(ledger)
    assert "returned file" not in page_text(ledger).lower()
    page = page_text(as_staff_a.get(RETURNED))
    assert "Record registry results from a CSV (our own format)" in page
    assert "it is not a file a registry sends" in page
    for column in (
        "row_id The row_id column of the exported file",
        "status accepted or rejected",
        "reason Why",
    ):
        assert column in page, column
