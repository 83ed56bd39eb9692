"""The Content-Security-Policy: on every response, and nothing in the templates that it would block.

The browser test (tests/browser/test_csp.py) visits the pages in Chromium and listens for violations; this
one reads the templates, so a new inline script, style or event handler fails here first.
"""

import base64
import hashlib
import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import ROOT

pytestmark = pytest.mark.django_db

TEMPLATES = ROOT / "templates"
EMAILS = ("emails", "email")  # mail clients, not browsers under the policy, read these
DATA_TYPES = {"application/ld+json", "application/json"}  # data blocks, which no browser runs


def policy(response) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in response["Content-Security-Policy"].split(";") if part)
    }


def page_templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        if not any(part in EMAILS for part in path.relative_to(TEMPLATES).parts):
            yield path


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize(
    "url",
    ["/", "/activities/", "/api/activities/", "/verify/", "/accounts/login/", "/admin/login/", "/healthz"],
)
def test_every_response_carries_the_policy(client, url):
    directives = policy(client.get(url))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"][0] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"] + directives["style-src"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]


def test_learner_and_admin_pages_carry_it_too(client, learner_a, accreditor):
    client.force_login(learner_a)
    assert "default-src 'self'" in client.get(reverse("learners:dashboard"))["Content-Security-Policy"]
    client.force_login(accreditor)
    assert "default-src 'self'" in client.get(reverse("admin:index"))["Content-Security-Policy"]


def test_no_template_has_an_inline_script_or_style_and_the_policy_allows_none():
    """Scripts and styles are static files; the only inline block is data (the catalog's JSON-LD)."""
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert not [v for values in directives.values() for v in values if v.startswith(("'sha256-", "'nonce-"))]
    found = []
    for path in page_templates():
        text = path.read_text()
        for tag in ("script", "style"):
            for match in re.finditer(rf"<{tag}(\s[^>]*)?>(.*?)</{tag}>", text, re.S):
                attributes, body = match.group(1) or "", match.group(2)
                kind = re.search(r'type="([^"]+)"', attributes)
                if "src=" in attributes or (kind and kind.group(1) in DATA_TYPES) or not body.strip():
                    continue
                found.append(f"{path.relative_to(ROOT)}: inline <{tag}>")
    assert not found


def test_no_template_uses_event_handler_attributes_style_attributes_or_javascript_urls():
    found = []
    for path in page_templates():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"\son[a-z]+\s*=|\sstyle\s*=|javascript:", line, re.I):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found


def test_the_activity_pages_json_ld_is_a_data_block(client, activity_a):
    page = client.get(activity_a.get_absolute_url()).content.decode()
    assert '<script type="application/ld+json">' in page
    assert re.findall(r"<script(?![^>]*\b(src=|type=\"application/ld\+json\"))[^>]*>", page) == []
