"""Certificate fixtures: the personas' completions of an activity like the seed's, their certificates, and
mail servers on this machine.

Claims, enrollments and certificates are made with ``tests.helpers`` (``complete``, ``issue``), which go
through the services the portal uses, so a fixture never holds a state the portal could not reach.
"""

import socket

import pytest
import time_machine
from django.core.mail.backends import locmem
from django.utils import timezone

from learners.models import OutboxMessage
from learners.services import dispatch
from tests.factories import ActivityFactory
from tests.helpers import complete, issue


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
def completed_enrollment(physician, seed_activity):
    """Learner A completed the seed-like activity (claimed everything, MOC with ABIM); no certificate yet."""
    return complete(physician, seed_activity, moc_boards=["ABIM"])


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
