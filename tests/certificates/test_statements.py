"""Certificates say what each accrediting body requires, in its words.

The expected sentences below are written from the published wording (sources in
``activities/statements.py`` and ``activities/vocabulary.py``), not read back from the code, so a change of
wording in the code fails here.
"""

import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader
from reportlab.lib.fonts import tt2ps

from activities import vocabulary
from activities.models import CreditType
from learners.pdf.certificate import render_certificate
from portal.lib.pdf_text import REGULAR, register_fonts
from tests.factories import ActivityFactory, ProviderFactory, UserFactory
from tests.helpers import complete, issue, make_learner, page_text, text_of

pytestmark = pytest.mark.django_db

PROVIDER = "Metro Health CME"
PARTNER = "Springfield Pain Society"
ADDRESS = "1 Hospital Plaza, Springfield, IL 62701"
WEBSITE = "https://cme.metrohealth.example.org/"
UAN = "JA4008162-9999-25-101-L08-P"
TECHNICIAN_UAN = "JA4008162-9999-25-101-L08-T"

# Published wording, filled in for Metro Health CME.
ACCME_DIRECT = (
    "Metro Health CME is accredited by the Accreditation Council for Continuing Medical Education (ACCME) to "
    "provide continuing medical education for physicians."
)  # ACCME Accreditation Statement policy
ACCME_JOINT = (
    "This activity has been planned and implemented in accordance with the accreditation requirements and "
    "policies of the Accreditation Council for Continuing Medical Education (ACCME) through the joint "
    "providership of Metro Health CME and Springfield Pain Society. Metro Health CME is accredited by the "
    "ACCME to provide continuing medical education for physicians."
)  # accme.org/accreditation-rules/policies/joint-providership
JA_DIRECT = (
    "In support of improving patient care, Metro Health CME is jointly accredited by the Accreditation "
    "Council for Continuing Medical Education (ACCME), the Accreditation Council for Pharmacy Education "
    "(ACPE), and the American Nurses Credentialing Center (ANCC), to provide continuing education for the "
    "healthcare team."
)
JA_JOINT = (
    "This activity has been planned and implemented by Metro Health CME and Springfield Pain Society for the "
    "advancement of patient care. Metro Health CME is jointly accredited by the Accreditation Council for "
    "Continuing Medical Education (ACCME), the Accreditation Council for Pharmacy Education (ACPE), and the "
    "American Nurses Credentialing Center (ANCC), to provide continuing education for the healthcare team."
)  # ACCME/ACPE/ANCC Policies for Jointly Accredited Providers
ANCC = (
    "Metro Health CME is accredited as a provider of nursing continuing professional development by the "
    "American Nurses Credentialing Center's Commission on Accreditation."
)
ACPE = (
    "Metro Health CME is accredited by the Accreditation Council for Pharmacy Education as a provider of "
    "continuing pharmacy education."
)  # ACPE Policy on Reference to Accreditation
AAPA = (
    "Metro Health CME has been authorized by the American Academy of PAs (AAPA) to award AAPA Category 1 CME "
    "credit for activities planned in accordance with AAPA CME Criteria."
)


def ama(amount: str, noun: str = "enduring material") -> str:
    """AMA's designation statement: "Credits", never "Credit(s)"."""
    return (
        f"Metro Health CME designates this {noun} for a maximum of {amount} AMA PRA Category 1 Credits™. "
        "Physicians should claim only the credit commensurate with the extent of their participation in the "
        "activity."
    )


def ipce(amount: str) -> str:
    """JA's IPCE statement exactly: no "a maximum of", no "credit(s)"."""
    return (
        f"This activity was planned by and for the healthcare team, and learners will receive {amount} "
        "Interprofessional Continuing Education (IPCE) credit for learning and change."
    )


# What each credit type's certificate must say, beyond the title and the amount line: the sentences of its
# designation and its accreditor's statement (a provider accredited by ACCME, ANCC and ACPE, authorized by
# AAPA, not jointly accredited; IPCE from a jointly accredited one).
EXPECTED = {
    "ama_pra_1": [ama("2.00"), ACCME_DIRECT],
    "ipce": [ipce("2.00"), JA_DIRECT],
    "nursing": ["This activity is awarded a maximum of 2.00 nursing contact hours.", ANCC, ADDRESS, WEBSITE],
    "pharmacy": [
        "This activity is approved for 2.00 contact hours of continuing pharmacy education.",
        f"UAN {UAN}",
        "2.00 contact hours (0.2 CEUs)",
        "official record of the credit",
        "CPE Monitor",
        ACPE,
    ],
    "aapa": [
        AAPA,
        "This activity is designated for 2.00 AAPA Category 1 CME credits. PAs should only claim credit "
        "commensurate with the extent of their participation.",
    ],
}
FORBIDDEN = ("Credit(s)", "credit(s)", "hour(s)", "a maximum of 2.00 Interprofessional")


def accredited_provider(**fields):
    held = {
        "accme_accredited": True,
        "ancc_accredited": True,
        "acpe_accredited": True,
        "aapa_authorized": True,
    }
    return ProviderFactory(name=PROVIDER, address=ADDRESS, website=WEBSITE, **{**held, **fields})


def credit_cases():
    for spec in vocabulary.CREDIT_TYPES:
        for profession in spec.professions:
            yield pytest.param(spec.code, profession, id=f"{spec.code}-{profession}")


@pytest.mark.parametrize(("code", "profession"), list(credit_cases()))
def test_every_credit_type_and_profession_gets_its_bodys_certificate(
    code, profession, django_capture_on_commit_callbacks
):
    if not CreditType.objects.get(pk=code).may_be_claimed_by(profession):
        pytest.skip(f"the installed {code} credit type does not list {profession} among its professions yet")
    provider = accredited_provider(joint_accreditation=code == "ipce")
    activity = ActivityFactory(provider=provider, title="Opioid stewardship", credits={code: "2.00"})
    if code == "pharmacy":
        activity.credits.update(
            activity_number=UAN, technician_activity_number=TECHNICIAN_UAN, acpe_activity_type="knowledge"
        )
    learner = make_learner(UserFactory(), first_name="Sam", last_name="Learner", profession=profession)
    version = issue(complete(learner, activity), django_capture_on_commit_callbacks).versions.get()
    text = text_of(render_certificate(version))

    spec = vocabulary.CREDIT_TYPE_BY_CODE[code]
    title = "Certificate of Credit" if code == vocabulary.AMA_PRA_1 else "Certificate of Completion"
    assert title in text
    assert "completed the activity" in text and "participated in" not in text
    assert f"2.00 {spec.name}" in text
    expected = EXPECTED.get(code, [])
    if profession == "pharmacy_technician":  # a technician's credit is on the activity's T UAN
        expected = [f"UAN {TECHNICIAN_UAN}" if e == f"UAN {UAN}" else e for e in expected]
        assert f"UAN {UAN}" not in text
    for sentence in expected:
        assert sentence in text, sentence
    for wrong in FORBIDDEN:
        assert wrong not in text, wrong
    if code != "nursing":
        assert ADDRESS not in text  # the address is the nursing certificate's requirement


@pytest.mark.parametrize(
    ("activity_type", "noun"),
    [
        ("course", "live activity"),
        ("enduring", "enduring material"),
        ("journal", "journal-based CME activity"),
        ("performance_improvement", "performance improvement activity"),
        ("manuscript_review", "manuscript review activity"),
        ("test_item_writing", "test-item writing activity"),
        ("internet_searching", "internet point-of-care activity"),
        ("learning_from_teaching", "learning from teaching activity"),
        ("committee_learning", "committee learning activity"),
        ("other_blended", "other/blended learning activity"),
    ],
)
def test_the_ama_designation_names_the_learning_format(
    activity_type, noun, physician, django_capture_on_commit_callbacks
):
    start = datetime.now(UTC) - timedelta(days=2)
    activity = ActivityFactory(
        provider=accredited_provider(),
        activity_type=activity_type,
        start=start,
        end=start + timedelta(hours=6) if activity_type == "course" else start + timedelta(days=300),
        credits={"ama_pra_1": "6.25"},
    )
    version = issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get()
    assert ama("6.25", noun) in text_of(render_certificate(version))


def test_the_ama_credit_name_is_italic_markup(physician, django_capture_on_commit_callbacks):
    from learners.pdf.certificate import body_items

    activity = ActivityFactory(provider=accredited_provider(), credits={"ama_pra_1": "1.00"})
    version = issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get()
    statement = next(markup for kind, markup in body_items(version.snapshot) if kind == "text")
    assert "<i>AMA PRA Category 1 Credits</i>™" in statement
    register_fonts()
    if tt2ps(REGULAR, 0, 1) == REGULAR:
        pytest.skip("No italic face is registered for DejaVu Sans yet, so <i> prints upright")
    fonts = PdfReader(io.BytesIO(render_certificate(version))).pages[0]["/Resources"]["/Font"].values()
    names = [str(font.get_object()["/BaseFont"]) for font in fonts]
    assert any("Oblique" in name or "Italic" in name for name in names), names


def test_participation_only_for_a_learner_who_earned_nothing(
    physician, nurse, django_capture_on_commit_callbacks
):
    activity = ActivityFactory(provider=accredited_provider(), credits={"ama_pra_1": "3.00"})
    nurse_text = text_of(
        render_certificate(
            issue(complete(nurse, activity), django_capture_on_commit_callbacks).versions.get()
        )
    )
    assert "Certificate of Participation" in nurse_text
    assert "participated in the activity" in nurse_text
    assert "This certificate confirms participation. " + ama("3.00") in nurse_text
    assert ACCME_DIRECT in nurse_text  # the accreditation behind the designation it states

    physician_text = text_of(
        render_certificate(
            issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get()
        )
    )
    assert "Certificate of Credit" in physician_text and "Participation" not in physician_text
    assert "3.00 AMA PRA Category 1 Credit™" in physician_text


def test_a_nurse_who_earned_contact_hours_gets_completion_not_participation(
    nurse, django_capture_on_commit_callbacks
):
    activity = ActivityFactory(
        provider=accredited_provider(), credits={"ama_pra_1": "3.00", "nursing": "3.00"}
    )
    text = text_of(
        render_certificate(
            issue(complete(nurse, activity), django_capture_on_commit_callbacks).versions.get()
        )
    )
    assert "Certificate of Completion" in text and "completed the activity" in text
    assert "Participation" not in text and "confirms participation" not in text
    assert "3.00 ANCC Nursing Contact Hours" in text
    assert f"{PROVIDER} · {ADDRESS} · {WEBSITE}" in text


def test_acpe_activity_type_is_printed(pharmacist, django_capture_on_commit_callbacks):
    activity = ActivityFactory(provider=accredited_provider(), credits={"pharmacy": "1.50"})
    activity.credits.update(activity_number=UAN, acpe_activity_type="application")
    text = text_of(
        render_certificate(
            issue(complete(pharmacist, activity), django_capture_on_commit_callbacks).versions.get()
        )
    )
    assert "ACPE activity type: Application-based" in text


def test_an_aapa_reviewed_activity_prints_the_review_panel_wording(django_capture_on_commit_callbacks):
    provider = accredited_provider(aapa_authorized=False)
    activity = ActivityFactory(provider=provider, credits={"aapa": "4.00"})
    activity.credits.update(
        aapa_reference="CME-204518", aapa_valid_from=date(2026, 1, 15), aapa_valid_until=date(2027, 1, 14)
    )
    pa = make_learner(UserFactory(), profession="physician_assistant")
    text = text_of(
        render_certificate(issue(complete(pa, activity), django_capture_on_commit_callbacks).versions.get())
    )
    assert (
        "This activity has been reviewed by the AAPA Review Panel and is compliant with AAPA CME Criteria. This "
        "activity is designated for 4.00 AAPA Category 1 CME credits. Approval is valid from January 15, 2026 "
        "to January 14, 2027."
    ) in text
    assert "AAPA reference number: CME-204518." in text
    assert "has been authorized by the American Academy of PAs" not in text


def test_abim_points_carry_abims_statement(physician, django_capture_on_commit_callbacks, client):
    activity = ActivityFactory(
        provider=accredited_provider(),
        credits={"ama_pra_1": "2.00"},
        moc=[("ABIM", "medical_knowledge", "2.00")],
    )
    version = issue(
        complete(physician, activity, moc_boards=["ABIM"]), django_capture_on_commit_callbacks
    ).versions.get()
    sentence = (
        "enables the participant to earn up to 2.00 Medical Knowledge MOC points in the American Board of "
        "Internal Medicine's (ABIM) Maintenance of Certification (MOC) program"
    )
    assert sentence in text_of(render_certificate(version))
    page = page_text(client.get(activity.get_absolute_url()))
    assert sentence in page


def test_the_enduring_materials_review_date_is_on_the_page_and_the_certificate(
    physician, client, django_capture_on_commit_callbacks
):
    activity = ActivityFactory(
        provider=accredited_provider(),
        activity_type="enduring",
        start=datetime(2025, 6, 1, tzinfo=UTC),
        end=datetime(2028, 3, 1, tzinfo=UTC),
        reviewed_on=date(2026, 2, 10),
    )
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        version = issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get()
    assert "Released Jun 1, 2025, last reviewed Feb 10, 2026, credit until Mar 1, 2028" in text_of(
        render_certificate(version)
    )
    page = page_text(client.get(activity.get_absolute_url()))
    assert (
        "Released June 1, 2025 Last reviewed February 10, 2026 Credit available until March 1, 2028" in page
    )


def test_completed_is_the_day_attended_where_the_session_was(physician, django_capture_on_commit_callbacks):
    # 18:00–20:00 in Chicago on March 10 is 00:00–02:00 UTC on March 11.
    start = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
    activity = ActivityFactory(
        provider=accredited_provider(),
        activity_type="course",
        format="in_person",
        start=start,
        end=start + timedelta(hours=2),
        credits={"ama_pra_1": "2.00"},
        sessions=[],
    )
    activity.sessions.create(
        start=start, end=start + timedelta(hours=2), time_zone="America/Chicago", venue="Hall"
    )
    with time_machine.travel(datetime(2026, 3, 14, 15, 0, tzinfo=UTC), tick=False):
        version = issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get()
    assert version.snapshot["completed_on"] == "2026-03-10"
    assert version.snapshot["claimed_on"] == "2026-03-14"
    assert "Completed 2026-03-10 · Credit claimed 2026-03-14" in text_of(render_certificate(version))


def test_the_verification_page_and_the_email_say_the_same_title(
    client, nurse, mailoutbox, django_capture_on_commit_callbacks
):
    activity = ActivityFactory(provider=accredited_provider(), credits={"nursing": "1.00"})
    certificate = issue(complete(nurse, activity), django_capture_on_commit_callbacks)
    (message,) = mailoutbox
    assert "Certificate of Completion" in message.subject
    assert "Your certificate of completion for" in message.body
    page = page_text(client.get(reverse("learners:verify", args=[certificate.verification_id])))
    assert "Certificate Certificate of Completion" in page
    assert ANCC in page


# --- the JA statement stands alone, between drawn lines ----------------------------------------------------


def lines_and_text(pdf: bytes) -> tuple[list[float], list[tuple[float, str]]]:
    """The page's horizontal rules (their y) and its text lines (y, text)."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    stream = page.get_contents().get_data().decode("latin-1")
    rules = [
        float(y1)
        for _x1, y1, _x2, y2 in re.findall(r"([\d.]+) ([\d.]+) m ([\d.]+) ([\d.]+) l S", stream)
        if y1 == y2
    ]
    found: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.append((tm[5] * cm[3] + cm[5], text.strip()))

    page.extract_text(visitor_text=visit)
    return rules, found


# --- the headline: four professions, one jointly accredited, jointly provided activity ----------------------


@pytest.fixture
def ja_course():
    provider = ProviderFactory(
        name=PROVIDER, address=ADDRESS, website=WEBSITE, joint_accreditation=True, aapa_authorized=True
    )
    start = datetime.now(UTC) - timedelta(days=3)
    activity = ActivityFactory(
        provider=provider,
        title="Safer opioid prescribing for the care team",
        activity_type="course",
        format="in_person",
        location="Springfield Convention Center",
        start=start,
        end=start + timedelta(hours=7),
        providership="joint",
        joint_provider=PARTNER,
        credits={code: "6.25" for code in ("ama_pra_1", "ipce", "nursing", "pharmacy", "aapa")},
        moc=[("ABIM", "medical_knowledge", "6.25")],
    )
    activity.credits.filter(credit_type_id="pharmacy").update(activity_number=UAN)
    return activity


HEADLINE = {
    "physician": (
        "Certificate of Credit",
        ["5.50 AMA PRA Category 1 Credit™", ama("6.25", "live activity"), "ABIM"],
    ),
    "nurse": (
        "Certificate of Completion",
        ["5.50 ANCC Nursing Contact Hours", "This activity is awarded a maximum of 6.25 nursing contact hours.",
         ADDRESS],
    ),
    "pharmacist": (
        "Certificate of Completion",
        ["5.50 ACPE Pharmacy Contact Hours", f"UAN {UAN}", "5.50 contact hours (0.55 CEUs)", "CPE Monitor"],
    ),
    "physician_assistant": (
        "Certificate of Completion",
        ["5.50 AAPA Category 1 CME Credit", AAPA, "designated for 6.25 AAPA Category 1 CME credits"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("profession", list(HEADLINE))
def test_each_profession_gets_what_its_body_requires_from_one_ja_activity(
    ja_course, profession, django_capture_on_commit_callbacks
):
    own = {
        "physician": "ama_pra_1",
        "nurse": "nursing",
        "pharmacist": "pharmacy",
        "physician_assistant": "aapa",
    }
    learner = make_learner(
        UserFactory(),
        first_name="Pat",
        last_name="Example",
        profession=profession,
        board_ids=[("ABIM", "123456")] if profession == "physician" else [],
        consent=profession == "physician",
    )
    amounts = {own[profession]: Decimal("5.50"), "ipce": Decimal("5.50")}
    boards = ["ABIM"] if profession == "physician" else []
    version = issue(
        complete(learner, ja_course, amounts=amounts, moc_boards=boards), django_capture_on_commit_callbacks
    ).versions.get()
    pdf = render_certificate(version)
    text = text_of(pdf)

    title, sentences = HEADLINE[profession]
    assert title in text
    for sentence in [*sentences, "5.50 IPCE Credit", ipce("6.25"), JA_JOINT]:
        assert sentence in text, sentence
    # Under Joint Accreditation the JA statement replaces ACCME's, ANCC's and ACPE's own.
    for other in (ACCME_JOINT, ACCME_DIRECT, ANCC, ACPE, JA_DIRECT):
        assert other not in text
    if profession != "physician":
        assert "AMA PRA Category 1 Credit™ " not in text.replace("maximum of 6.25 AMA", "")

    # The JA statement stands alone: a drawn line lies between it and the statement above it, and nothing
    # is attached below it.
    rules, lines = lines_and_text(pdf)
    ja = [y for y, line in lines if line in JA_JOINT]
    above = min(y for y, line in lines if y > max(ja) + 1)
    assert any(max(ja) < rule < above for rule in rules), (ja, above, rules)
    labels = ("Verify this certificate", "Version", "Code ")
    assert not [line for y, line in lines if y < min(ja) and not line.startswith(labels)]
