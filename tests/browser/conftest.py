"""Browser fixtures: Debian's Chromium driven by Playwright, axe-core from npm, and artifacts on failure.

Tests marked ``browser`` need ``/usr/bin/chromium`` (``apt-get install chromium``) and
``node_modules/axe-core`` (``npm ci``); ``.ci/run`` installs both. Without either they skip with the
reason, unless ``REQUIRE_SERVICES=1``, which makes the skip a failure.

While Playwright's sync API runs, the main thread has a running asyncio event loop, and Django refuses ORM
calls from it (``SynchronousOnlyOperation``). So a test creates its data in fixtures requested before
``page``, talks to the database only through the browser while the page is open, and Playwright is started
and stopped per test, never left running for the tests that follow.
"""

import importlib.util
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, missing_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
BLOCKING_IMPACTS = {"serious", "critical"}

phase_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_runtest_setup(item):
    """Before any database or live server is set up, as ``tests/conftest.py`` does for the services."""
    if not item.get_closest_marker("browser"):
        return
    if not CHROMIUM.exists():
        missing_service(f"needs Chromium at {CHROMIUM}: apt-get install chromium")
    if not AXE_SCRIPT.is_file():
        missing_service(f"needs axe-core: run `npm ci` in {ROOT} (Node.js and npm) to get {AXE_SCRIPT}")
    if importlib.util.find_spec("playwright") is None:
        missing_service("needs Playwright for Python: pip install -r requirements-dev.txt")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so ``page`` knows at teardown whether the test failed."""
    report = yield
    item.stash.setdefault(phase_reports, {})[report.when] = report
    return report


@pytest.fixture
def bypass_csp() -> bool:
    """Whether the page ignores the site's Content-Security-Policy: axe-core is injected as an inline script,
    which the policy forbids. test_csp.py, which checks the policy, overrides this with False."""
    return True


@pytest.fixture
def page(request, live_server, bypass_csp):
    """A fresh headless Chromium page whose relative URLs go to the live server.

    When the test fails, a full-page screenshot and the page's HTML are saved in ``test-artifacts/``.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url, bypass_csp=bypass_csp)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            report = request.node.stash.get(phase_reports, {}).get("call")
            if report is not None and report.failed:
                _save_artifacts(page, request.node.name)
            context.close()
            browser.close()


def _save_artifacts(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
    try:
        page.screenshot(path=f"{stem}.png", full_page=True)
        Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
    except Exception as exc:  # the page may be gone; the test's own failure is what matters
        print(f"could not save browser artifacts for {name}: {exc}")
    else:
        print(f"browser artifacts for {name} ({page.url}): {stem}.png, {stem}.html")


@pytest.fixture
def assert_accessible():
    """``assert_accessible(page, "the claim form")`` runs axe-core on the page as it is now and fails on
    any violation whose impact is serious or critical, listing rule, help and the elements concerned."""

    def check(page, where: str) -> None:
        page.add_script_tag(path=str(AXE_SCRIPT))
        results = page.evaluate("axe.run()")
        blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
        if not blocking:
            return
        engine = results["testEngine"]["version"]
        lines = [f"axe-core {engine}: serious or critical accessibility violations on {where} ({page.url}):"]
        for violation in blocking:
            rule, impact, help_, url = (violation[k] for k in ("id", "impact", "help", "helpUrl"))
            lines.append(f"- {rule} [{impact}]: {help_} ({url})")
            for node in violation["nodes"]:
                target = " ".join(str(part) for part in node["target"])
                summary = " ".join((node.get("failureSummary") or "").split())
                lines.append(f"    {target}: {summary}")
        pytest.fail("\n".join(lines), pytrace=False)

    return check


class _Sink:
    """Collects the messages a real SMTP session delivers (aiosmtpd, in a thread)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on a free local port, and the portal's email pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    controller.stop()
