"""The learner's dashboard (/me/) shows where each claim is reported and how far it has got, with what the
learner still has to give and where to give it; only their own rows, in a fixed number of queries."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learners.models import ReportingEntry
from learners.services.reporting import exports, ledger
from tests.factories import UserFactory
from tests.helpers import ABIM_ID, BIRTH, EPROFILE_ID, change_profile, complete, make_learner, page_text
from tests.ledger.conftest import make_activity

pytestmark = pytest.mark.django_db

URL = reverse("learners:dashboard")
PROFILE_URL = reverse("learners:profile")


def reporting_items(response) -> list[str]:
    """The text of each reporting row on the page, in order."""
    items = re.findall(r'<li class="reporting-[a-z]+">(.*?)</li>', response.content.decode(), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def test_the_dashboard_shows_each_claims_rows_and_states(client, physician, activity, other_activity):
    change_profile(physician, licenses=[("CA", "A123")])
    complete(physician, activity, moc_boards=["ABIM"])
    complete(physician, other_activity)  # AMA credit for the state boards only

    client.force_login(physician)
    response = client.get(URL)

    assert response.status_code == 200
    text = page_text(response)
    assert "Reported to" in text
    assert sorted(reporting_items(response)) == sorted(
        [
            "Accreditor, for ABIM MOC: 1.50 points — Ready to report",
            "Accreditor, for ABIM MOC: 0.50 points — Ready to report",
            "Accreditor, for your state boards: 1.50 AMA — Ready to report",
            "Accreditor, for your state boards: 1.50 AMA — Ready to report",
        ]
    )
    assert 'class="reporting-ready"' in response.content.decode()
    assert "Update your profile" not in text  # nothing waits


def test_a_waiting_row_shows_the_reason_and_links_to_the_profile(client, pharmacist, activity):
    complete(pharmacist, activity)

    client.force_login(pharmacist)
    response = client.get(URL)

    (item,) = reporting_items(response)
    assert item == (
        "CPE Monitor: 1.50 pharmacy hours — Waiting for consent or details "
        "Waiting for: birth month and day, NABP e-Profile ID. Update your profile"
    )
    assert f'<a href="{PROFILE_URL}">Update your profile</a>' in response.content.decode()
    assert client.get(PROFILE_URL).status_code == 200


def test_the_dashboard_follows_the_profile(client, pharmacist, activity):
    complete(pharmacist, activity)
    change_profile(pharmacist, consent=True, birth=BIRTH, eprofile=EPROFILE_ID)

    client.force_login(pharmacist)
    response = client.get(URL)

    assert reporting_items(response) == ["CPE Monitor: 1.50 pharmacy hours — Ready to report"]
    assert "Update your profile" not in page_text(response)


def test_exported_accepted_and_rejected_rows_show_their_state(
    client, physician, activity, provider_a, staff_a
):
    change_profile(physician, licenses=[("CA", "A123")])
    complete(physician, activity, moc_boards=["ABIM"])
    exports.export_entries(
        entries=ReportingEntry.objects.filter(learner=physician),
        destination="accreditor",
        by=staff_a,
        description="test",
        provider=provider_a,
    )
    mk, ps, _state_boards = ReportingEntry.objects.filter(learner=physician).order_by("board", "credit_type")
    ledger.settle_entries(entries=[mk], accepted=True, by=staff_a)
    ledger.settle_entries(entries=[ps], accepted=False, reason="Board ID not found", by=staff_a)

    client.force_login(physician)
    response = client.get(URL)

    assert sorted(reporting_items(response)) == sorted(
        [
            "Accreditor, for ABIM MOC: 1.50 points — Accepted",
            "Accreditor, for ABIM MOC: 0.50 points — Rejected Board ID not found",
            "Accreditor, for your state boards: 1.50 AMA — Exported",
        ]
    )


def test_a_claim_with_nothing_to_report_says_so(client, activity):
    nurse = make_learner(profession="nurse")
    complete(nurse, activity)

    client.force_login(nurse)
    response = client.get(URL)

    assert reporting_items(response) == []
    assert "Nothing to report" in page_text(response)


def test_another_learners_rows_never_show(client, physician, activity, other_activity, learner_b):
    other = make_learner(learner_b, first_name="Bea", last_name="Outsider", profession="pharmacist")
    complete(other, activity)  # the same activity: waiting, with a reason
    complete(other, other_activity)
    complete(physician, activity, moc_boards=["ABIM"])

    client.force_login(physician)
    response = client.get(URL)

    assert sorted(reporting_items(response)) == sorted(
        [
            "Accreditor, for ABIM MOC: 1.50 points — Ready to report",
            "Accreditor, for ABIM MOC: 0.50 points — Ready to report",
        ]
    )
    text = page_text(response)
    assert "CPE Monitor" not in text
    assert "NABP e-Profile ID" not in text
    assert "Spinal cord stimulation" not in text  # the other learner's second activity

    client.force_login(other)
    response = client.get(URL)
    assert [item.split(" — ")[0] for item in reporting_items(response)] == [
        "CPE Monitor: 1.50 pharmacy hours"
    ] * 2
    assert "ABIM MOC" not in page_text(response)


def dashboard_queries(client, user) -> tuple[int, object]:
    client.force_login(user)
    client.get(URL)  # warm: session, content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries), response


def physician_with_claims(provider, count: int, email: str):
    user = make_learner(
        UserFactory(email=email),
        consent=True,
        birth=BIRTH,
        board_ids=[("ABIM", ABIM_ID)],
        licenses=[("CA", "A123")],
    )
    for n in range(count):
        activity = make_activity(provider, title=f"{email} activity {n}")
        complete(user, activity, moc_boards=["ABIM"], at=datetime(2025, 1, 1 + n, 9, tzinfo=UTC))
    return user


def test_the_dashboards_queries_do_not_grow_with_the_claims(client, provider_a):
    few = physician_with_claims(provider_a, 2, "few@example.com")
    many = physician_with_claims(provider_a, 8, "many@example.com")

    few_queries, few_response = dashboard_queries(client, few)
    many_queries, many_response = dashboard_queries(client, many)

    assert len(reporting_items(few_response)) == 2 * 3  # two MOC lines and the state boards, per claim
    assert len(reporting_items(many_response)) == 8 * 3
    assert many_queries == few_queries
