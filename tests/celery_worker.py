"""Start a real ``celery worker`` process for integration tests, and stop it (gently or with SIGKILL)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

from django.conf import settings

from portal.celery import app
from tests.conftest import ROOT


def worker_env(**extra: str) -> dict[str, str]:
    """The worker's environment: the test database, the broker, and whatever the test adds."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "TEST_DATABASE_NAME": db["NAME"],
    }
    env.update(extra)
    return env


class Worker:
    def __init__(self, *, concurrency: int = 1, env: dict[str, str] | None = None, log_path=None):
        self.hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.concurrency = concurrency
        self.env = env or worker_env()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Worker":
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--hostname",
                self.hostname,
                "--concurrency",
                str(self.concurrency),
                "--pool",
                "prefork",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.process.returncode}")
            if app.control.ping(destination=[self.hostname], timeout=0.5):
                return self
        self.kill()
        raise RuntimeError("celery worker did not answer a ping in time")

    def inspect(self):
        return app.control.inspect(destination=[self.hostname], timeout=5)

    def stop(self, timeout: float = 30) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: a machine dying mid-task."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)


@contextmanager
def running_worker(**kwargs):
    worker = Worker(**kwargs).start()
    try:
        yield worker
    finally:
        worker.stop()
