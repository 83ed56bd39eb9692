"""The public catalog pages: what a visitor sees on the home page, the catalog and an activity's page."""

import json
import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.listing import parse_listing
from activities.models import Activity, Provider
from activities.services import import_listing
from tests.factories import ActivityFactory, ProviderFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db

CATALOG = "/activities/"

# --- A small HTML tree, enough to read the pages (BeautifulSoup is not installed) ------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list = field(default_factory=list)

    def text(self) -> str:
        parts = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text())
        return " ".join("".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str, **attrs: str) -> list["Node"]:
        """Elements named ``tag`` whose attributes have these values (``class_`` matches one class)."""
        wanted = {key.rstrip("_"): value for key, value in attrs.items()}
        found = []
        for node in self.iter():
            if node.tag != tag:
                continue
            if all(
                value in (node.attrs.get("class") or "").split()
                if key == "class"
                else node.attrs.get(key) == value
                for key, value in wanted.items()
            ):
                found.append(node)
        return found

    def find(self, tag: str, **attrs: str) -> "Node":
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(response) -> Node:
    builder = _Builder()
    builder.feed(response.content.decode("utf-8"))
    builder.close()
    return builder.root


def card_titles(page: Node) -> list[str]:
    return [heading.text() for heading in page.find_all("h3", class_="card-title")]


def options(page: Node, name: str) -> dict[str, str]:
    """``value -> text`` of a filter ``<select>``'s options, without the "Any" choice."""
    select = page.find("select", name=name)
    return {
        option.attrs["value"]: option.text() for option in select.find_all("option") if option.attrs["value"]
    }


def selected(page: Node, name: str) -> list[str]:
    select = page.find("select", name=name)
    return [option.attrs["value"] for option in select.find_all("option") if "selected" in option.attrs]


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def titles_for(client, **params) -> list[str]:
    response = client.get(CATALOG, params)
    assert response.status_code == 200
    return card_titles(parse(response))


@pytest.fixture
def seed(seed_text) -> Activity:
    import_listing(listing=parse_listing(seed_text))
    return Activity.objects.get()


# --- Listing, drafts, past activities, keywords ----------------------------------------------------------


def test_the_catalog_lists_published_current_activities_but_never_drafts(client):
    now = timezone.now()
    ActivityFactory(title="Current course", start=now - timedelta(days=3))
    ActivityFactory(title="Upcoming course", start=now + timedelta(days=3))
    ActivityFactory(title="Ended course", start=now - timedelta(days=40), end=now - timedelta(days=1))
    ActivityFactory(title="Unpublished course", status=Activity.Status.DRAFT)

    page = parse(client.get(CATALOG))
    assert sorted(card_titles(page)) == ["Current course", "Upcoming course"]
    assert "checked" not in page.find("input", name="include_past").attrs

    with_past = parse(client.get(CATALOG, {"include_past": "1"}))
    assert sorted(card_titles(with_past)) == ["Current course", "Ended course", "Upcoming course"]
    assert "checked" in with_past.find("input", name="include_past").attrs


def test_the_seed_is_found_by_keyword_once_past_activities_are_included(client, seed):
    assert titles_for(client, q="intrathecal") == []
    hidden = parse(client.get(CATALOG, {"q": "intrathecal"}))
    offer = [a for a in hidden.find_all("a") if a.text() == "Include activities that have ended"]
    assert len(offer) == 1 and query_of(offer[0].attrs["href"]) == {
        "q": ["intrathecal"],
        "include_past": ["1"],
    }

    assert titles_for(client, q="intrathecal", include_past="1") == [seed.title]
    assert titles_for(client, q="intrath", include_past="1") == [seed.title]  # while still typing
    assert titles_for(client, q="intrathecal zebrafish", include_past="1") == []


# --- Facet counts ---------------------------------------------------------------------------------------


@pytest.fixture
def facet_catalog():
    """Six current activities, counted by hand in the tests, plus a draft and an ended activity that
    must not count anywhere.

    ====================  ========  =========  ======================  ========
    title                 provider  format     specialties             fee
    ====================  ========  =========  ======================  ========
    Heart rhythms         Alpha     online     Cardiology              free
    Stroke care           Alpha     online     Cardiology, Neurology   fixed
    Epilepsy clinic       Beta      in person  Neurology               free
    Tumor boards          Beta      online     Oncology                variable
    Cardio-oncology       Beta      in person  Cardiology, Oncology    free
    Chemo safety          Beta      online     Oncology                fixed
    ====================  ========  =========  ======================  ========
    """
    alpha, beta = ProviderFactory(name="Alpha Health"), ProviderFactory(name="Beta Learning")
    cardiology, neurology, oncology = (
        SpecialtyFactory(name=n) for n in ("Cardiology", "Neurology", "Oncology")
    )
    rows = [
        ("Heart rhythms", alpha, "online", [cardiology], "free"),
        ("Stroke care", alpha, "online", [cardiology, neurology], "fixed"),
        ("Epilepsy clinic", beta, "in_person", [neurology], "free"),
        ("Tumor boards", beta, "online", [oncology], "variable"),
        ("Cardio-oncology", beta, "in_person", [cardiology, oncology], "free"),
        ("Chemo safety", beta, "online", [oncology], "fixed"),
    ]
    for title, provider, format_, specialties, fee in rows:
        ActivityFactory(
            title=title,
            provider=provider,
            format=format_,
            specialties=specialties,
            fee_kind=fee,
            fee_amount=Decimal("40.00") if fee == "fixed" else None,
        )
    now = timezone.now()
    ActivityFactory(
        title="Draft heart course",
        provider=alpha,
        format="in_person",
        specialties=[neurology],
        status="draft",
    )
    ActivityFactory(
        title="Ended heart course",
        provider=alpha,
        format="in_person",
        specialties=[neurology],
        start=now - timedelta(days=90),
        end=now - timedelta(days=1),
    )


def test_facet_counts_with_no_filter_chosen(client, facet_catalog):
    page = parse(client.get(CATALOG))

    assert options(page, "format") == {"online": "Online Learning (4)", "in_person": "In Person (2)"}
    assert options(page, "specialty") == {
        "cardiology": "Cardiology (3)",
        "neurology": "Neurology (2)",
        "oncology": "Oncology (3)",
    }
    assert options(page, "provider") == {
        "alpha-health": "Alpha Health (2)",
        "beta-learning": "Beta Learning (4)",
    }
    assert options(page, "free") == {"true": "Free (3)", "false": "Paid or variable fee (3)"}
    assert all(selected(page, name) == [] for name in ("format", "specialty", "provider", "free"))


def test_facet_counts_follow_a_chosen_filter_except_its_own(client, facet_catalog):
    page = parse(client.get(CATALOG, {"specialty": "cardiology"}))

    assert sorted(card_titles(page)) == ["Cardio-oncology", "Heart rhythms", "Stroke care"]
    # Other facets count within cardiology...
    assert options(page, "format") == {"online": "Online Learning (2)", "in_person": "In Person (1)"}
    assert options(page, "provider") == {
        "alpha-health": "Alpha Health (2)",
        "beta-learning": "Beta Learning (1)",
    }
    assert options(page, "free") == {"true": "Free (2)", "false": "Paid or variable fee (1)"}
    # ...while the specialty choices say what picking each of them instead would give.
    assert options(page, "specialty") == {
        "cardiology": "Cardiology (3)",
        "neurology": "Neurology (2)",
        "oncology": "Oncology (3)",
    }
    assert selected(page, "specialty") == ["cardiology"]


def test_a_value_with_no_results_left_is_not_offered(client, facet_catalog):
    page = parse(client.get(CATALOG, {"format": "in_person"}))

    assert options(page, "provider") == {"beta-learning": "Beta Learning (2)"}
    assert options(page, "free") == {"true": "Free (2)"}
    assert options(page, "format") == {"online": "Online Learning (4)", "in_person": "In Person (2)"}


@pytest.mark.parametrize(
    ("value", "shown"), [("true", "true"), ("1", "true"), ("false", "false"), ("0", "false")]
)
def test_the_chosen_free_filter_stays_selected_however_it_was_spelled(client, facet_catalog, value, shown):
    """The form re-submits what its selects show: a filter that applies but shows "Any" would be lost."""
    page = parse(client.get(CATALOG, {"free": value}))
    assert len(card_titles(page)) == 3
    assert selected(page, "free") == [shown]
    chip = page.find("ul", class_="active-filters").find("a").text()
    assert chip == {"true": "Free: Free ×", "false": "Free: Paid or variable fee ×"}[shown]


def test_the_chosen_moc_board_stays_selected_in_any_case(client):
    ActivityFactory(title="Pathology review", moc=[("ABPATH", "lifelong_learning", "1")])
    page = parse(client.get(CATALOG, {"moc_board": "ABPath"}))
    assert card_titles(page) == ["Pathology review"]
    assert options(page, "moc_board") == {"ABPATH": "ABPath (1)"}
    assert selected(page, "moc_board") == ["ABPATH"]


# --- The URL carries the search ------------------------------------------------------------------------


def test_page_links_keep_the_keywords_and_filters(client):
    for n in range(5):
        ActivityFactory(
            title=f"Sepsis session {n}", format="online", start=timezone.now() - timedelta(days=n)
        )
    ActivityFactory(title="Sepsis in person", format="in_person")
    params = {"q": "sepsis", "format": "online", "page_size": "2"}

    first = parse(client.get(CATALOG, params))
    assert first.find_all("a", rel="prev") == []
    next_href = first.find("a", rel="next").attrs["href"]
    assert query_of(next_href) == {"q": ["sepsis"], "format": ["online"], "page_size": ["2"], "page": ["2"]}

    second = parse(client.get(CATALOG + next_href))
    assert query_of(second.find("a", rel="prev").attrs["href"]) == {
        "q": ["sepsis"],
        "format": ["online"],
        "page_size": ["2"],
        "page": ["1"],
    }
    third = parse(client.get(CATALOG + second.find("a", rel="next").attrs["href"]))
    assert third.find_all("a", rel="next") == []

    seen = card_titles(first) + card_titles(second) + card_titles(third)
    assert sorted(seen) == [f"Sepsis session {n}" for n in range(5)]
    assert "Page 2 of 3" in second.find("nav", class_="pagination").text()
    # The form keeps them too, so applying another filter does not lose them.
    form = second.find("form", role="search")
    assert form.find("input", name="q").attrs["value"] == "sepsis"
    assert form.find("input", name="page_size").attrs["value"] == "2"
    assert selected(second, "format") == ["online"]


def test_each_active_filter_chip_links_to_the_search_without_it(client, facet_catalog):
    page = parse(client.get(CATALOG, {"q": "heart", "format": "online", "provider": "alpha-health"}))

    chips = {
        link.text(): link.attrs["href"] for link in page.find("ul", class_="active-filters").find_all("a")
    }
    assert set(chips) == {"Format: Online Learning ×", "Provider: Alpha Health ×"}
    assert query_of(chips["Format: Online Learning ×"]) == {"q": ["heart"], "provider": ["alpha-health"]}
    assert query_of(chips["Provider: Alpha Health ×"]) == {"q": ["heart"], "format": ["online"]}
    assert card_titles(page) == ["Heart rhythms"]
    assert sorted(card_titles(parse(client.get(CATALOG + chips["Provider: Alpha Health ×"])))) == [
        "Heart rhythms"
    ]


def test_no_chips_without_filters(client, facet_catalog):
    assert parse(client.get(CATALOG, {"q": "heart"})).find_all("ul", class_="active-filters") == []


# --- Sorting --------------------------------------------------------------------------------------------


@pytest.fixture
def sortable():
    now = timezone.now()
    ActivityFactory(title="Mango", start=now - timedelta(days=10), credits={"ama_pra_1": "1.00"})
    ActivityFactory(title="apple", start=now - timedelta(days=20), credits={"nursing": "4.00"})
    ActivityFactory(title="Zebra", start=now - timedelta(days=5), credits={})
    ActivityFactory(
        title="Kiwi", start=now - timedelta(days=15), credits={"ama_pra_1": "2.00", "ipce": "0.50"}
    )


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("title", ["apple", "Kiwi", "Mango", "Zebra"]),  # alphabetical, whatever the case
        ("start", ["apple", "Kiwi", "Mango", "Zebra"]),
        ("-start", ["Zebra", "Mango", "Kiwi", "apple"]),
        ("credits", ["apple", "Kiwi", "Mango", "Zebra"]),  # no credit last
        ("", ["Zebra", "Mango", "Kiwi", "apple"]),  # newest first by default
    ],
)
def test_sorting(client, sortable, sort, order):
    assert titles_for(client, sort=sort) == order


def test_most_credit_first_ranks_by_the_largest_amount_not_the_start(client):
    now = timezone.now()
    ActivityFactory(title="Early small", start=now - timedelta(days=9), credits={"ama_pra_1": "0.25"})
    ActivityFactory(title="Late large", start=now - timedelta(days=1), credits={"ama_pra_1": "12.00"})
    ActivityFactory(title="Middle", start=now - timedelta(days=5), credits={"ama_pra_1": "3.00"})
    assert titles_for(client, sort="credits") == ["Late large", "Middle", "Early small"]


@pytest.mark.postgres
def test_relevance_puts_a_title_match_above_a_summary_only_match(client):
    """Ranking is PostgreSQL full-text search; SQLite's fallback only filters (newest first)."""
    now = timezone.now()
    ActivityFactory(
        title="Intrathecal baclofen pumps", summary="Device refills.", start=now - timedelta(days=20)
    )
    ActivityFactory(
        title="Spasticity management",
        summary="Covers oral agents and intrathecal baclofen.",
        start=now - timedelta(days=1),
    )
    expected = ["Intrathecal baclofen pumps", "Spasticity management"]
    assert titles_for(client, q="intrathecal") == expected  # relevance is the default with keywords
    assert titles_for(client, q="intrathecal", sort="relevance") == expected
    assert titles_for(client, q="intrathecal", sort="-start") == expected[::-1]


# --- Bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("free", "maybe"),
        ("moc_board", "XYZ"),
        ("specialty", "no-such-slug"),
        ("starts_after", "2025-13-01"),
        ("page", "0"),
        ("page", "abc"),
        ("page_size", "1000"),
        ("sort", "bogus"),
        ("activity_type", "nope"),
    ],
)
def test_a_bad_value_is_a_400_with_a_message_naming_the_parameter(client, facet_catalog, name, value):
    response = client.get(CATALOG, {name: value})

    assert response.status_code == 400
    alert = parse(response).find("div", role="alert")
    named = [item.find("strong").text() for item in alert.find_all("li")]
    assert named == [name]
    assert card_titles(parse(response)) == []


def test_a_page_past_the_end_is_404(client, facet_catalog):
    assert client.get(CATALOG, {"page_size": 5, "page": 2}).status_code == 200
    assert client.get(CATALOG, {"page_size": 5, "page": 3}).status_code == 404
    assert client.get(CATALOG, {"q": "nothing-matches-this", "page": 2}).status_code == 404


# --- Cost -----------------------------------------------------------------------------------------------


@pytest.fixture
def fifty_activities():
    """Fifty current activities, each with its own mix of credits, MOC approvals and specialties."""
    rng = random.Random(23)
    providers = [ProviderFactory(name=f"Query Provider {n}") for n in range(3)]
    specialties = [SpecialtyFactory(name=f"Query Specialty {n}") for n in range(5)]
    for n in range(50):
        ActivityFactory(
            title=f"Counted activity {n}",
            provider=providers[n % 3],
            start=timezone.now() - timedelta(days=n),
            activity_type=rng.choice(["course", "internet_enduring", "internet_live", "journal"]),
            fee_kind=Activity.Fee.FIXED if n % 4 == 0 else Activity.Fee.FREE,
            fee_amount=Decimal("30.00") if n % 4 == 0 else None,
            credits=dict.fromkeys(
                rng.sample(["ama_pra_1", "ipce", "nursing", "pharmacy"], rng.randint(1, 4)), "1.00"
            ),
            moc=[
                (b, "medical_knowledge", "1.00")
                for b in rng.sample(["ABIM", "ABA", "ABS", "ABPATH"], rng.randint(0, 3))
            ],
            specialties=rng.sample(specialties, rng.randint(0, 3)),
        )


def test_the_number_of_queries_does_not_grow_with_the_page(client, fifty_activities):
    def queries(page_size: int) -> int:
        caches["fragments"].clear()  # every card rendered afresh
        with CaptureQueriesContext(connection) as captured:
            response = client.get(CATALOG, {"page_size": page_size})
        assert response.status_code == 200
        assert len(card_titles(parse(response))) == page_size
        return len(captured)

    client.get(CATALOG)  # the first request after the writes rebuilds the catalog index
    assert queries(5) == queries(50)


# --- An activity's page ---------------------------------------------------------------------------------


def jsonld(page: Node) -> dict:
    (script,) = page.find_all("script", type="application/ld+json")
    return json.loads(script.text())


def test_the_seed_activity_page_shows_the_listing(client, seed):
    Provider.objects.filter(pk=seed.provider_id).update(joint_accreditation=True)
    response = client.get(f"/activities/{seed.slug}/")

    assert response.status_code == 200
    page = parse(response)
    assert page.find("h1").text() == seed.title
    assert "Provided by StatPearls, LLC" in page.find("p", class_="activity-provider").text()
    facts = page.find("aside", class_="activity-facts")
    dl = facts.find("dl")
    pairs = dict(
        zip([dt.text() for dt in dl.find_all("dt")], [dd.text() for dd in dl.find_all("dd")], strict=True)
    )
    assert pairs == {
        "Activity type": "Enduring Material",
        "Format": "Online Learning",
        "Released": "September 1, 2023",
        "Credit available until": "September 1, 2026",
        "Fee": "Variable",
        "Registration": "Open to all",
        "Providership": "Directly provided",
        "Commercial support": "None",
        "Measured outcomes": "Learner Knowledge, Learner/Team Competence",
        "Specialties": "All Practice Areas (e.g. ethics), General Surgery, Pain Medicine, Surgery of the Spine",
    }
    specialty_links = {a.text(): a.attrs["href"] for a in dl.find_all("a")}
    assert query_of(specialty_links["Pain Medicine"]) == {
        "specialty": ["pain-medicine"],
        "include_past": ["1"],
    }

    credits = [
        (item.find("p", class_="credit-amount").text(), item.find("p", class_="statement").text())
        for item in page.find("ul", class_="credit-list").find_all("li")
    ]
    assert [amount for amount, _ in credits] == [
        "1.50 AMA PRA Category 1 Credit™ (maximum)",
        "1.50 IPCE Credit (maximum)",
        "1.50 ANCC Nursing Contact Hours (maximum)",
        "1.50 ACPE Pharmacy Contact Hours (maximum)",
    ]
    assert credits[0][1].startswith(
        "StatPearls, LLC designates this enduring material for a maximum of 1.50 AMA PRA Category 1 Credits™."
    )
    assert page.find("ul", class_="credit-list").find("i").text() == "AMA PRA Category 1 Credits"
    assert "maximum of 1.50 nursing contact hours" in credits[2][1]
    assert "approved for 1.50 contact hours of continuing pharmacy education" in credits[3][1]

    rows = [
        [td.text() for td in tr.find_all("td")]
        for tr in page.find("table", class_="moc-table").find_all("tr")
    ]
    assert [row for row in rows if row] == [
        ["ABA", "Lifelong Learning", "1.50"],
        ["ABOS", "Accredited CME", "1.50"],
        ["ABPath", "Lifelong Learning", "1.50"],
        ["ABS", "Accredited CME", "1.50"],
        ["ABS", "Self-Assessment", "1.50"],
    ]
    assert page.find("abbr", title="American Board of Pathology").text() == "ABPath"
    accreditation = page.find("section", **{"aria-labelledby": "accreditation-title"})
    assert accreditation.find("p", class_="statement-ja").text() == (
        "In support of improving patient care, StatPearls, LLC is jointly accredited by the Accreditation "
        "Council for Continuing Medical Education (ACCME), the Accreditation Council for Pharmacy Education "
        "(ACPE), and the American Nurses Credentialing Center (ANCC), to provide continuing education for the "
        "healthcare team."
    )
    link = facts.find("a", class_="button")
    assert link.attrs["href"] == "https://www.statpearls.com/ArticleLibrary/viewarticle/23719"

    data = jsonld(page)
    assert data["@type"] == "Course"
    assert data["name"] == seed.title
    assert data["provider"]["name"] == "StatPearls, LLC"
    assert data["url"] == f"http://testserver/activities/{seed.slug}/"
    assert data["offers"]["@type"] == "Offer"
    assert data["offers"]["category"] == "Paid"
    assert "price" not in data["offers"]  # the seed's fee is variable: no one price to state


def test_a_live_paid_jointly_provided_activity_page(client):
    activity = ActivityFactory(
        title="Regional anesthesia workshop",
        provider=ProviderFactory(name="Summit Anesthesia Society"),
        activity_type="course",
        format="in_person",
        location="Denver, CO",
        start=timezone.now() + timedelta(days=30),
        end=timezone.now() + timedelta(days=31),
        fee_kind=Activity.Fee.FIXED,
        fee_amount=Decimal("250.00"),
        providership=Activity.Providership.JOINT,
        joint_provider="Mountain Hospital",
        commercial_support=True,
        credits={"ama_pra_1": "7.25"},
    )
    page = parse(client.get(activity.get_absolute_url()))

    dl = page.find("aside", class_="activity-facts").find("dl")
    pairs = dict(
        zip([dt.text() for dt in dl.find_all("dt")], [dd.text() for dd in dl.find_all("dd")], strict=True)
    )
    assert pairs["Fee"] == "$250.00"
    assert pairs["Location"] == "Denver, CO"
    assert pairs["Providership"] == "Jointly provided (Mountain Hospital)"
    assert pairs["Commercial support"] == "Yes"
    assert "Dates" in pairs and "Released" not in pairs
    assert "in joint providership with Mountain Hospital" in page.find("p", class_="activity-provider").text()
    statement = page.find("ul", class_="credit-list").find("p", class_="statement").text()
    assert "designates this live activity for a maximum of 7.25 AMA PRA Category 1 Credits™" in statement
    accreditation = page.find("section", **{"aria-labelledby": "accreditation-title"}).text()
    assert "Summit Anesthesia Society is accredited by the ACCME" in accreditation
    assert page.find_all("table", class_="moc-table") == []  # no MOC, no table
    offers = jsonld(page)["offers"]
    assert (offers["price"], offers["priceCurrency"], offers["category"]) == ("250.00", "USD", "Paid")
    assert jsonld(page)["hasCourseInstance"]["location"] == "Denver, CO"


def test_a_draft_or_unknown_activity_page_is_404(client):
    draft = ActivityFactory(status=Activity.Status.DRAFT)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get("/activities/no-such-activity/").status_code == 404


# --- Home page ------------------------------------------------------------------------------------------


def test_the_home_page_counts_the_current_catalog_and_shows_what_starts_soon(client):
    now = timezone.now()
    alpha, beta, gamma = (ProviderFactory(name=n) for n in ("Alpha Health", "Beta Learning", "Gamma CME"))
    cardiology = SpecialtyFactory(name="Cardiology")
    ActivityFactory(title="Ongoing online course", provider=alpha, format="online", specialties=[cardiology])
    ActivityFactory(title="Another online course", provider=beta, format="online", specialties=[cardiology])
    ActivityFactory(
        title="Workshop next week",
        provider=alpha,
        format="in_person",
        start=now + timedelta(days=7),
        end=now + timedelta(days=8),
    )
    ActivityFactory(
        title="Finished workshop",
        provider=gamma,
        format="in_person",
        start=now - timedelta(days=20),
        end=now - timedelta(days=19),
    )
    ActivityFactory(
        title="Unpublished workshop", provider=gamma, start=now + timedelta(days=2), status="draft"
    )

    page = parse(client.get("/"))

    assert "3 current activities from 2 accredited providers." in page.find("p", class_="lead").text()
    by_format = page.find("section", **{"aria-labelledby": "formats-title"})
    assert {a.text(): a.attrs["href"] for a in by_format.find_all("a")} == {
        "Online Learning 2": "/activities/?format=online",
        "In Person 1": "/activities/?format=in_person",
    }
    by_specialty = page.find("section", **{"aria-labelledby": "specialties-title"})
    assert {a.text(): a.attrs["href"] for a in by_specialty.find_all("a")} == {
        "Cardiology 2": "/activities/?specialty=cardiology"
    }
    assert card_titles(page.find("section", **{"aria-labelledby": "soon-title"})) == ["Workshop next week"]


def test_the_home_page_of_an_empty_catalog(client):
    page = parse(client.get("/"))
    assert "0 current activities from 0 accredited providers." in page.find("p", class_="lead").text()
    assert (
        "No activities are scheduled to start soon."
        in page.find("section", **{"aria-labelledby": "soon-title"}).text()
    )


# --- Accessibility basics -------------------------------------------------------------------------------


def test_every_page_has_a_language_a_skip_link_a_main_landmark_and_one_heading(client, seed, facet_catalog):
    for url in ("/", CATALOG, f"{CATALOG}?free=maybe", f"/activities/{seed.slug}/"):
        page = parse(client.get(url))
        assert page.find("html").attrs.get("lang", "").startswith("en"), url
        assert page.find("main").attrs.get("id") == "main", url
        skip = page.find("a", class_="skip-link")
        assert skip.attrs["href"] == "#main"
        assert page.find_all("body")[0].find_all("a")[0] is skip, "the skip link comes first"
        assert len(page.find_all("h1")) == 1, url


@pytest.mark.parametrize("params", [{}, {"specialty": "cardiology", "q": "heart"}, {"free": "maybe"}])
def test_every_catalog_control_has_a_label(client, facet_catalog, params):
    form = parse(client.get(CATALOG, params)).find("form", role="search")
    labels = {label.attrs.get("for") for label in form.find_all("label")}
    controls = [
        c for c in form.find_all("input") + form.find_all("select") if c.attrs.get("type") != "hidden"
    ]
    assert controls
    for control in controls:
        assert control.attrs.get("id") in labels, control.attrs


def test_the_home_search_box_has_a_label(client):
    page = parse(client.get("/"))
    search = page.find("input", type="search")
    assert search.attrs["id"] in {label.attrs.get("for") for label in page.find_all("label")}


# --- Cached cards and escaping --------------------------------------------------------------------------


def test_a_renamed_activity_shows_its_new_title_in_the_catalog(client):
    activity = ActivityFactory(title="Original title")
    assert titles_for(client) == ["Original title"]
    assert titles_for(client) == ["Original title"]  # served from the fragment cache this time

    activity.title = "Corrected title"
    activity.save()

    assert titles_for(client) == ["Corrected title"]


def test_a_credit_change_shows_on_the_cached_card(client):
    activity = ActivityFactory(title="Credit change", credits={"ama_pra_1": "1.00"})
    badges = parse(client.get(CATALOG)).find("ul", class_="credit-badges").text()
    assert badges == "1 AMA PRA Category 1 Credit™"

    activity.credits.update(max_amount=Decimal("2.50"))

    assert (
        parse(client.get(CATALOG)).find("ul", class_="credit-badges").text()
        == "2.5 AMA PRA Category 1 Credit™"
    )


def test_markup_in_a_title_is_shown_as_text(client):
    activity = ActivityFactory(title="<script>alert(1)</script>", slug="script-title")

    for response in (client.get(CATALOG), client.get(activity.get_absolute_url())):
        html = response.content.decode("utf-8")
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    catalog = parse(client.get(CATALOG))
    assert card_titles(catalog) == ["<script>alert(1)</script>"]
    detail = parse(client.get(activity.get_absolute_url()))
    assert detail.find("h1").text() == "<script>alert(1)</script>"
    assert jsonld(detail)["name"] == "<script>alert(1)</script>"  # inside JSON-LD, escaped as \u003c
