"""A learner's whole journey through a real browser: sign up, confirm the email, find an activity, enroll,
claim the credit, see it on the dashboard and the transcript, and receive the certificate through a real
SMTP server; axe-core checks the pages on the way.

Transactional (the live server runs in another thread and must see committed rows), so
``serialized_rollback`` reloads the reference data the migrations created (credit types, groups, the catalog
state row), which an earlier transactional test's flush removed.
"""

import io
import re

import pytest
from pypdf import PdfReader

from tests.factories import ActivityFactory, ProviderFactory

TITLE = "Heliotrope rash and Gottron papules: recognising dermatomyositis early"
SUMMARY = "Case-based review of the skin signs of dermatomyositis and the myositis antibodies behind them."
EMAIL = "new.learner@example.com"
PASSWORD = "Quiet-lagoon-47-sextant"
AMA = "AMA PRA Category 1 Credit™"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,  # the catalog's keyword search is PostgreSQL full-text search
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def activity(transactional_db):
    """A published, current activity designated for 1.5 AMA PRA Category 1 Credit™."""
    provider = ProviderFactory(name="Northwind Dermatology Education")
    return ActivityFactory(provider=provider, title=TITLE, summary=SUMMARY, credits={"ama_pra_1": "1.50"})


# ``activity`` before ``page``: the rows are written before Playwright starts (see tests/browser/conftest.py).
def test_a_new_physician_signs_up_enrolls_and_claims_credit(activity, smtp_sink, page, assert_accessible):
    mailoutbox = smtp_sink.messages
    page.goto("/")
    page.get_by_role("link", name="Create account").click()

    # Sign up; every field is found by its label.
    page.get_by_label("Email:").fill(EMAIL)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):").fill(PASSWORD)
    page.get_by_label("First name:").fill("Ada")
    page.get_by_label("Last name:").fill("Okafor")
    page.get_by_label("Profession:").select_option(label="Physician (MD/DO)")
    page.get_by_role("button", name="Create account").click()

    # Confirm the address with the link from the email.
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    assert len(mailoutbox) == 1, [m["Subject"] for m in mailoutbox]
    assert mailoutbox[0]["To"] == EMAIL
    body = mailoutbox[0].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", body)
    assert link, body
    page.goto(link.group(0))
    page.get_by_role("button", name="Confirm").click()
    if "/accounts/login/" in page.url:  # the flow may ask to sign in after confirming
        page.get_by_label("Email:").fill(EMAIL)
        page.get_by_label("Password:").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/me/$"))
    assert page.get_by_role("button", name="Sign out").is_visible()

    # Find the activity in the catalog by a word of its title.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find activities").click()
    search = page.get_by_role("search", name="Search and filter activities")
    search.get_by_label("Keywords").fill("dermatomyositis")
    search.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"/activities/\?.*q=dermatomyositis"))
    results = page.get_by_role("region", name=re.compile(r"^Activities 1–1 of 1$"))
    assert results.is_visible()
    assert_accessible(page, "the catalog search results")

    results.get_by_role("link", name=TITLE).click()
    assert page.get_by_role("heading", level=1, name=TITLE).is_visible()
    assert page.get_by_text(SUMMARY).is_visible()
    assert_accessible(page, "the activity page")

    # Enroll, then claim the full 1.5 credits.
    page.get_by_role("button", name="Enroll").click()
    page.wait_for_url(re.compile(r"/me/enrollments/[0-9a-f-]+/$"))
    assert page.get_by_role("heading", level=1, name="Claim credit").is_visible()
    amount = page.get_by_label(AMA)
    assert amount.input_value() == ""  # an enduring material: the learner enters what they earned
    certificate = page.locator("#certificate-note")
    amount.fill("1.5")
    assert certificate.get_by_text("Your certificate will be a Certificate of Credit").is_visible()
    assert_accessible(page, "the claim form")
    page.get_by_label(re.compile(r"^I attest that I am claiming only the credit")).check()
    page.get_by_role("button", name="Claim credit").click()

    # The dashboard lists the activity as completed, with its credit.
    page.wait_for_url(re.compile(r"/me/$"))
    assert page.get_by_role("status").get_by_text("Your credit is recorded.").is_visible()
    completed = page.get_by_role("region", name="Completed")
    row = completed.get_by_role("row").filter(has=page.get_by_role("link", name=TITLE))
    assert row.get_by_text(f"1.50 {AMA}").is_visible()
    assert page.get_by_role("region", name="In progress").get_by_text("Nothing in progress.").is_visible()
    assert_accessible(page, "the dashboard")

    # The transcript shows the claim and the total.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Transcript").click()
    page.wait_for_url(re.compile(r"/me/transcript/$"))
    line = page.get_by_role("row").filter(has_text=TITLE)
    assert line.get_by_role("cell").all_inner_texts()[1:] == [
        TITLE,
        "Northwind Dermatology Education",
        AMA,
        "1.50",
    ]
    totals = page.get_by_role("region", name="Totals")
    assert totals.get_by_role("term").all_inner_texts() == [AMA]
    assert totals.get_by_role("definition").all_inner_texts() == ["1.50"]

    # The certificate arrived by email, PDF attached, and the dashboard says so.
    assert len(mailoutbox) == 2, [m["Subject"] for m in mailoutbox]
    certificate = mailoutbox[1]
    assert certificate["To"] == EMAIL and TITLE in certificate["Subject"]
    code = certificate["X-CME-Certificate"]
    (attachment,) = list(certificate.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    for expected in ("Ada Okafor", "dermatomyositis", f"1.50 {AMA}", code):
        assert expected in " ".join(text.split()), (expected, text)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    completed = page.get_by_role("region", name="Completed")
    assert completed.get_by_role("link", name=f"Download certificate {code}").is_visible()
    assert completed.get_by_text(f"Emailed to {EMAIL}").is_visible()
