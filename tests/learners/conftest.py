"""Learner fixtures: profiles for the personas, a physician ready for MOC, and the activities they take."""

import html
import re
from html.parser import HTMLParser

import factory
import pytest
from django.core.cache import caches
from django.utils import timezone

from activities.models import Activity
from learners.models import BoardId, LearnerProfile
from tests.factories import ActivityFactory, UserFactory

ABIM_ID = "ABIM-448812"


class LearnerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearnerProfile

    user = factory.SubFactory(UserFactory)
    profession = "physician"
    degree = "MD"


def make_profile(user, *, profession="physician", degree=None, boards=None, consent=False, **fields):
    """A profile for ``user``; ``boards={"ABIM": "123"}``; ``consent=True`` dates the reporting consent."""
    if degree is None:
        degree = "MD" if profession == "physician" else ""
    profile = LearnerProfileFactory(
        user=user,
        profession=profession,
        degree=degree,
        reporting_consent_at=timezone.now() if consent else None,
        **fields,
    )
    for board, board_id in (boards or {}).items():
        BoardId.objects.create(profile=profile, board=board, board_id=board_id)
    return profile


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts attempts in the default (LocMem) cache, which outlives a test: start each empty."""
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def physician(learner_a):
    """Learner A as an MD with an ABIM board ID who consented to reporting."""
    make_profile(learner_a, boards={"ABIM": ABIM_ID}, consent=True)
    return learner_a


@pytest.fixture
def other_physician(learner_b):
    """Learner B, also an MD: the outsider in every learner-A test."""
    make_profile(learner_b, boards={"ABIM": "ABIM-000001"}, consent=True)
    return learner_b


@pytest.fixture
def nurse(db):
    user = UserFactory(email="nurse@example.com")
    make_profile(user, profession="nurse")
    return user


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


def text(response) -> str:
    """The page's text with tags removed and entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
