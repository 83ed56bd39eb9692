"""The real parts, private to a test: a Redis broker and an SMTP sink that a test can stop and start again on
the same port, the portal's Celery app pointed at that broker, and real ``celery worker`` processes.

A test that uses them commits for real (the worker is another process, on the pytest test database), so it
is marked ``django_db(transaction=True, serialized_rollback=True)`` as well as ``postgres`` and ``celery``.
"""

import asyncio
import email
import email.policy
import logging
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from kombu import pools

from learners import services
from learners.services import dispatch
from portal.celery import app
from tests.celery_worker import Worker, worker_env
from tests.conftest import missing_service
from tests.factories import UserFactory

# Seconds before a message a killed worker held comes back (the portal's default is an hour).
VISIBILITY_TIMEOUT = 5
REJECTED = "no-such-mailbox@example.com"  # the sink answers 550 for this recipient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` seconds pass (fail)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(interval)


# --- SMTP sink ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes

    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


class SinkHandler:
    """Keeps every message it accepts; refuses ``REJECTED`` at RCPT as a real server refuses a bad mailbox.

    ``data_delay`` seconds pass before each message is accepted (a slow or loaded server: the message
    counts as delivered even if the client is gone meanwhile, as a real server would have it).
    ``stall_rcpt``, a ``threading.Event``, holds the next RCPT until the test sets it (or 120 s pass), so
    a test can kill a worker in the middle of a send, before anything was delivered; ``rcpt_stalled`` is
    set once one is held.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.delivered: list[Delivered] = []
        self.hang_ups = 0
        self.data_delay = 0.0
        self.stall_rcpt: threading.Event | None = None
        self.rcpt_stalled = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        stall, self.stall_rcpt = self.stall_rcpt, None
        if stall is not None:
            self.rcpt_stalled.set()
            await asyncio.get_running_loop().run_in_executor(None, stall.wait, 120)
            return "421 4.3.2 sink: held"
        if address.lower() == REJECTED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        with self.lock:
            self.delivered.append(Delivered(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class HangingUpSMTP(SMTP):
    """Closes a connection left idle for ``timeout`` seconds saying 421 first, as Postfix and Exim do."""

    def _timeout_cb(self):
        self.event_handler.hang_ups += 1
        self._writer.write(b"421 4.4.2 sink Error: timeout exceeded\r\n")
        super()._timeout_cb()


class SinkController(Controller):
    def factory(self):
        return HangingUpSMTP(self.handler, **self.SMTP_kwargs)


class SmtpSink:
    """An SMTP server on a fixed port, in a thread of the test process (the worker reaches it over TCP).

    ``idle_timeout`` (seconds, 300 as in aiosmtpd and Postfix) applies from the next ``start()``.
    """

    def __init__(self, port: int):
        self.port = port
        self.idle_timeout = 300
        self.handler = SinkHandler()
        self.controller: Controller | None = None

    def start(self) -> "SmtpSink":
        self.controller = SinkController(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10, timeout=self.idle_timeout
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def hang_ups(self) -> int:
        return self.handler.hang_ups

    @property
    def messages(self) -> list[Delivered]:
        with self.handler.lock:
            return list(self.handler.delivered)

    def to(self, address: str) -> list[Delivered]:
        return [m for m in self.messages if address in m.recipients]

    def count_by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in self.messages:
            for recipient in message.recipients:
                counts[recipient] = counts.get(recipient, 0) + 1
        return counts


@pytest.fixture
def smtp_sink():
    """Running; ``stop()`` and ``start()`` it to take the mail server down and bring it back."""
    log = logging.getLogger("mail.log")  # aiosmtpd logs every SMTP command at INFO
    level = log.level
    log.setLevel(logging.WARNING)
    sink = SmtpSink(free_port()).start()
    yield sink
    sink.stop()
    log.setLevel(level)


# --- Redis -------------------------------------------------------------------------------------------------


class PrivateRedis:
    """``redis-server`` on a port of its own, without persistence: stopping it loses what it held."""

    def __init__(self, port: int, log_path):
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, socket_connect_timeout=2)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return self._client

    def start(self) -> "PrivateRedis":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._answers, timeout=10, what=f"redis-server on port {self.port}", interval=0.05)
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"redis-server exited with {self.process.returncode}; see {self.log_path}")
        try:
            return self.client().ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def idle(self) -> bool:
        """No task waiting in a queue, and none delivered to a worker and not yet acknowledged."""
        client = self.client()
        queued = sum(client.llen(key) for key in client.scan_iter("celery*") if client.type(key) == b"list")
        return queued == 0 and client.hlen("unacked") == 0


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        missing_service("needs the redis-server binary on PATH")
    server = PrivateRedis(free_port(), tmp_path / "redis.log").start()
    yield server
    server.stop()
    server.client().close()


def _close_broker_connections() -> None:
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


@pytest.fixture
def broker(private_redis, monkeypatch):
    """The test process dispatches to the private Redis (not in-process), like the web process would."""
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    original = {key: app.conf[key] for key in keys}
    _close_broker_connections()
    monkeypatch.setenv("CELERY_BROKER_URL", private_redis.url)  # Celery reads it before its own setting
    app.conf.update(
        broker_url=private_redis.url,
        task_always_eager=False,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    )
    yield private_redis
    _close_broker_connections()
    app.conf.update(original)


# --- workers -----------------------------------------------------------------------------------------------


@pytest.fixture
def start_worker(broker, smtp_sink, tmp_path, request):
    """``start_worker(concurrency=2)``: a real worker on the private broker, mailing through the sink.

    Keyword arguments in capitals set the worker's environment (``TEST_EMAIL_BACKOFF_SECONDS="20"``, see
    tests/worker_settings.py). Every worker started is stopped at the end of the test; a failed test shows
    the tail of their logs.
    """
    started: list[Worker] = []
    request.node.started_workers = started

    def start(*, concurrency: int = 1, **environment: str) -> Worker:
        env = worker_env(
            CELERY_BROKER_URL=broker.url,
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            TEST_UNACKED_RESTORE_INTERVAL="1",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_sink.port),
            EMAIL_TIMEOUT="5",
            **{"TEST_EMAIL_BACKOFF_SECONDS": "1", **environment},
        )
        for name in (
            "TEST_EMAIL_BACKEND",  # real SMTP
            "EMAIL_URL",
            "EMAIL_HOST_USER",
            "EMAIL_HOST_PASSWORD",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
            "CELERY_BROKER_READ_URL",
            "CELERY_BROKER_WRITE_URL",
        ):
            env.pop(name, None)
        worker = Worker(concurrency=concurrency, env=env, log_path=tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def wait_for_task(worker: Worker, task_id: str, *, timeout: float = 30) -> None:
    """Wait until ``worker``'s log says the task with this id has finished (succeeded or failed)."""

    def finished():
        text = worker.log_path.read_text(errors="replace") if worker.log_path.exists() else ""
        return re.search(rf"\[{re.escape(task_id)}\] (succeeded|raised|retry)", text)

    wait_for(finished, timeout=timeout, what=f"task {task_id} to finish")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for worker in getattr(item, "started_workers", []):
            if worker.log_path.exists():
                lines = worker.log_path.read_text(errors="replace").splitlines()
                report.sections.append((f"worker log {worker.log_path.name}", "\n".join(lines[-80:])))
    return report


@pytest.fixture(autouse=True)
def _broker_not_looked_down():
    """Each test starts with a process that has not seen the broker down (another test may have)."""
    dispatch._broker_down_until = 0.0
    yield
    dispatch._broker_down_until = 0.0


# --- learners ----------------------------------------------------------------------------------------------


def enrolled_learners(activity, count: int) -> list:
    """``count`` physicians with a profile, each enrolled in ``activity``; returns their enrollments."""
    enrollments = []
    for n in range(count):
        user = UserFactory(email=f"learner-{n}@example.com")
        services.create_profile(
            user=user, first_name=f"Learner{n}", last_name="Tester", profession="physician"
        )
        enrollment, _ = services.enroll(learner=user, activity=activity)
        enrollments.append(enrollment)
    return enrollments


def claim(enrollment):
    """Claim 1.50 AMA PRA Category 1 Credit™ (the activity must offer it), as the claim form would."""
    return services.claim_credit(enrollment=enrollment, amounts={"ama_pra_1": Decimal("1.50")}, attested=True)
