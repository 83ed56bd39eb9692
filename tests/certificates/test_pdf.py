"""The certificate PDF: a pure function of its version, landscape, stating everything, in any script."""

import io
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import segno
import time_machine
from django.conf import settings
from pypdf import PdfReader

from learners import services
from learners.models import CertificateVersion
from learners.pdf.certificate import render_certificate, render_snapshot
from learners.services import certificates
from tests.factories import ActivityFactory, UserFactory
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
    text_of,
)

pytestmark = pytest.mark.django_db

CJK_FONT = "DroidSansFallback"
# The bold face each script's name prints in.
SCRIPT_FONTS = {
    "korean": "NanumSquareB",
    "hindi": "NotoSansDevanagari-Bold",
    "thai": "NotoSansThai-Bold",
    "arabic": "NotoSansArabic-Bold",
    "hebrew": "NotoSansHebrew-Bold",
}

ACCME_STATEMENT = (
    "Provider A is accredited by the Accreditation Council for Continuing Medical Education (ACCME) to provide "
    "continuing medical education for physicians."
)


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def fonts_of(pdf: bytes) -> dict[str, dict]:
    """The page's fonts by base name without the subset tag (``DejaVuSans``), with their descriptors."""
    found = {}
    for font in read(pdf).pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        name = str(font["/BaseFont"]).lstrip("/").split("+")[-1]
        found[name] = font
    return found


def is_embedded(font) -> bool:
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(
        key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
    )


def test_same_version_gives_the_same_bytes(certificate):
    version = certificate.versions.get()
    first = render_certificate(version)
    assert first.startswith(b"%PDF-")
    assert render_certificate(CertificateVersion.objects.get(pk=version.pk)) == first


def test_bytes_do_not_depend_on_when_or_on_live_data(certificate, physician, seed_activity):
    version = certificate.versions.get()
    first = render_certificate(version)
    physician.first_name = "Changed"
    physician.save()
    seed_activity.title = "Changed too"
    seed_activity.save()
    with time_machine.travel(datetime(2031, 1, 1, tzinfo=UTC), tick=False):
        later = render_certificate(CertificateVersion.objects.get(pk=version.pk))
    assert later == first


def test_a_reissued_version_renders_differently(certificate, staff_a):
    v2 = certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="Reprint")
    v1 = certificate.versions.get(number=1)
    assert render_certificate(v2) != render_certificate(v1)
    assert "Version 2" in text_of(render_certificate(v2))
    assert "Version 1" in text_of(render_certificate(v1))


def test_one_landscape_page(certificate):
    reader = read(render_certificate(certificate.versions.get()))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (792.0, 612.0)  # US Letter, landscape


def test_physician_certificate_states_everything(certificate, provider_a):
    version = certificate.versions.get()
    snapshot = version.snapshot
    text = text_of(render_certificate(version))
    for expected in (
        "PROVIDER A",
        "Certificate of Credit",
        "Ada Lovelace, MD",
        "Intrathecal drug delivery",
        "Internet Enduring Material",
        "Online Learning",
        snapshot["activity_dates"],
        f"Completed {snapshot['completed_on']}",
        f"Credit claimed {snapshot['claimed_on']}",
        f"Certificate issued {snapshot['issued_on']}",
        "1.50 AMA PRA Category 1 Credit™",
        "1.50 IPCE Credit",
        snapshot["credits"][0]["statement"],
        snapshot["credits"][1]["statement"],
        "Maintenance of Certification: ABIM 1.50 points (Medical Knowledge).",
        ACCME_STATEMENT,
        f"Code {certificate.code}",
        "Version 1",
        f"http://testserver/verify/{certificate.verification_id}/",
    ):
        assert expected in text, expected
    assert "confirms participation" not in text


def test_pharmacist_completion_states_uan_ceus_and_cpe_monitor(
    seed_activity, django_capture_on_commit_callbacks
):
    pharmacist = make_learner(
        UserFactory(), first_name="Rosalind", last_name="Franklin", profession="pharmacist"
    )
    version = issue(complete(pharmacist, seed_activity), django_capture_on_commit_callbacks).versions.get()
    text = text_of(render_certificate(version))
    assert "Certificate of Completion" in text
    assert "completed the activity" in text
    assert "1.50 ACPE Pharmacy Contact Hours" in text
    assert "UAN JA0000000-0000-25-001-H01-P · 1.50 contact hours (0.15 CEUs)." in text
    assert "official record of the credit" in text
    assert "confirms participation" not in text
    assert "1.50 AMA PRA Category 1 Credit™ " not in text.replace("maximum of 1.50 AMA", "")


def test_live_jointly_provided_certificate_states_location_and_joint_providership(
    provider_a, physician, django_capture_on_commit_callbacks
):
    with time_machine.travel(datetime(2026, 3, 10, 18, 0, tzinfo=UTC), tick=False):
        activity = ActivityFactory(
            provider=provider_a,
            activity_type="course",
            format="in_person",
            location="Boston Convention Center, Boston, MA",
            start=datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
            end=datetime(2026, 3, 10, 17, 0, tzinfo=UTC),
            providership="joint",
            joint_provider="Society of Intrathecal Medicine",
        )
        version = issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get()
    text = text_of(render_certificate(version))
    assert "Course · In Person · Boston Convention Center, Boston, MA · Mar 10, 2026, 09:00–17:00 UTC" in text
    assert "joint providership of Provider A and Society of Intrathecal Medicine" in text


def test_the_qr_code_encodes_the_verification_url(certificate, monkeypatch):
    encoded = []
    make_qr = segno.make_qr

    def spy(data, **kwargs):
        encoded.append(data)
        return make_qr(data, **kwargs)

    monkeypatch.setattr(segno, "make_qr", spy)
    render_certificate(certificate.versions.get())
    assert encoded == [f"http://testserver/verify/{certificate.verification_id}/"]


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="needs pdftoppm (poppler-utils) and zbarimg (zbar-tools) to scan the printed QR code",
)
def test_the_printed_qr_code_scans_to_the_verification_page(certificate, tmp_path):
    (tmp_path / "certificate.pdf").write_bytes(render_certificate(certificate.versions.get()))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", tmp_path / "certificate.pdf", tmp_path / "page"],
        check=True,
    )
    scanned = subprocess.run(
        ["zbarimg", "--raw", "-q", tmp_path / "page.png"], capture_output=True, text=True, check=True
    )
    assert scanned.stdout.split() == [f"http://testserver/verify/{certificate.verification_id}/"]


NAMES = ["Łukasz Żółć", "Nguyễn Thị Minh Khai", "José Ångström", "王小明"]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_in_any_script_prints_as_written(certificate, name):
    version = certificate.versions.get()
    version.snapshot["learner_name"] = name
    version.save()
    pdf = render_certificate(version)
    assert name in read(pdf).pages[0].extract_text()
    fonts = fonts_of(pdf)
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= set(fonts)
    needs_cjk = name == "王小明"
    assert (CJK_FONT in fonts) is needs_cjk
    for font_name in ("DejaVuSans", "DejaVuSans-Bold", *([CJK_FONT] if needs_cjk else [])):
        assert is_embedded(fonts[font_name]), font_name


@pytest.mark.parametrize(
    ("first", "last"),
    [("Łukasz", "Żółć"), ("Nguyễn Thị", "Minh Khai"), ("José", "Ångström"), ("小明", "王")],
)
def test_the_learners_own_name_reaches_the_pdf(
    seed_activity, django_capture_on_commit_callbacks, first, last
):
    nurse = make_learner(UserFactory(), first_name=first, last_name=last, profession="nurse")
    version = issue(complete(nurse, seed_activity), django_capture_on_commit_callbacks).versions.get()
    full_name = nurse.get_full_name()
    assert version.snapshot["learner_name"] == full_name
    assert full_name in read(render_certificate(version)).pages[0].extract_text()


def test_cjk_in_an_activity_title_uses_the_fallback_font_only_there(
    provider_a, physician, django_capture_on_commit_callbacks
):
    activity = ActivityFactory(provider=provider_a, title="疼痛管理 update for clinicians")
    version = issue(complete(physician, activity), django_capture_on_commit_callbacks).versions.get()
    pdf = render_certificate(version)
    assert "疼痛管理 update for clinicians" in read(pdf).pages[0].extract_text()
    assert CJK_FONT in fonts_of(pdf)


def test_profile_name_change_needs_a_reissue_to_reach_the_pdf(certificate, physician, staff_a):
    profile = physician.profile
    services.update_profile(
        profile=profile, first_name="Łukasz", last_name="Żółć", fields={}, consent=True, licenses=[],
        board_ids=list(profile.board_ids.values_list("board", "board_id")),
    )  # fmt: skip
    assert "Ada Lovelace, MD" in text_of(render_certificate(certificate.versions.get()))
    version = certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="Name corrected")
    text = text_of(render_certificate(version))
    assert "Łukasz Żółć, MD" in text
    assert "Ada Lovelace" not in text


def test_the_same_bytes_in_a_fresh_process_whatever_was_rendered_before(certificate):
    """Any machine renders any certificate the same: font subsets and ids carry no state between PDFs."""
    version = certificate.versions.get()
    for name in ("王小明", "Łukasz Żółć", "Ωμέγα Жуков"):
        render_snapshot(dict(version.snapshot, learner_name=name, activity_title=name * 3))
    here = render_certificate(version)
    script = (
        "import json, sys, django; django.setup()\n"
        "from learners.pdf.certificate import render_snapshot\n"
        "sys.stdout.buffer.write(render_snapshot(json.loads(sys.stdin.read()), version=1))\n"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(version.snapshot).encode(),
        capture_output=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    assert fresh.stdout == here


BOARDS = ["ABA", "ABS", "ABOS", "ABOHNS"]


@pytest.mark.parametrize("profession", ["physician", "nurse"])
def test_a_full_certificate_fits_inside_its_border(
    provider_a, django_capture_on_commit_callbacks, profession
):
    """The longest realistic case: a 300-character title, long name, four credit types, four MOC boards
    with two credit types each, joint providership and a long accreditation statement."""
    provider_a.joint_accreditation = True
    provider_a.save()
    activity = ActivityFactory(
        provider=provider_a,
        title=("Intrathecal drug delivery for chronic pain and spasticity: selection, trialing, implantation, "
               "refills, troubleshooting and complications. " * 3)[:300],
        credits={"ama_pra_1": "1.50", "ipce": "1.50", "nursing": "1.50", "pharmacy": "1.50"},
        moc=[(board, kind, "1.50") for board in BOARDS for kind in ("medical_knowledge", "self_assessment")],
        providership="joint",
        joint_provider="StatPearls Publishing LLC",
        slug="intrathecal-drug-delivery-long",
    )  # fmt: skip
    learner = make_learner(
        UserFactory(),
        first_name="Maximilian Alexander Friedrich",
        last_name="von Hohenzollern-Sigmaringen",
        profession=profession,
        board_ids=[(board, f"{board}-12345") for board in BOARDS] if profession == "physician" else [],
        consent=profession == "physician",
    )
    moc = BOARDS if profession == "physician" else []
    version = issue(
        complete(learner, activity, moc_boards=moc), django_capture_on_commit_callbacks
    ).versions.get()
    lines = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            lines.append((tm[5] * cm[3] + cm[5], text.strip()))

    page = read(render_certificate(version)).pages[0]
    page.extract_text(visitor_text=visit)
    footer = min(y for y, text in lines if text.startswith("Verify this certificate at"))
    body = [
        (y, text) for y, text in lines if not text.startswith(("Verify this certificate", "Version", "Code "))
    ]
    assert min(y for y, _ in body) > footer + 9  # clear of the footer line
    assert max(y for y, _ in lines) < float(page.mediabox.height) - 30  # below the top border
    text = text_of(render_certificate(version))
    assert (
        "This activity has been planned and implemented by Provider A and StatPearls Publishing LLC for the "
        "advancement of patient care. Provider A is jointly accredited by the Accreditation Council for "
        "Continuing Medical Education (ACCME)"
    ) in text


@pytest.mark.parametrize("script", sorted(NAMES_IN_SCRIPTS))
def test_a_name_in_a_script_with_its_own_font_prints(certificate, script):
    """Korean, Hindi, Thai, Arabic and Hebrew names: every glyph drawn is one its embedded font has, the
    text reads back as written, and right-to-left names are drawn right to left."""
    name = NAMES_IN_SCRIPTS[script]
    pdf = render_snapshot(dict(certificate.versions.get().snapshot, learner_name=name))
    assert glyphless(pdf) == []
    script_font = SCRIPT_FONTS[script]
    assert script_font in {font for font, _ in drawn(pdf)}
    assert is_embedded(fonts_of(pdf)[script_font])
    if script == "hindi":
        # The conjunct न्य and the reph र् are glyphs of their own, which no character names.
        shaped = [text for font, text in drawn(pdf) if font == script_font]
        assert [PRIVATE_USE.sub("", text) for text in shaped] == ["अनया", "शमा"]
        assert all(PRIVATE_USE.search(text) for text in shaped)
    else:
        assert name in extracted_text(pdf)
    if script in RIGHT_TO_LEFT:
        assert name[::-1] in drawn_text(pdf)


def test_arabic_letters_are_joined(certificate):
    pdf = render_snapshot(dict(certificate.versions.get().snapshot, learner_name="محمد أحمد"))
    arabic = "".join(text for font, text in drawn(pdf) if font.startswith("NotoSansArabic"))
    # Initial, medial and final forms (Arabic Presentation Forms-B), not the letters' isolated forms.
    assert arabic == "ﺪﻤﺣأﺪﻤﺤﻣ"


def test_a_right_to_left_name_with_credentials_reads_in_order(certificate):
    pdf = render_snapshot(dict(certificate.versions.get().snapshot, learner_name="דוד כהן, MD"))
    assert "ןהכ דוד, MD" in drawn_text(pdf)
    assert "דוד כהן, MD" in extracted_text(pdf)


def test_the_same_bytes_for_a_shaped_name_in_a_fresh_process(certificate):
    """Shaped glyphs are written as characters fixed per glyph, not per process."""
    snapshot = dict(certificate.versions.get().snapshot, learner_name="अनन्या शर्मा محمد أحمد")
    render_snapshot(dict(snapshot, learner_name="क्ष त्र ज्ञ श्र لا إله"))
    here = render_snapshot(snapshot)
    assert glyphless(here) == []
    script = (
        "import json, sys, django; django.setup()\n"
        "from learners.pdf.certificate import render_snapshot\n"
        "sys.stdout.buffer.write(render_snapshot(json.loads(sys.stdin.read()), version=1))\n"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(snapshot).encode(),
        capture_output=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    assert fresh.stdout == here
