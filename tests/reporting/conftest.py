"""Reporting fixtures: a month of MOC, state-board and pharmacy completions made through the services.

The clock stands at 15 November 2026, so "last month" is October 2026. The personas (``tests/conftest.py``)
hold the reporting IDs these tests count, and learners complete activities with ``tests.helpers.complete``
(dated with ``at=``), so the ledger holds only what the portal itself writes.
"""

import re

import pytest
import time_machine
from django.urls import reverse

from learners.models import ReportingEntry
from tests.factories import ActivityFactory, UserFactory, utc
from tests.helpers import EPROFILE_ID, NPI, change_profile, complete, make_learner

NOW = utc(2026, 11, 15, 10, 0)
OCT_3, OCT_20, OCT_31 = utc(2026, 10, 3, 14, 30), utc(2026, 10, 20, 9, 15), utc(2026, 10, 31, 23, 30)
SEP_28, NOV_2 = utc(2026, 9, 28, 16, 0), utc(2026, 11, 2, 8, 0)
PARS_ID = "260042001"
ACCME_ID_A, ACCME_ID_B = "0000421", "0000733"
UAN = "JA0000000-0000-26-042-H01-P"

LEDGER = reverse("admin:learners_reportingentry_changelist")
EXPORT = reverse("admin:learners_reportingentry_export")
RETURNED = reverse("admin:learners_reportingentry_returned")
ACTIVITY_CSV = reverse("admin:learners_reportingentry_activity_csv")
BATCHES = reverse("admin:learners_exportbatch_changelist")


@pytest.fixture(autouse=True)
def registry_accounts(db, provider_a, provider_b):
    """Both providers hold ACCME provider IDs and take part in the State Medical Board collaboration."""
    for provider, accme_id in ((provider_a, ACCME_ID_A), (provider_b, ACCME_ID_B)):
        provider.accme_provider_id, provider.state_board_reporting = accme_id, True
        provider.save(update_fields=["accme_provider_id", "state_board_reporting"])


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def moc_activity(provider, *, title, pars_id=PARS_ID, uan=UAN):
    """AMA credit and pharmacy hours at 1.50, MOC with ABIM (medical knowledge) and ABS (accredited CME)."""
    activity = ActivityFactory(
        provider=provider,
        title=title,
        start=utc(2026, 1, 10),
        end=utc(2027, 1, 10),
        credits={"ama_pra_1": "1.50", "pharmacy": "1.50"},
        moc=[("ABIM", "medical_knowledge", "1.50"), ("ABS", "accredited_cme", "1.00")],
        accreditor_activity_id=pars_id,
    )
    activity.credits.filter(credit_type_id="pharmacy").update(
        activity_number=uan, acpe_activity_type="knowledge"
    )
    return activity


PARS_FIXED = [
    "provider_id", "activity_id", "activity_title", "learner_first_name", "learner_last_name", "birth",
    "completion_date", "action",
]  # fmt: skip


def pars_records(text: str) -> list[dict]:
    """The PARS file's records: the fixed fields by name, then ``credits`` as (domain, ID, type, amount)."""
    records = []
    for line in text.split("\r\n")[:-1]:
        fields = line.split("\t")
        record = dict(zip(PARS_FIXED, fields[: len(PARS_FIXED)], strict=True))
        rest = fields[len(PARS_FIXED) :]
        assert len(rest) % 4 == 0, line
        record["credits"] = [tuple(rest[i : i + 4]) for i in range(0, len(rest), 4)]
        records.append(record)
    return records


def rows_of(*learners, **filters):
    return ReportingEntry.objects.filter(learner__in=learners, **filters).order_by("pk")


@pytest.fixture
def activity(provider_a):
    return moc_activity(provider_a, title="Pain management update")


@pytest.fixture
def physician_details():
    """Ada: two state licenses, ABIM and ABS board IDs and a birth date, consenting to reporting."""
    return {
        "consent": True,
        "npi": NPI,
        "birth": (7, 4),
        "licenses": [("CA", "A123456"), ("NY", "298877")],
        "board_ids": [("ABIM", "ABIM-448812"), ("ABS", "ABS-77120")],
    }


@pytest.fixture
def pharmacist_details():
    """Paul: an e-Profile ID and a birth date, consenting to reporting."""
    return {"consent": True, "birth": (3, 9), "eprofile": EPROFILE_ID}


@pytest.fixture
def physician_b_details():
    """Bea: an ABIM board ID and a birth date, consenting to reporting."""
    return {"consent": True, "birth": (12, 25), "board_ids": [("ABIM", "ABIM-999")]}


@pytest.fixture
def october(physician, pharmacist, activity):
    """Ada completed on 3 October (MOC with both boards), Paul on 20 October: all ready."""
    return {
        "ada": complete(physician, activity, at=OCT_3, moc_boards=["ABIM", "ABS"]),
        "paul": complete(pharmacist, activity, at=OCT_20),
    }


@pytest.fixture
def waiting(activity):
    """Three learners whose October rows wait: no consent, a board ID taken back, no e-Profile ID."""
    no_consent = make_learner(
        UserFactory(email="noconsent@example.com"),
        first_name="Nora",
        last_name="Noconsent",
        consent=False,
        birth_month=1,
        birth_day=2,
        licenses=[("TX", "T5550")],
    )
    complete(no_consent, activity, at=OCT_3)
    no_board_id = make_learner(
        UserFactory(email="noboard@example.com"),
        first_name="Bob",
        last_name="Boardless",
        birth_month=5,
        birth_day=6,
        board_ids=[("ABIM", "ABIM-1"), ("ABS", "ABS-2")],
        consent=True,
    )
    complete(no_board_id, activity, at=OCT_3, moc_boards=["ABIM", "ABS"])
    change_profile(no_board_id, board_ids=[("ABIM", "ABIM-1")])  # the ABS row now waits for the ID
    no_eprofile = make_learner(
        UserFactory(email="noeprofile@example.com"),
        first_name="Edna",
        last_name="Noprofile",
        profession="pharmacist",
        birth_month=8,
        birth_day=9,
        consent=True,
    )
    complete(no_eprofile, activity, at=OCT_20)
    return {"no_consent": no_consent, "no_board_id": no_board_id, "no_eprofile": no_eprofile}


@pytest.fixture
def moc_activity_b(provider_b):
    return moc_activity(
        provider_b, title="Provider B cardiology", pars_id="260099009", uan="0421-0000-26-009-L01-P"
    )


@pytest.fixture
def october_b(physician_b, moc_activity_b):
    """Bea completed provider B's activity on 10 October, MOC with ABIM: ready."""
    return complete(physician_b, moc_activity_b, at=utc(2026, 10, 10, 12, 0), moc_boards=["ABIM"])


DOWNLOAD_LINK = re.compile(r'<li>[^<]*<a class="button" href="([^"]+)" download>')


def made_files(client, data) -> tuple[object, list]:
    """Export from the Export files page (a preset or the form): the page that answers, and the files it
    lists as made, each downloaded through its link as staff would."""
    page = client.post(EXPORT, data)
    assert page.status_code == 200, page
    assert page["Content-Type"].startswith("text/html")
    result = page.text.split('id="export-result"', 1)[1].split("</div>", 1)[0]
    return page, [client.get(url) for url in DOWNLOAD_LINK.findall(result)]


def export_file(client, data):
    """Export and download the one file the export made."""
    _page, files = made_files(client, data)
    assert len(files) == 1, f"{len(files)} files made"
    return files[0]
