"""What a visitor or staff member reads: one wording for signing up, the Reports box on the admin home only, and
a 404 for another provider's object that reads as a sentence."""

import html
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

REPORTS = 'id="reports-module"'


class Page(HTMLParser):
    """The title, headings, submit buttons and links of a page, each as its text with whitespace collapsed."""

    def __init__(self, content: str):
        super().__init__()
        self.title, self.h1, self.buttons, self.links = "", [], [], []
        self._open: list[tuple[str, dict, list[str]]] = []
        self.feed(content)

    def handle_starttag(self, tag, attrs):
        if tag in {"title", "h1", "button", "a"}:
            self._open.append((tag, dict(attrs), []))

    def handle_data(self, data):
        for _, _, parts in self._open:
            parts.append(data)

    def handle_endtag(self, tag):
        if not self._open or self._open[-1][0] != tag:
            return
        _, attrs, parts = self._open.pop()
        words = " ".join("".join(parts).split())
        if tag == "title":
            self.title = words
        elif tag == "h1":
            self.h1.append(words)
        elif tag == "button" and attrs.get("type") == "submit":
            self.buttons.append(words)
        elif tag == "a":
            self.links.append((words, attrs.get("href")))


def visible_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_sign_up_page_says_create_account_as_the_menu_does(client):
    response = client.get(reverse("account_signup"))

    page = Page(response.content.decode())
    assert page.title == "Create account · CME Portal"
    assert page.h1 == ["Create account"]
    assert page.buttons == ["Create account"]
    assert ("Create account", reverse("account_signup")) in page.links  # the menu
    assert ("Sign in", reverse("account_login")) in page.links
    assert not re.search(r"sign ?up", visible_text(response), re.IGNORECASE)


def test_the_sign_in_page_links_to_create_account_in_the_same_words(client):
    response = client.get(reverse("account_login"))

    page = Page(response.content.decode())
    assert page.title == "Sign in · CME Portal"
    assert page.h1 == ["Sign in"]
    assert page.buttons == ["Sign in"]
    signup_links = [text for text, href in page.links if href == reverse("account_signup")]
    assert signup_links == ["Create account", "Create account"]  # the menu's and the page's
    assert "No account yet? Create account" in visible_text(response)
    assert not re.search(r"sign ?up", visible_text(response), re.IGNORECASE)


@pytest.mark.parametrize("persona", ["accreditor", "staff_a"])
def test_reports_are_on_the_admin_home_and_not_on_an_apps_page(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    home = client.get(reverse("admin:index"))
    app_page = client.get(reverse("admin:app_list", args=["activities"]))

    assert REPORTS in home.content.decode()
    assert f'href="{reverse("admin:learners_dashboard")}"' in home.content.decode()
    assert app_page.status_code == 200
    assert "Activities" in Page(app_page.content.decode()).h1[-1]  # Django's app page, not the home
    assert REPORTS not in app_page.content.decode()
    assert reverse("admin:learners_dashboard") not in app_page.content.decode()


def test_another_providers_object_is_a_404_that_reads_as_a_sentence(client, settings, staff_a, activity_b):
    settings.DEBUG = True  # the message shows on the debug 404 page a local portal serves
    client.force_login(staff_a)

    response = client.get(reverse("admin:activities_activity_change", args=[activity_b.pk]))

    assert response.status_code == 404
    assert "No such object, or it belongs to a provider you are not a member of." in visible_text(response)
