"""Helpers the whole suite shares: learners, completions and certificates made through the portal's services,
and what a response shows.

``make_learner`` and ``change_profile`` go through ``create_profile`` and ``update_profile``, ``complete``
through ``enroll``, ``check_in`` (at each session of a live activity) and ``claim_credit``, and ``issue`` through ``issue_certificate``, so a test never holds a
state the portal could not reach: every claim, certificate and ledger row is written as the portal writes it.
The personas made with them are fixtures in ``tests/conftest.py``.
"""

import contextlib
import html
import re
from datetime import datetime

import time_machine
from django.contrib.messages import get_messages

from attendance import codes
from attendance.services import checkin as checkin_service
from learners import services
from learners.models import Certificate, Enrollment, LearnerProfile
from learners.services import certificates
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
