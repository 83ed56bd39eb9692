"""Learner fixtures: the activities the personas take, and what a learner's form shows."""

import html
import re
from html.parser import HTMLParser

import pytest

from activities.models import Activity
from tests.factories import ActivityFactory


@pytest.fixture
def seed_like_activity(provider_a):
    """An enduring material like the seed: four credit types at 1.50 and MOC with ABIM and ABS."""
    return ActivityFactory(
        provider=provider_a,
        title="Intrathecal drug delivery",
        credits={"ama_pra_1": "1.50", "ipce": "1.50", "nursing": "1.50", "pharmacy": "1.50"},
        moc=[("ABIM", "medical_knowledge", "1.50"), ("ABS", "accredited_cme", "1.50")],
    )


@pytest.fixture
def draft_activity(provider_a):
    return ActivityFactory(provider=provider_a, title="Unpublished draft", status=Activity.Status.DRAFT)


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name"):
            self.found[attributes["name"]] = attributes


def inputs(response) -> dict[str, dict[str, str | None]]:
    """The page's ``<input>`` elements by name, with their attributes."""
    parser = _Inputs()
    parser.feed(response.content.decode())
    return parser.found


def field_error(response, field_id: str) -> str:
    """The error shown beside the field with HTML id ``field_id`` (empty when there is none)."""
    match = re.search(
        rf'<p class="field-error" id="{re.escape(field_id)}_error">(.*?)</p>', response.content.decode(), re.S
    )
    return html.unescape(match.group(1)).strip() if match else ""
