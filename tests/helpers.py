"""Helpers the whole suite shares: learners, completions and certificates made through the portal's services,
and what a response shows.

``make_learner`` and ``change_profile`` go through ``create_profile`` and ``update_profile``, ``complete``
through ``enroll``, ``check_in`` (at each session of a live activity) and ``claim_credit``, and ``issue`` through ``issue_certificate``, so a test never holds a
state the portal could not reach: every claim, certificate and ledger row is written as the portal writes it.
The personas made with them are fixtures in ``tests/conftest.py``.
"""

import contextlib
import html
import io
import re
import subprocess
import unicodedata
from datetime import datetime
from functools import cache

import time_machine
from django.contrib.messages import get_messages
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

from attendance import codes
from attendance.services import checkin as checkin_service
from learners import services
from learners.models import Certificate, Enrollment, LearnerProfile
from learners.services import certificates
from portal.lib.pdf_text import FONT_DIR
from tests.factories import UserFactory

# The physician persona's identifiers (a valid NPI, as the profile form checks it).
NPI = "1234567893"
BIRTH = (7, 14)
ABIM_ID = "ABIM-448812"
# A pharmacist's NABP e-Profile ID, which CPE Monitor needs.
EPROFILE_ID = "1234567"

_KEEP = object()


def make_learner(
    user=None,
    *,
    first_name: str = "Ada",
    last_name: str = "Lovelace",
    profession: str = "physician",
    degree: str | None = None,
    consent: bool = False,
    licenses=(),
    board_ids=(),
    birth: tuple[int, int] | None = None,
    eprofile: str = "",
    **fields,
):
    """``user`` (a new one if None) with a profile made through the services; returns the user.

    The profile holds the name, the profession and the degree (MD for a physician and none otherwise, unless
    given), consent to reporting only when ``consent``, ``licenses=[("CA", "A123")]``,
    ``board_ids=[("ABIM", "ABIM-448812")]``, ``birth=(month, day)``, ``eprofile`` (the NABP e-Profile ID),
    and any other profile field by name (``npi="1234567893"``, ``birth_month=7``...).
    """
    user = user or UserFactory()
    profile = services.create_profile(
        user=user, first_name=first_name, last_name=last_name, profession=profession
    )
    if degree is None:
        degree = "MD" if profession == "physician" else ""
    fields = {"degree": degree, **fields}
    if birth:
        fields["birth_month"], fields["birth_day"] = birth
    if eprofile:
        fields["nabp_eprofile_id"] = eprofile
    services.update_profile(
        profile=profile,
        first_name=first_name,
        last_name=last_name,
        fields=fields,
        consent=consent,
        licenses=list(licenses),
        board_ids=list(board_ids),
    )
    return user


def change_profile(
    user, *, consent=_KEEP, licenses=_KEEP, board_ids=_KEEP, birth=_KEEP, eprofile=_KEEP, **fields
):
    """``update_profile`` with the learner's current details, changing only what is given: ``consent``,
    ``licenses``, ``board_ids``, ``birth`` (``None`` clears it), ``eprofile`` and other fields by name."""
    profile = LearnerProfile.objects.get(user=user)
    if birth is not _KEEP:
        fields["birth_month"], fields["birth_day"] = birth or (None, None)
    if eprofile is not _KEEP:
        fields["nabp_eprofile_id"] = eprofile
    services.update_profile(
        profile=profile,
        first_name=user.first_name,
        last_name=user.last_name,
        fields=fields,
        consent=profile.has_reporting_consent if consent is _KEEP else consent,
        licenses=list(profile.licenses.values_list("state", "number"))
        if licenses is _KEEP
        else list(licenses),
        board_ids=(
            list(profile.board_ids.values_list("board", "board_id"))
            if board_ids is _KEEP
            else list(board_ids)
        ),
    )


def complete(user, activity, *, amounts=None, moc_boards=(), at: datetime | None = None) -> Enrollment:
    """``user`` (who has a profile) enrolls in ``activity`` and claims ``amounts`` (``{"ama_pra_1":
    Decimal("1.00")}``), by default the maximum of everything their profession may claim, with MOC for
    ``moc_boards``.

    With ``at``, both happen with the clock stopped at that moment, so every timestamp they leave (the claim's,
    the ledger's, the audit trail's) is ``at``; without it, now. The certificate is not issued here: on-commit
    work does not run in a test's transaction unless the test captures it (see ``issue``).
    """
    clock = time_machine.travel(at, tick=False) if at is not None else contextlib.nullcontext()
    with clock:
        if activity.is_live:  # checking in at each session enrolls the learner
            for session in activity.sessions.all():
                attend(user, session)
        enrollment, _ = services.enroll(learner=user, activity=activity, at=at)
        if amounts is None:
            profile = LearnerProfile.objects.get(user=user)
            options = services.claim_options(enrollment=enrollment, profile=profile)
            amounts = {o.designation.credit_type_id: o.designation.max_amount for o in options.claimable}
        services.claim_credit(
            enrollment=enrollment, amounts=amounts, attested=True, moc_boards=moc_boards, at=at
        )
    enrollment.refresh_from_db()
    return enrollment


def attend(user, session, *, at: datetime | None = None):
    """``user`` checks in to ``session`` with the code its screen shows at ``at`` (by default the session's
    start); returns the attendance."""
    at = at or session.start
    checkin = checkin_service.checkin_for(session)
    return checkin_service.check_in(
        learner=user, checkin=checkin, code=codes.current_code(checkin.secret, at), at=at
    ).attendance


def issue(enrollment, capture) -> Certificate:
    """Issue the certificate and run what it dispatches after commit (the email, sent eagerly); ``capture`` is
    pytest-django's ``django_capture_on_commit_callbacks``."""
    with capture(execute=True):
        certificate = certificates.issue_certificate(enrollment=enrollment)
    return certificate


def page_text(response) -> str:
    """The page's text with tags removed and entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def messages_of(response) -> list[str]:
    """The messages (``django.contrib.messages``) the request left for the user to see."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def answers(version, *, right: int | None = None, likert: int = 4) -> dict[str, list[str]]:
    """A submission to ``version``: the first ``right`` scored questions answered correctly (all if None)
    and the rest wrongly; Likert items ``likert``; free text "Noted."."""
    from assessments.services.attempts import field_name

    responses, scored = {}, 0
    for question in version.content["questions"]:
        field = field_name(question)
        if question["kind"] in ("single", "true_false", "multiple"):
            good = right is None or scored < right
            scored += 1
            picks = [c["id"] for c in question["choices"] if c["correct"] == good]
            responses[field] = [str(p) for p in (picks if good else picks[:1])]
        elif question["kind"] == "likert":
            responses[field] = [str(likert)]
        else:
            responses[field] = ["Noted."]
    return responses


def attempt(enrollment, assessment, *, right: int | None = None, at: datetime | None = None, **kwargs):
    """The learner of ``enrollment`` submits an attempt at ``assessment``'s current version, through the
    service, with ``right`` scored questions correct (all if None)."""
    from assessments.services import attempts, versions

    version = versions.current_version(assessment)
    return attempts.submit_attempt(
        enrollment=enrollment,
        assessment=assessment,
        version=version,
        responses=answers(version, right=right, **kwargs),
        at=at,
    )


# --- what a PDF draws -------------------------------------------------------------------------------------

# Names in scripts that need a font of their own, and shaping or right-to-left order.
NAMES_IN_SCRIPTS = {
    "korean": "김민준",
    "hindi": "अनन्या शर्मा",
    "thai": "สมชาย ใจดี",
    "arabic": "محمد أحمد",
    "hebrew": "דוד כהן",
}
RIGHT_TO_LEFT = {"arabic", "hebrew"}
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def _to_unicode(font) -> dict[int, str]:
    """The font's ToUnicode map: a drawn byte to the character ReportLab wrote for it."""
    cmap = font["/ToUnicode"].get_object().get_data().decode()
    return {
        int(code, 16): chr(int(char, 16))
        for code, char in re.findall(r"<([0-9A-F]{2})> <([0-9A-F]{4,})>", cmap)
    }


@cache
def _vendored_cmap(base_font: str) -> dict[int, str]:
    name = {"DroidSansFallback": "DroidSansFallbackFull"}.get(base_font, base_font)
    return TTFont(FONT_DIR / f"{name}.ttf").getBestCmap()


def drawn(pdf: bytes) -> list[tuple[str, str]]:
    """What each page draws, in drawing order: ``(font, characters)`` for each text-showing operator, the
    font by base name without its subset tag, the characters as its ToUnicode map gives them. A line is
    drawn left to right, so this is the visual order; a shaped run is its glyphs (Arabic in presentation
    forms; a glyph with no character of its own is a private-use one)."""
    shown = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = {name: font.get_object() for name, font in page["/Resources"]["/Font"].items()}
        current = None
        for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
            if operator == b"Tf":
                current = fonts[operands[0]]
            elif operator in (b"Tj", b"TJ", b"'", b'"'):
                strings = operands[-1] if operator == b"TJ" else [operands[-1]]
                codes = b"".join(bytes(s.original_bytes) for s in strings if hasattr(s, "original_bytes"))
                mapping = _to_unicode(current)
                base = str(current["/BaseFont"]).lstrip("/").split("+")[-1]
                shown.append((base, "".join(mapping[c] for c in codes)))
    return shown


def glyphless(pdf: bytes) -> list[tuple[str, str]]:
    """The characters drawn in a font that has no glyph for them (they print blank or as a box): a drawn
    private-use character is one of the glyphs a shaped font gave it, the rest must be in the font's cmap."""
    return [
        (font, ch)
        for font, text in drawn(pdf)
        for ch in text
        if not ch.isspace() and not PRIVATE_USE.match(ch) and not _vendored_cmap(font).get(ord(ch))
    ]


def drawn_text(pdf: bytes) -> str:
    """Everything drawn, in drawing (visual) order, presentation forms normalised (NFKC)."""
    return unicodedata.normalize("NFKC", "".join(text for _, text in drawn(pdf)))


def text_of(pdf: bytes) -> str:
    """A PDF's first page as pypdf reads it, lines joined with spaces (statements wrap)."""
    return " ".join(" ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split("\n")).split())


def extracted_text(pdf: bytes) -> str:
    """The text ``pdftotext`` (poppler) reads back, in logical order, normalised (NFKC) and without the
    directional marks it puts around right-to-left runs."""
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return "".join(ch for ch in unicodedata.normalize("NFKC", out) if unicodedata.category(ch) != "Cf")
