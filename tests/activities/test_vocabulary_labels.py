"""Board, credit type and MOC credit type labels come from ``activities.vocabulary`` alone: the admin ledger,
the activity CSV, the CME dashboard and the certificate name each code as the vocabulary does.

The credit types' rows are renamed first, as accreditation staff could in the admin, so a page that read the
table instead of the vocabulary would show the new name and fail here."""

import csv
import html
import io
import pathlib
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import vocabulary
from activities.models import CreditType
from learners.models import ReportingEntry
from learners.pdf.certificate import render_certificate
from learners.selectors.dashboards import ANNUAL_REPORT_HEADER
from learners.services import certificates
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import complete, make_learner, text_of

pytestmark = pytest.mark.django_db

CREDITS = {"ama_pra_1": "1.50", "ipce": "1.50", "pharmacy": "1.50"}
PHYSICIAN_CREDITS = ["ama_pra_1", "ipce"]  # a physician may not claim pharmacy hours
MOC = [
    ("ABIM", "medical_knowledge", "1.50"),
    ("ABIM", "patient_safety", "0.50"),
    ("ABPATH", "lifelong_learning", "1.00"),
]
ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_boards_own_spelling():
    assert vocabulary.board_abbreviation("ABPATH") == "ABPath"
    assert vocabulary.board_name("ABPATH") == "American Board of Pathology"
    assert vocabulary.board_name("ABOHNS") == "American Board of Otolaryngology–Head and Neck Surgery"
    assert [
        vocabulary.moc_credit_type_label(c)
        for c in ("medical_knowledge", "practice_assessment", "patient_safety")
    ] == [
        "Medical Knowledge",
        "Practice Assessment",
        "Patient Safety",
    ]
    assert vocabulary.credit_type_label("ipce") == "IPCE Credit"


def test_an_unknown_code_is_shown_as_it_is():
    assert vocabulary.board_abbreviation("ABXYZ") == vocabulary.board_name("ABXYZ") == "ABXYZ"
    assert vocabulary.moc_credit_type_label("new_kind") == "new_kind"
    assert vocabulary.credit_type_label("local_credit") == "local_credit"
    assert vocabulary.credit_type_label("local_credit", default="Local Credit") == "Local Credit"


def test_one_spelling_per_code():
    """Every board, credit type and MOC credit type has one label, none differing from another by case only."""
    for labels in (
        [a for _, a, _ in vocabulary.MOC_BOARDS],
        [n for _, _, n in vocabulary.MOC_BOARDS],
        [label for _, label in vocabulary.MOC_CREDIT_TYPE_CHOICES],
        [c.name for c in vocabulary.CREDIT_TYPES],
    ):
        assert len({label.casefold() for label in labels}) == len(labels)
    # The MOC credit types are capitalised as the boards write them: every word but "in" and "of".
    for _, label in vocabulary.MOC_CREDIT_TYPE_CHOICES:
        words = re.split(r"[ -]", label)
        assert all(w[0].isupper() for w in words if w not in {"in", "of"}), label


def test_no_module_keeps_its_own_copy_of_the_labels():
    """Code outside the vocabulary asks its functions, never its tables, for a label."""
    copies = re.compile(
        r"MOC_BOARD_ABBREVIATIONS|MOC_BOARD_NAMES|dict\(\s*vocabulary\.MOC_|CREDIT_TYPE_BY_CODE\[[^]]+\]\.name"
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in ("activities", "assessments", "learners", "portal")
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and path.name != "vocabulary.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if copies.search(line)
    ]
    assert found == []


@pytest.fixture
def renamed():
    """Every credit type's row renamed, as staff could in the admin."""
    for credit_type in CreditType.objects.all():
        credit_type.name = f"{credit_type.name.lower()} (renamed)"
        credit_type.save(update_fields=["name"])


@pytest.fixture
def enrollment(renamed, provider_a):
    """A licensed physician who claimed AMA and IPCE credit and MOC with ABIM (two types) and ABPath, and a
    pharmacist who claimed pharmacy hours: ledger rows for the state boards, each board and CPE Monitor."""
    activity = ActivityFactory(
        provider=provider_a,
        title="Labels review",
        credits=CREDITS,
        moc=MOC,
        accreditor_activity_id="123456787",
    )
    activity.credits.filter(credit_type="pharmacy").update(
        activity_number="0197-0000-26-007-L01-P", acpe_activity_type="knowledge"
    )
    provider_a.state_board_reporting = (
        True  # the provider takes part in the state medical board collaboration
    )
    provider_a.save(update_fields=["state_board_reporting"])
    physician = make_learner(
        first_name="Ada",
        last_name="Lovelace",
        consent=True,
        licenses=[("CA", "A123456")],
        board_ids=[("ABIM", "ABIM-1"), ("ABPATH", "PATH-1")],
    )
    pharmacist = make_learner(
        UserFactory(email="paul@example.com"), first_name="Paul", last_name="Ehrlich", profession="pharmacist"
    )
    complete(pharmacist, activity)
    return complete(physician, activity, moc_boards=["ABIM", "ABPATH"])


def cells(response, column: str) -> list[str]:
    text = response.content.decode()
    found = re.findall(rf'<t[dh] class="field-{column}[^"]*">(.*?)</t[dh]>', text, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in found]


def labels(codes) -> list[str]:
    return [vocabulary.credit_type_label(code) for code in codes]


def test_the_admin_ledger_names_boards_and_types_as_the_vocabulary(client, accreditor, enrollment):
    client.force_login(accreditor)
    response = client.get(reverse("admin:learners_reportingentry_changelist"))

    # One column, "board: credit type" (the credit type alone for a row with no board).
    shown = sorted(
        tuple(cell.split(": ", 1)) if ": " in cell else ("—", cell)
        for cell in cells(response, "credit_display")
    )
    expected = []
    for entry in ReportingEntry.objects.filter(activity=enrollment.activity):
        if entry.board == "STATE":
            board = "State boards"
        else:
            board = vocabulary.board_abbreviation(entry.board) if entry.board else "—"
        if entry.credit_type in vocabulary.CREDIT_TYPE_BY_CODE:
            credit = vocabulary.credit_type_label(entry.credit_type)
        else:
            credit = vocabulary.moc_credit_type_label(entry.credit_type)
        expected.append((board, credit))
    assert shown == sorted(expected)
    assert {("ABPath", "Lifelong Learning"), ("ABIM", "Patient Safety")} <= set(shown)
    assert ("State boards", "AMA PRA Category 1 Credit™") in shown
    assert ("—", "ACPE Pharmacy Contact Hours") in shown


def test_the_activity_csv_names_them_as_the_vocabulary(client, accreditor, enrollment):
    client.force_login(accreditor)
    response = client.get(
        reverse("admin:learners_reportingentry_activity_csv"), {"activity": enrollment.activity_id}
    )

    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    row = next(row for row in rows if row[0] == "Lovelace")
    moc_column = header.index("MOC")
    assert header[moc_column - len(CREDITS) : moc_column] == labels(CREDITS)
    assert row[moc_column] == "; ".join(
        f"{vocabulary.board_abbreviation(board)} {vocabulary.moc_credit_type_label(kind)} {points:.2f}"
        for board, kind, points in ((b, k, float(p)) for b, k, p in MOC)
    )


def test_the_dashboard_names_credit_types_as_the_vocabulary(client, accreditor, enrollment):
    client.force_login(accreditor)
    year = timezone.localdate().year

    header = next(
        csv.reader(io.StringIO(client.get("/admin/learners/dashboard/annual.csv", {"year": year}).text))
    )
    assert header[len(ANNUAL_REPORT_HEADER) :] == labels(CREDITS)
    page = client.get("/admin/learners/dashboard/", {"year": year}).text
    assert all(html.escape(label) in page or label in page for label in labels(CREDITS))
    assert "(renamed)" not in page


def test_the_certificate_names_them_as_the_vocabulary(enrollment):
    certificate = certificates.issue_certificate(enrollment=enrollment)
    version = certificate.versions.get()

    snapshot = version.snapshot
    assert [c["type"] for c in snapshot["credits"]] == labels(PHYSICIAN_CREDITS)
    assert [(m["board"], m["credit_type"]) for m in snapshot["moc"]] == [
        (vocabulary.board_abbreviation(board), vocabulary.moc_credit_type_label(kind))
        for board, kind, _ in MOC
    ]
    text = text_of(render_certificate(version))
    for label in labels(PHYSICIAN_CREDITS):
        assert f"1.50 {label}" in text
    assert (
        "Maintenance of Certification: ABIM 1.50 points (Medical Knowledge); ABIM 0.50 points (Patient Safety); "
        "ABPath 1.00 points (Lifelong Learning)."
    ) in text
    assert "renamed" not in text
