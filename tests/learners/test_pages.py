"""The learner's own pages: /me/, the transcript with its CSV and PDF, and the activity page's call to action."""

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from learners import services
from tests.factories import ActivityFactory
from tests.helpers import (
    NAMES_IN_SCRIPTS,
    PRIVATE_USE,
    RIGHT_TO_LEFT,
    complete,
    drawn,
    drawn_text,
    extracted_text,
    glyphless,
    issue,
    make_learner,
    page_text,
)

pytestmark = pytest.mark.django_db

D = Decimal
TRANSCRIPT = reverse("learners:transcript")
TRANSCRIPT_CSV = reverse("learners:transcript_csv")
TRANSCRIPT_PDF = reverse("learners:transcript_pdf")


def claim(user, activity, at, **amounts):
    enrollment, _ = services.enroll(learner=user, activity=activity, at=at)
    return services.claim_credit(
        enrollment=enrollment,
        amounts={code: D(amount) for code, amount in amounts.items()},
        attested=True,
        at=at,
    )


def course(provider, title, **credits):
    return ActivityFactory(
        provider=provider,
        title=title,
        start=datetime(2025, 1, 1, tzinfo=UTC),
        end=datetime(2027, 12, 31, tzinfo=UTC),
        credits=credits,
    )


@pytest.fixture
def history(physician, physician_b, provider_a, provider_b):
    """Learner A's three claims in March, May and July 2026; learner B's one claim beside them."""
    march = course(provider_a, "Sepsis bundles", ama_pra_1="1.50", ipce="1.00")
    may = course(provider_a, "Opioid stewardship", ama_pra_1="1.00")
    july = course(provider_b, "Airway management", ama_pra_1="1.00", ipce="2.00")
    claim(physician, march, datetime(2026, 3, 15, 10, tzinfo=UTC), ama_pra_1="1.50", ipce="1.00")
    claim(physician, may, datetime(2026, 5, 20, 10, tzinfo=UTC), ama_pra_1="0.75")
    claim(physician, july, datetime(2026, 7, 1, 23, 30, tzinfo=UTC), ama_pra_1="1.00", ipce="2.00")
    theirs = course(provider_b, "Someone else's course", ama_pra_1="1.00", ipce="1.00")
    claim(physician_b, theirs, datetime(2026, 5, 2, tzinfo=UTC), ama_pra_1="0.25", ipce="0.50")
    return physician


def totals(response) -> dict[str, str]:
    block = re.search(r'<dl class="totals">(.*?)</dl>', response.content.decode(), re.S)
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block.group(1))) if block else {}


def rows(response) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def pdf_text(response) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


# /me/


def test_the_dashboard_lists_enrollments_in_progress_and_completed_with_claimed_amounts(
    client, physician, provider_a
):
    started = course(provider_a, "Still going", ama_pra_1="1.00")
    done = ActivityFactory(provider=provider_a, title="All done", moc=[("ABIM", "medical_knowledge", "1.00")])
    in_progress, _ = services.enroll(learner=physician, activity=started)
    finished, _ = services.enroll(learner=physician, activity=done)
    services.claim_credit(
        enrollment=finished, amounts={"ama_pra_1": D("1.25")}, attested=True, moc_boards=["ABIM"]
    )
    client.force_login(physician)

    response = client.get(reverse("learners:dashboard"))

    page = page_text(response)
    progress, completed = page.split("In progress", 1)[1].split("Completed", 1)
    assert "Still going" in progress and "All done" not in progress
    assert reverse("learners:claim", kwargs={"public_id": in_progress.public_id}) in response.content.decode()
    assert "All done" in completed and "Still going" not in completed
    assert "1.25 AMA PRA Category 1 Credit™" in completed
    assert "1 ABIM MOC (Medical Knowledge)" in completed


def test_the_dashboard_shows_only_the_learners_own_enrollments(client, history, physician_b):
    client.force_login(history)

    page = page_text(client.get(reverse("learners:dashboard")))

    assert "Sepsis bundles" in page
    assert "Someone else's course" not in page


def test_the_other_learner_sees_only_theirs(client, history, physician_b):
    client.force_login(physician_b)

    page = page_text(client.get(reverse("learners:dashboard")))

    assert "Someone else's course" in page
    assert "Sepsis bundles" not in page


def test_the_dashboard_asks_a_learner_without_a_profile_for_one(client, learner_b):
    client.force_login(learner_b)

    assert "complete your profile" in page_text(client.get(reverse("learners:dashboard")))


# Transcript


def test_the_transcript_lists_every_claimed_credit_with_totals_per_type(client, history):
    client.force_login(history)

    response = client.get(TRANSCRIPT)

    assert response.status_code == 200
    assert totals(response) == {"AMA PRA Category 1 Credit™": "3.25", "IPCE Credit": "3"}
    assert [(row[0], row[1], row[3], row[4]) for row in rows(response)] == [
        ("2026-03-15", "Sepsis bundles", "AMA PRA Category 1 Credit™", "1.50"),
        ("2026-03-15", "Sepsis bundles", "IPCE Credit", "1"),
        ("2026-05-20", "Opioid stewardship", "AMA PRA Category 1 Credit™", "0.75"),
        ("2026-07-01", "Airway management", "AMA PRA Category 1 Credit™", "1"),
        ("2026-07-01", "Airway management", "IPCE Credit", "2"),
    ]
    assert "Someone else's course" not in page_text(response)


def test_the_transcript_covers_a_date_range_including_both_ends(client, history):
    client.force_login(history)

    response = client.get(TRANSCRIPT, {"start": "2026-05-20", "end": "2026-07-01"})

    assert [row[1] for row in rows(response)] == [
        "Opioid stewardship",
        "Airway management",
        "Airway management",
    ]
    assert totals(response) == {"AMA PRA Category 1 Credit™": "1.75", "IPCE Credit": "2"}


def test_the_transcript_range_may_be_open_at_either_end(client, history):
    client.force_login(history)

    until_april = client.get(TRANSCRIPT, {"end": "2026-04-30"})
    from_june = client.get(TRANSCRIPT, {"start": "2026-06-01"})

    assert {row[1] for row in rows(until_april)} == {"Sepsis bundles"}
    assert {row[1] for row in rows(from_june)} == {"Airway management"}


def test_the_transcript_filters_by_credit_type(client, history):
    client.force_login(history)

    response = client.get(TRANSCRIPT, {"credit_type": "ipce"})

    assert [(row[1], row[3], row[4]) for row in rows(response)] == [
        ("Sepsis bundles", "IPCE Credit", "1"),
        ("Airway management", "IPCE Credit", "2"),
    ]
    assert totals(response) == {"IPCE Credit": "3"}


def test_an_empty_period_says_so(client, history):
    client.force_login(history)

    response = client.get(TRANSCRIPT, {"start": "2025-01-01", "end": "2025-12-31"})

    assert "No credit claimed in this period." in page_text(response)
    assert totals(response) == {}


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-02-30"}, "start", "Enter a valid date."),
        ({"end": "yesterday"}, "end", "Enter a valid date."),
        ({"start": "2026-07-01", "end": "2026-03-01"}, "end", "The end date is before the start date."),
        ({"credit_type": "bitcoin"}, "credit_type", "Select a valid choice."),
    ],
)
def test_a_bad_transcript_query_is_refused_beside_its_field(client, history, query, field, message):
    client.force_login(history)

    for url in (TRANSCRIPT, TRANSCRIPT_CSV, TRANSCRIPT_PDF):
        response = client.get(url, query)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        error = re.search(rf'id="id_{field}_error">(.*?)</p>', response.content.decode(), re.S)
        assert error and message in error.group(1)


def test_the_csv_has_a_header_and_a_row_per_claimed_credit(client, history):
    client.force_login(history)

    response = client.get(TRANSCRIPT_CSV, {"start": "2026-03-01", "end": "2026-05-31"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert lines == [
        ["claimed_on", "activity", "provider", "activity_type", "credit_type", "amount"],
        ["2026-03-15", "Sepsis bundles", "Provider A", "Internet Enduring Material", "AMA PRA Category 1 Credit™", "1.50"],
        ["2026-03-15", "Sepsis bundles", "Provider A", "Internet Enduring Material", "IPCE Credit", "1.00"],
        ["2026-05-20", "Opioid stewardship", "Provider A", "Internet Enduring Material", "AMA PRA Category 1 Credit™", "0.75"],
    ]  # fmt: skip


def test_the_csv_holds_only_the_learners_own_credit(client, history, physician_b):
    client.force_login(physician_b)

    lines = list(csv.reader(io.StringIO(client.get(TRANSCRIPT_CSV).content.decode("utf-8"))))

    assert [line[1] for line in lines[1:]] == ["Someone else's course", "Someone else's course"]


@pytest.mark.parametrize(
    ("first", "last"),
    [("Łukasz", "Żółć"), ("Nguyễn Thị", "Minh Khai"), ("José", "Ångström"), ("王小明", "")],
)
def test_the_pdf_prints_the_learners_name_in_any_script_and_the_amounts(client, history, first, last):
    history.first_name, history.last_name = first, last
    history.save()
    client.force_login(history)

    response = client.get(TRANSCRIPT_PDF)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    extracted = pdf_text(response)
    assert f"{first} {last}".strip() in extracted
    for amount in ("1.50", "0.75", "2.00", "3.25"):
        assert amount in extracted
    assert "Sepsis bundles" in extracted
    assert "Someone else's course" not in extracted


@pytest.mark.parametrize("script", sorted(NAMES_IN_SCRIPTS))
def test_the_pdf_prints_a_name_in_a_script_with_its_own_font(client, history, script):
    name = NAMES_IN_SCRIPTS[script]
    history.first_name, history.last_name = name, ""
    history.save()
    client.force_login(history)

    pdf = client.get(TRANSCRIPT_PDF).content

    assert glyphless(pdf) == []
    if script == "hindi":
        shaped = [text for font, text in drawn(pdf) if font == "NotoSansDevanagari-Bold"]
        assert [PRIVATE_USE.sub("", text) for text in shaped] == ["अनया", "शमा"]
    else:
        assert name in extracted_text(pdf)
    if script in RIGHT_TO_LEFT:
        assert name[::-1] in drawn_text(pdf)


def test_the_pdf_follows_the_filters(client, history):
    client.force_login(history)

    extracted = pdf_text(client.get(TRANSCRIPT_PDF, {"credit_type": "ipce", "start": "2026-06-01"}))

    assert "Airway management" in extracted
    assert "Sepsis bundles" not in extracted
    assert "AMA PRA" not in extracted.split("Totals")[1]


@pytest.mark.parametrize(
    "url",
    [
        reverse("learners:dashboard"),
        reverse("learners:profile"),
        TRANSCRIPT,
        TRANSCRIPT_CSV,
        TRANSCRIPT_PDF,
        reverse("learners:claim", kwargs={"public_id": "0b0c6a39-41b7-4ed2-9b0c-7d2e5a1f2c11"}),
    ],
)
def test_every_learner_page_requires_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_another_learners_claim_page_is_not_found(client, history, physician_b):
    enrollment = history.enrollments.first()
    client.force_login(physician_b)

    assert (
        client.get(reverse("learners:claim", kwargs={"public_id": enrollment.public_id})).status_code == 404
    )


# Personal data stays out of caches; CSV cells never start a formula


def test_a_title_or_provider_that_begins_like_a_formula_is_text_in_the_csv(client, physician, provider_a):
    """Titles and names that begin like a formula are refused at input now; older data may still hold them."""
    provider_a.name = "@SUM(A1:A9)"
    provider_a.save()
    activity = course(provider_a, '=HYPERLINK("https://evil.example/","Click")', ama_pra_1="1.00")
    claim(physician, activity, datetime(2026, 4, 1, 9, tzinfo=UTC), ama_pra_1="1.00")
    client.force_login(physician)

    lines = list(csv.reader(io.StringIO(client.get(TRANSCRIPT_CSV).content.decode("utf-8"))))

    assert lines[1][1:3] == ['\'=HYPERLINK("https://evil.example/","Click")', "'@SUM(A1:A9)"]


def issued_certificate(user, activity, capture):
    make_learner(user)
    return issue(complete(user, activity), capture)


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (reverse("learners:dashboard"), {}),
        (reverse("learners:profile"), {}),
        (TRANSCRIPT, {}),
        (TRANSCRIPT, {"end": "9999-12-31"}),  # the form with errors shows the learner's choices too
    ],
)
def test_learner_pages_are_never_stored_by_a_cache(client, history, url, query):
    client.force_login(history)

    response = client.get(url, query)

    assert {"private", "no-store"} <= cache_directives(response)


def test_a_posted_profile_with_errors_is_never_stored_by_a_cache(client, history):
    client.force_login(history)

    response = client.post(reverse("learners:profile"), {"first_name": ""})

    assert response.status_code == 400
    assert {"private", "no-store"} <= cache_directives(response)


@pytest.mark.parametrize(
    ("url", "content_type", "filename"),
    [
        (TRANSCRIPT_CSV, "text/csv; charset=utf-8", "transcript.csv"),
        (TRANSCRIPT_PDF, "application/pdf", "transcript.pdf"),
    ],
)
def test_transcript_downloads_are_private_attachments(client, history, url, content_type, filename):
    client.force_login(history)

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert {"private", "no-store"} <= cache_directives(response)


def test_the_certificate_pdf_is_a_private_attachment(
    client, learner_a, activity_a, django_capture_on_commit_callbacks
):
    certificate = issued_certificate(learner_a, activity_a, django_capture_on_commit_callbacks)
    client.force_login(learner_a)

    response = client.get(
        reverse("learners:certificate_pdf", kwargs={"verification_id": certificate.verification_id})
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="certificate-{certificate.code}.pdf"'
    assert {"private", "no-store"} <= cache_directives(response)
    assert response.content.startswith(b"%PDF")


def cache_directives(response) -> set[str]:
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}


# The activity page's call to action


def test_the_activity_page_invites_an_anonymous_visitor_to_sign_in(client, activity_a):
    response = client.get(activity_a.get_absolute_url())

    page = response.content.decode()
    assert "Sign in to enroll" in page
    assert f"{reverse('account_login')}?next={activity_a.get_absolute_url()}" in page.replace("%2F", "/")
    assert reverse("learners:enroll", kwargs={"slug": activity_a.slug}) not in page


def test_the_activity_page_offers_a_signed_in_learner_to_enroll(client, learner_a, activity_a):
    client.force_login(learner_a)

    page = client.get(activity_a.get_absolute_url()).content.decode()

    assert f'action="{reverse("learners:enroll", kwargs={"slug": activity_a.slug})}"' in page
    assert ">Enroll</button>" in page
    assert "Sign in to enroll" not in page


def test_the_activity_page_leads_an_enrolled_learner_to_claim(client, learner_a, activity_a):
    enrollment, _ = services.enroll(learner=learner_a, activity=activity_a)
    client.force_login(learner_a)

    page = client.get(activity_a.get_absolute_url()).content.decode()

    assert "Claim credit" in page
    assert reverse("learners:claim", kwargs={"public_id": enrollment.public_id}) in page
    assert ">Enroll</button>" not in page


def test_the_activity_page_shows_a_learners_enrollment_only_to_them(client, learner_a, learner_b, activity_a):
    enrollment, _ = services.enroll(learner=learner_a, activity=activity_a)
    client.force_login(learner_b)

    page = client.get(activity_a.get_absolute_url()).content.decode()

    assert str(enrollment.public_id) not in page
    assert ">Enroll</button>" in page


def test_the_activity_page_tells_a_learner_who_completed_it(client, learner_a, activity_a):
    make_learner(learner_a)
    enrollment, _ = services.enroll(learner=learner_a, activity=activity_a)
    services.claim_credit(enrollment=enrollment, amounts={"ama_pra_1": D("1.50")}, attested=True)
    client.force_login(learner_a)

    page = page_text(client.get(activity_a.get_absolute_url()))

    assert "You completed this activity and claimed your credit." in page
