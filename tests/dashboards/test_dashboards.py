"""The admin dashboard: every figure against a hand count, the chart, the CSV, scoping, and query counts.

The world and its timeline are in ``conftest.py``; the expected figures below are counted by hand from it.
"""

import csv
import io
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities.vocabulary import CREDIT_TYPE_BY_CODE
from portal.lib import svg_chart
from tests.dashboards.conftest import YEAR_A, YEAR_B, certify_at, claim_at, enroll_at
from tests.factories import ActivityFactory, MembershipFactory, UserFactory, utc
from tests.helpers import make_learner

pytestmark = pytest.mark.django_db

PAGE = "/admin/learners/dashboard/"
CSV = "/admin/learners/dashboard/annual.csv"
SVG_NS = "{http://www.w3.org/2000/svg}"
FIGURES = [
    "enrollments",
    "completions",
    "physician_learners",
    "other_learners",
    "enrolled_completed",
    "completion_rate",
    "certificates_issued",
    "certificates_delivered",
]
NAMES = {code: CREDIT_TYPE_BY_CODE[code].name for code in ("ama_pra_1", "ipce", "nursing")}


def row(provider, activity_type, hours, support, figures, credits=None):
    return {
        "provider": provider,
        "activity_type": activity_type,
        "hours": hours,
        "commercial_support": support,
        **dict(zip(FIGURES, figures, strict=True)),
        "credits": credits or {},
    }


# A live course's completion is the day of its last session claimed (Ned's January claim of the March course
# completes in March).
# Per activity and year: (enrollments, completions, physicians, others, of the year's enrollments completed,
# completion rate, certificates issued, delivered), then the credits claimed in the year.
EXPECTED_ROWS = {
    YEAR_A: {
        "Cardiology update": row(
            "Provider A", "Internet Enduring Material", "1.50", "Yes", (5, 3, 2, 1, 4, "80.0", 2, 1),
            {"ama_pra_1": "2.75", "nursing": "1.00"},
        ),
        "Sepsis bootcamp": row(
            "Provider A", "Course", "2.00", "No", (3, 3, 1, 2, 3, "100.0", 1, 1),
            {"nursing": "2.00", "ipce": "3.50"},
        ),
        "Outsider enduring": row(
            "Provider B", "Internet Enduring Material", "1.00", "No", (1, 1, 1, 0, 1, "100.0", 1, 1),
            {"ama_pra_1": "1.00"},
        ),
    },
    YEAR_B: {
        "Cardiology update": row(
            "Provider A", "Internet Enduring Material", "1.50", "Yes", (1, 2, 1, 1, 1, "100.0", 2, 1),
            {"ama_pra_1": "0.75", "nursing": "1.50"},
        ),
        "Sepsis bootcamp": row(
            "Provider A", "Course", "2.00", "No", (0, 0, 0, 0, 0, None, 1, 1),
            {"nursing": "1.50", "ipce": "1.50"},
        ),
        "Pharmacology journal club": row(
            "Provider A", "Journal-based CME", "1.00", "No", (2, 1, 1, 0, 1, "50.0", 1, 0),
            {"ama_pra_1": "1.00"},
        ),
        "Outsider enduring": row(
            "Provider B", "Internet Enduring Material", "1.00", "No", (2, 1, 0, 1, 1, "50.0", 1, 1),
        ),
    },
}  # fmt: skip

# Totals per scope and year: (activities, enrollments, completions, physicians, others, completion rate,
# certificates issued, delivered), then credits.
EXPECTED_TOTALS = {
    ("all", YEAR_A): ((3, 9, 7, 4, 3, "88.9", 4, 3), {"ama_pra_1": "3.75", "ipce": "3.50", "nursing": "3.00"}),
    ("all", YEAR_B): ((4, 5, 4, 2, 2, "60.0", 5, 3), {"ama_pra_1": "1.75", "ipce": "1.50", "nursing": "3.00"}),
    ("A", YEAR_A): ((2, 8, 6, 3, 3, "87.5", 3, 2), {"ama_pra_1": "2.75", "ipce": "3.50", "nursing": "3.00"}),
    ("A", YEAR_B): ((3, 3, 3, 2, 1, "66.7", 4, 2), {"ama_pra_1": "1.75", "ipce": "1.50", "nursing": "3.00"}),
    ("B", YEAR_A): ((1, 1, 1, 1, 0, "100.0", 1, 1), {"ama_pra_1": "1.00"}),
    ("B", YEAR_B): ((1, 2, 1, 0, 1, "50.0", 1, 1), {}),
}  # fmt: skip

# Enrollments made and completed per month (January first).
EXPECTED_MONTHS = {
    ("A", YEAR_A): ([0, 1, 3, 0, 2, 0, 0, 0, 0, 0, 1, 1], [0, 1, 3, 0, 1, 1, 0, 0, 0, 0, 0, 0]),
    ("B", YEAR_A): ([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
    ("A", YEAR_B): ([0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0], [1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
    ("B", YEAR_B): ([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]),
}
for _year in (YEAR_A, YEAR_B):
    _a, _b = EXPECTED_MONTHS[("A", _year)], EXPECTED_MONTHS[("B", _year)]
    EXPECTED_MONTHS[("all", _year)] = tuple(
        [x + y for x, y in zip(sa, sb, strict=True)] for sa, sb in zip(_a, _b, strict=True)
    )

PROVIDER_NAMES = {"all": ("Provider A", "Provider B"), "A": ("Provider A",), "B": ("Provider B",)}


def expected_rows(scope: str, year: int) -> dict[str, dict]:
    return {
        title: figures
        for title, figures in EXPECTED_ROWS[year].items()
        if figures["provider"] in PROVIDER_NAMES[scope]
    }


# --- reading the page ----------------------------------------------------------------------------------------


class FigureParser(HTMLParser):
    """Collects the text of every element with ``data-figure``: per ``tr[data-activity]`` row, or totals."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.totals: dict[str, str] = {}
        self._row: str | None = None
        self._figure: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-activity" in attrs:
            self._row = attrs["data-activity"]
            self.rows[self._row] = {}
        if "data-figure" in attrs and self._figure is None:
            self._figure, self._text = (tag, attrs["data-figure"]), []

    def handle_endtag(self, tag):
        if self._figure and tag == self._figure[0]:
            target = self.rows[self._row] if self._row else self.totals
            target[self._figure[1]] = " ".join("".join(self._text).split())
            self._figure = None
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._figure:
            self._text.append(data)


def figures_of(response) -> FigureParser:
    assert response.status_code == 200
    parser = FigureParser()
    parser.feed(response.content.decode())
    return parser


def page_rows(response) -> dict[str, dict[str, str]]:
    """The activity table keyed by title."""
    return {cells["title"]: cells for cells in figures_of(response).rows.values()}


def chart_of(response) -> ET.Element:
    match = re.search(r"<svg\b[^>]*class=\"bar-chart\".*?</svg>", response.content.decode(), re.DOTALL)
    assert match, "no chart on the page"
    return ET.fromstring(match.group(0))  # noqa: S314 -- our own output


def series_of(chart: ET.Element) -> dict[str, list[int]]:
    return {
        group.get("data-series"): [int(bar.get("data-value")) for bar in group.iter(f"{SVG_NS}rect")]
        for group in chart.iter(f"{SVG_NS}g")
        if group.get("data-series")
    }


def csv_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def scope_params(scope, provider_a, provider_b) -> dict:
    return {"all": {}, "A": {"provider": provider_a.pk}, "B": {"provider": provider_b.pk}}[scope]


# --- every figure, by hand ------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [YEAR_A, YEAR_B])
@pytest.mark.parametrize("scope", ["all", "A", "B"])
def test_page_figures_match_the_hand_count(client, world, accreditor, provider_a, provider_b, scope, year):
    response = get(client, accreditor, PAGE, year=year, **scope_params(scope, provider_a, provider_b))
    parsed = figures_of(response)
    rows = {cells["title"]: cells for cells in parsed.rows.values()}
    expected = expected_rows(scope, year)
    assert set(rows) == set(expected)
    for title, want in expected.items():
        cells = rows[title]
        if scope == "all":
            assert cells["provider"] == want["provider"]
        assert cells["activity_type"] == want["activity_type"]
        assert cells["hours"] == want["hours"]
        assert cells["commercial_support"] == want["commercial_support"]
        for figure in FIGURES:
            if figure == "enrolled_completed":
                continue  # in the CSV; the page shows the rate it makes
            value = want[figure]
            shown = "—" if value is None else f"{value}%" if figure == "completion_rate" else str(value)
            assert cells[figure] == shown, (title, figure)
        credit_cells = {
            key.removeprefix("credit:"): v for key, v in cells.items() if key.startswith("credit:")
        }
        assert credit_cells == {code: want["credits"].get(code, "—") for code in credit_cells}, title

    counts, credits = EXPECTED_TOTALS[(scope, year)]
    names = ["activities", *[f for f in FIGURES if f != "enrolled_completed"]]
    shown = {name: parsed.totals[name] for name in names}
    assert shown == {
        name: f"{value}%" if name == "completion_rate" else str(value)
        for name, value in zip(names, counts, strict=True)
    }
    total_credits = {
        key.removeprefix("credit:"): v for key, v in parsed.totals.items() if key.startswith("credit:")
    }
    assert total_credits == credits  # and only the credit types claimed in the year have a column


@pytest.mark.parametrize("year", [YEAR_A, YEAR_B])
@pytest.mark.parametrize("scope", ["all", "A", "B"])
def test_csv_rows_match_the_hand_count(client, world, accreditor, provider_a, provider_b, scope, year):
    response = get(client, accreditor, CSV, year=year, **scope_params(scope, provider_a, provider_b))
    rows = csv_of(response)
    expected = expected_rows(scope, year)
    assert [r["Activity"] for r in rows] == sorted(expected, key=lambda t: (expected[t]["provider"], t))
    credit_columns = [
        NAMES[code] for code in ("ama_pra_1", "ipce", "nursing") if code in EXPECTED_TOTALS[(scope, year)][1]
    ]
    for line in rows:
        want = expected[line["Activity"]]
        assert line == {
            "Year": str(year),
            "Provider": want["provider"],
            "Activity": line["Activity"],
            "Accreditor activity ID": "",
            "Activity type": want["activity_type"],
            "Physician learners": str(want["physician_learners"]),
            "Other learners": str(want["other_learners"]),
            "Hours of instruction": want["hours"],
            "Commercial support": want["commercial_support"],
            "Enrollments": str(want["enrollments"]),
            "Completions": str(want["completions"]),
            "Enrollments of the year completed": str(want["enrolled_completed"]),
            "Completion rate (%)": want["completion_rate"] or "",
            "Certificates issued": str(want["certificates_issued"]),
            "Certificates delivered": str(want["certificates_delivered"]),
            **{
                NAMES[code]: want["credits"].get(code, "0.00")
                for code in ("ama_pra_1", "ipce", "nursing")
                if NAMES[code] in credit_columns
            },
        }
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert header[15:] == credit_columns  # a column per credit type claimed in the year, in their order


def test_csv_is_named_for_the_year_and_provider(client, world, accreditor, provider_a):
    response = get(client, accreditor, CSV, year=YEAR_A)
    assert response["Content-Disposition"] == f'attachment; filename="cme-annual-{YEAR_A}.csv"'
    response = get(client, accreditor, CSV, year=YEAR_A, provider=provider_a.pk)
    assert response["Content-Disposition"] == f'attachment; filename="cme-annual-{YEAR_A}-provider-a.csv"'


def test_csv_cells_never_run_as_formulas(client, accreditor, provider_a):
    ActivityFactory(provider=provider_a, title='=HYPERLINK("http://evil.example")', start=utc(2023, 1, 1))
    rows = csv_of(get(client, accreditor, CSV, year=YEAR_A))
    assert rows[0]["Activity"] == '\'=HYPERLINK("http://evil.example")'


def test_page_links_the_csv_of_the_same_selection(client, world, accreditor, provider_a):
    response = get(client, accreditor, PAGE, year=YEAR_A, provider=provider_a.pk)
    match = re.search(r'id="dashboard-csv" href="([^"]+)"', response.content.decode())
    url = match.group(1).replace("&amp;", "&")
    assert url.startswith(CSV + "?")
    assert f"year={YEAR_A}" in url and f"provider={provider_a.pk}" in url


def test_page_says_how_each_figure_is_defined(client, world, accreditor):
    text = get(client, accreditor, PAGE, year=YEAR_A).content.decode()
    assert 'id="dashboard-definitions"' in text
    assert "Of the enrollments made during the year, the share completed so far" in text


def test_default_year_is_the_current_one(client, world, accreditor):
    with time_machine.travel(utc(2024, 6, 1), tick=False):
        response = get(client, accreditor, PAGE)
    assert "CME dashboard 2024" in response.content.decode()
    assert set(page_rows(response)) == set(EXPECTED_ROWS[YEAR_B])


def test_a_year_without_activity_shows_none(client, world, accreditor):
    response = get(client, accreditor, PAGE, year=2019)
    assert page_rows(response) == {}
    assert 'id="dashboard-empty"' in response.content.decode()
    assert figures_of(response).totals["enrollments"] == "0"
    assert figures_of(response).totals["completion_rate"] == "—"


@pytest.mark.parametrize("year", ["abc", "20x4", "1200", "99999", "²⁰²³", "-2023"])
def test_a_year_that_is_not_one_is_refused(client, accreditor, year):
    assert get(client, accreditor, PAGE, year=year).status_code == 400
    assert get(client, accreditor, CSV, year=year).status_code == 400


# --- the chart ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [YEAR_A, YEAR_B])
@pytest.mark.parametrize("scope", ["all", "A", "B"])
def test_chart_is_valid_svg_with_twelve_months_of_both_series(
    client, world, accreditor, provider_a, provider_b, scope, year
):
    chart = chart_of(get(client, accreditor, PAGE, year=year, **scope_params(scope, provider_a, provider_b)))
    assert chart.tag == f"{SVG_NS}svg"
    assert chart.get("role") == "img"
    assert chart.get("aria-label") == f"Enrollments and completions by month, {year}"
    assert chart.find(f"{SVG_NS}title").text == f"Enrollments and completions by month, {year}"
    enrollments, completions = EXPECTED_MONTHS[(scope, year)]
    assert series_of(chart) == {"Enrollments": enrollments, "Completions": completions}
    months = [t.text for g in chart.iter(f"{SVG_NS}g") if g.get("class") == "x-axis" for t in g]
    assert months == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    legend = [
        t.text
        for g in chart.iter(f"{SVG_NS}g")
        if g.get("class") == "legend"
        for t in g.iter(f"{SVG_NS}text")
    ]
    assert legend == ["Enrollments", "Completions"]
    month_names = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                   "October", "November", "December"]  # fmt: skip
    assert chart.find(f"{SVG_NS}desc").text == "; ".join(
        f"{name}: " + ", ".join(f"{month} {n}" for month, n in zip(month_names, values, strict=True))
        for name, values in (("Enrollments", enrollments), ("Completions", completions))
    )


def test_chart_is_deterministic_and_escapes_text():
    args = {
        "title": 'Q1 <script>alert("x")</script> & more',
        "labels": ["<a>", "B&B", "C"],
        "series": [("Enrolled <b>", [0, 5, 13]), ("Done's", [0, 0, 7])],
        "y_label": "Learners & co",
    }
    first, second = svg_chart.bar_chart(**args), svg_chart.bar_chart(**args)
    assert first == second
    assert "<script>" not in first and "<b>" not in first
    root = ET.fromstring(str(first))  # noqa: S314 -- our own output
    assert root.find(f"{SVG_NS}title").text == args["title"]
    assert root.get("aria-label") == args["title"]
    assert series_of(root) == {"Enrolled <b>": [0, 5, 13], "Done's": [0, 0, 7]}
    ticks = [
        t.text for g in root.iter(f"{SVG_NS}g") if g.get("class") == "y-axis" for t in g.iter(f"{SVG_NS}text")
    ]
    assert ticks == ["0", "5", "10", "15", "Learners & co"]


def test_chart_of_nothing_still_draws_an_axis():
    root = ET.fromstring(str(svg_chart.bar_chart(title="Empty", labels=["a", "b"], series=[("x", [0, 0])])))  # noqa: S314
    assert series_of(root) == {"x": [0, 0]}


def test_chart_refuses_series_of_the_wrong_length():
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        svg_chart.bar_chart(title="t", labels=["a", "b", "c"], series=[("x", [1, 2])])


@pytest.mark.parametrize(
    ("largest", "step"), [(0, 1), (3, 1), (4, 1), (5, 2), (9, 5), (13, 5), (40, 10), (41, 20), (1234, 500)]
)
def test_nice_step(largest, step):
    assert svg_chart.nice_step(largest) == step


# --- who sees what ------------------------------------------------------------------------------------------


def test_staff_of_b_never_see_a(client, world, staff_b, provider_a, provider_b):
    for year in (YEAR_A, YEAR_B):
        response = get(client, staff_b, PAGE, year=year)
        assert set(page_rows(response)) == {"Outsider enduring"}
        text = response.content.decode()
        for title in ("Cardiology update", "Sepsis bootcamp", "Pharmacology journal club", "Provider A"):
            assert title not in text
        counts, _credits = EXPECTED_TOTALS[("B", year)]
        assert figures_of(response).totals["enrollments"] == str(counts[1])
        assert series_of(chart_of(response)) == dict(
            zip(["Enrollments", "Completions"], EXPECTED_MONTHS[("B", year)], strict=True)
        )
        assert [r["Activity"] for r in csv_of(get(client, staff_b, CSV, year=year))] == ["Outsider enduring"]
    assert 'name="provider"' not in text  # one provider: nothing to choose
    for url in (PAGE, CSV):
        assert get(client, staff_b, url, year=YEAR_A, provider=provider_a.pk).status_code == 404
        assert get(client, staff_b, url, year=YEAR_A, provider=provider_b.pk).status_code == 200


def test_staff_of_a_see_a_only(client, world, staff_a, provider_b):
    response = get(client, staff_a, PAGE, year=YEAR_B)
    assert set(page_rows(response)) == set(expected_rows("A", YEAR_B))
    assert "Outsider enduring" not in response.content.decode()
    assert figures_of(response).totals["completion_rate"] == "66.7%"
    assert get(client, staff_a, PAGE, year=YEAR_B, provider=provider_b.pk).status_code == 404


def test_viewers_see_their_providers_dashboard(client, world, viewer_a):
    response = get(client, viewer_a, PAGE, year=YEAR_A)
    assert set(page_rows(response)) == set(expected_rows("A", YEAR_A))
    assert len(csv_of(get(client, viewer_a, CSV, year=YEAR_A))) == 2


def test_staff_of_two_providers_see_both_and_narrow_to_one(client, world, provider_a, provider_b):
    user = MembershipFactory(provider=provider_a, user__email="both@example.com").user
    MembershipFactory(provider=provider_b, user=user, role="viewer")
    response = get(client, user, PAGE, year=YEAR_A)
    assert set(page_rows(response)) == set(EXPECTED_ROWS[YEAR_A])
    assert 'name="provider"' in response.content.decode()
    assert set(page_rows(get(client, user, PAGE, year=YEAR_A, provider=provider_b.pk))) == {
        "Outsider enduring"
    }


def test_accreditation_staff_see_all_and_narrow_to_one(client, world, accreditor, provider_a, provider_b):
    response = get(client, accreditor, PAGE, year=YEAR_A)
    text = response.content.decode()
    assert set(page_rows(response)) == set(EXPECTED_ROWS[YEAR_A])
    assert f'<option value="{provider_a.pk}">Provider A</option>' in text
    assert f'<option value="{provider_b.pk}">Provider B</option>' in text
    narrowed = get(client, accreditor, PAGE, year=YEAR_A, provider=provider_b.pk)
    assert set(page_rows(narrowed)) == {"Outsider enduring"}
    assert f'<option value="{provider_b.pk}" selected>Provider B</option>' in narrowed.content.decode()
    assert get(client, accreditor, PAGE, provider=999999).status_code == 404
    assert get(client, accreditor, PAGE, provider="a").status_code == 404


def test_superusers_see_everything(client, world):
    admin = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    assert set(page_rows(get(client, admin, PAGE, year=YEAR_A))) == set(EXPECTED_ROWS[YEAR_A])


@pytest.mark.parametrize("url", [PAGE, CSV])
def test_learners_and_strangers_are_sent_to_the_admin_login(client, learner_a, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    client.force_login(learner_a)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("url", [PAGE, CSV])
def test_staff_without_a_provider_are_refused(client, url):
    loner = UserFactory(email="loner@example.com", is_staff=True)
    assert get(client, loner, url).status_code == 403


def test_the_dashboard_has_an_admin_url_name():
    assert reverse("admin:learners_dashboard") == PAGE
    assert reverse("admin:learners_dashboard_csv") == CSV


def test_admin_index_links_the_dashboard(client, staff_a, viewer_a, accreditor):
    for user in (staff_a, viewer_a, accreditor):
        text = get(client, user, reverse("admin:index")).content.decode()
        assert 'id="reports-module"' in text
        assert f'href="{PAGE}"' in text
    loner = UserFactory(email="loner@example.com", is_staff=True)
    text = get(client, loner, reverse("admin:index")).content.decode()
    assert f'href="{PAGE}"' not in text


# --- queries ------------------------------------------------------------------------------------------------


def add_activities(provider, count: int, *, offset: int) -> None:
    """``count`` activities of 2023, each with a physician who completed (certificate sent) and a nurse who
    enrolled only."""
    for n in range(offset, offset + count):
        activity = ActivityFactory(
            provider=provider,
            title=f"Volume {n:02d}",
            start=utc(2023, 1, 1),
            end=utc(2025, 1, 1),
            credits={"ama_pra_1": "1.00", "nursing": "1.00"},
        )
        physician = make_learner(UserFactory(email=f"vol-p{n}@example.com"))
        nurse = make_learner(UserFactory(email=f"vol-n{n}@example.com"), profession="nurse")
        enrollment = enroll_at(physician, activity, utc(2023, 1 + n % 12, 3))
        certify_at(
            claim_at(enrollment, utc(2023, 1 + n % 12, 4), ama_pra_1="1.00"),
            utc(2023, 1 + n % 12, 5),
            delivery="sent",
        )
        enroll_at(nurse, activity, utc(2023, 1 + n % 12, 6))


def queries_for(client, user, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [PAGE, CSV])
@pytest.mark.parametrize("persona", ["accreditor", "staff_a"])
def test_queries_do_not_grow_with_the_number_of_activities(
    client, request, provider_a, url, persona, mailoutbox
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    add_activities(provider_a, 3, offset=0)
    client.get(url, {"year": YEAR_A})  # warm up what a first request loads once (content types, say)
    with_three = queries_for(client, user, url, year=YEAR_A)
    rows = csv_of(client.get(CSV, {"year": YEAR_A}))
    assert len(rows) == 3

    add_activities(provider_a, 9, offset=3)
    with_twelve = queries_for(client, user, url, year=YEAR_A)
    rows = csv_of(client.get(CSV, {"year": YEAR_A}))
    assert len(rows) == 12
    assert all(r["Enrollments"] == "2" and r["Physician learners"] == "1" for r in rows)
    assert all(r["Certificates delivered"] == "1" for r in rows)
    assert with_twelve == with_three
    assert with_three <= 14, "a fixed number, and a small one"
