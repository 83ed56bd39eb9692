"""Certificate fixtures: learners who completed an activity through the services, and their certificates.

Claims, enrollments and certificates are made with the same services the portal uses
(``create_profile``, ``update_profile``, ``enroll``, ``claim_credit``, ``issue_certificate``), so a fixture
never holds a state the portal could not reach.
"""

import html
import re
import socket

import pytest
import time_machine
from django.core.mail.backends import locmem
from django.utils import timezone

from learners import services
from learners.models import Certificate, Enrollment, LearnerProfile, OutboxMessage
from learners.services import certificates, dispatch
from tests.factories import ActivityFactory, UserFactory

NPI = "1234567893"
BIRTH_MONTH, BIRTH_DAY = 7, 14
BOARD_ID = "ABIM-448812"


def make_learner(
    user=None,
    *,
    first_name="Ada",
    last_name="Lovelace",
    profession="physician",
    degree=None,
    **fields,
):
    """``user`` (a new one if None) with a profile made through the services: name, profession, degree,
    and any other profile fields (``npi``, ``birth_month``...) or ``board_ids=[("ABIM", "...")]``."""
    user = user or UserFactory()
    board_ids = fields.pop("board_ids", [])
    consent = fields.pop("consent", bool(board_ids))
    profile = services.create_profile(
        user=user, first_name=first_name, last_name=last_name, profession=profession
    )
    if degree is None:
        degree = "MD" if profession == "physician" else ""
    services.update_profile(
        profile=profile,
        first_name=first_name,
        last_name=last_name,
        fields={"degree": degree, **fields},
        consent=consent,
        licenses=[],
        board_ids=board_ids,
    )
    return user


def complete(user, activity, *, amounts=None, moc_boards=(), at=None) -> Enrollment:
    """Enroll ``user`` (who has a profile) in ``activity`` and claim the maximum of everything their
    profession may claim. The certificate is not issued here: on-commit work does not run in a test's
    transaction unless the test captures it."""
    enrollment, _ = services.enroll(learner=user, activity=activity)
    if amounts is None:
        profile = LearnerProfile.objects.get(user=user)
        options = services.claim_options(enrollment=enrollment, profile=profile)
        amounts = {o.designation.credit_type_id: o.designation.max_amount for o in options.claimable}
    services.claim_credit(enrollment=enrollment, amounts=amounts, attested=True, moc_boards=moc_boards, at=at)
    enrollment.refresh_from_db()
    return enrollment


def issue(enrollment, capture) -> Certificate:
    """Issue the certificate and run what it dispatches after commit (the email, sent eagerly)."""
    with capture(execute=True):
        certificate = certificates.issue_certificate(enrollment=enrollment)
    return certificate


def page_text(response) -> str:
    """The page's text with tags removed and entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def now():
    """The clock, stopped at the real date (the fixtures' activities are dated from it)."""
    moment = timezone.now().replace(microsecond=0)
    with time_machine.travel(moment, tick=False):
        yield moment


@pytest.fixture
def seed_activity(provider_a):
    """Like the seed listing: an internet enduring material with four credit types at 1.50, MOC with ABIM,
    and a pharmacy activity number."""
    activity = ActivityFactory(
        provider=provider_a,
        title="Intrathecal drug delivery",
        credits={"ama_pra_1": "1.50", "ipce": "1.50", "nursing": "1.50", "pharmacy": "1.50"},
        moc=[("ABIM", "medical_knowledge", "1.50")],
    )
    activity.credits.filter(credit_type_id="pharmacy").update(activity_number="JA0000000-0000-25-001-H01-P")
    return activity


@pytest.fixture
def physician_a(learner_a):
    """Learner A: an MD with an NPI, birth date and ABIM board ID, consenting to MOC reporting."""
    return make_learner(
        learner_a,
        first_name="Ada",
        last_name="Lovelace",
        npi=NPI,
        birth_month=BIRTH_MONTH,
        birth_day=BIRTH_DAY,
        board_ids=[("ABIM", BOARD_ID)],
    )


@pytest.fixture
def physician_b(learner_b):
    return make_learner(learner_b, first_name="Bea", last_name="Outsider")


@pytest.fixture
def completed_enrollment(physician_a, seed_activity):
    """Learner A completed the seed-like activity (claimed everything, MOC with ABIM); no certificate yet."""
    return complete(physician_a, seed_activity, moc_boards=["ABIM"])


@pytest.fixture
def certificate(completed_enrollment, django_capture_on_commit_callbacks, mailoutbox):
    """Learner A's certificate, issued and emailed (one message in ``mailoutbox``)."""
    return issue(completed_enrollment, django_capture_on_commit_callbacks)


@pytest.fixture
def certificate_b(provider_b, physician_b, django_capture_on_commit_callbacks):
    """Learner B's certificate for an activity of provider B."""
    activity = ActivityFactory(provider=provider_b, title="Provider B activity")
    return issue(complete(physician_b, activity), django_capture_on_commit_callbacks)


# --- a real SMTP server on this machine ---------------------------------------------------------------------

REFUSED = "nobody@bounce.example.com"  # the server answers 550: permanent
GREYLISTED = "later@greylist.example.com"  # the server answers 451: temporary


class SmtpHandler:
    """Accepts mail, except a 550 for ``REFUSED`` and a 451 for ``GREYLISTED``."""

    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 No such user here"
        if address == GREYLISTED:
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An aiosmtpd server on a free local port; ``restart()`` drops every open connection, as a mail
    server restarting does."""

    def __init__(self):
        self.handler = SmtpHandler()
        self.port = free_port()
        self._start()

    @property
    def received(self) -> list[tuple[list[str], bytes]]:
        return self.handler.received

    def _start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def restart(self):
        self.controller.stop()
        self._start()

    def start(self):
        """Listen again on the same port after ``stop()`` (the mail server back from an outage)."""
        self._start()

    def stop(self):
        self.controller.stop()


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on this machine, with Django's SMTP backend pointed at it."""
    server = SmtpServer()
    use_smtp(settings, server.port)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_down(settings):
    """Django's SMTP backend pointed at a local port where nothing listens: the mail server is down."""
    use_smtp(settings, free_port())


@pytest.fixture(autouse=True)
def _broker_not_looked_down():
    """Each test starts with a process that has not seen the broker down (another test may have)."""
    dispatch._broker_down_until = 0.0
    yield
    dispatch._broker_down_until = 0.0


@pytest.fixture(autouse=True)
def _production_backoff(settings):
    """The first retry of an email waits 30 s, as in production, whatever the environment says."""
    settings.CERTIFICATE_EMAIL_BACKOFF_SECONDS = 30


class ObservingBackend(locmem.EmailBackend):
    """Django's in-memory backend that also notes each message's outbox row as it stands while it is sent."""

    seen: list[tuple[str, int]] = []

    def send_messages(self, messages):
        for message in messages:
            row = OutboxMessage.objects.get(pk=message.extra_headers["X-CME-Message"])
            ObservingBackend.seen.append((row.state, row.attempts))
        return super().send_messages(messages)


@pytest.fixture
def observing_backend(settings):
    ObservingBackend.seen = []
    settings.EMAIL_BACKEND = f"{__name__}.ObservingBackend"
    return ObservingBackend.seen
