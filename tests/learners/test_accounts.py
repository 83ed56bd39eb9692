"""Accounts through the real allauth views: sign-up, mandatory verification, login, reset, rate limits."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from learners.models import LearnerProfile
from portal.models import User
from tests.factories import PASSWORD, UserFactory
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-lantern-harbour-92"


def sign_up(client, *, email="Ada.Byron@Example.com", **overrides):
    data = {
        "email": email,
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "first_name": "Łukasz",
        "last_name": "Żółć",
        "profession": "pharmacist",
    } | overrides
    return client.post(reverse("account_signup"), data)


def log_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def link_in(message) -> str:
    """The path of the one link in an email body."""
    match = re.search(r"https?://testserver(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def verified_learner(db):
    user = UserFactory(email="verified@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_sign_up_records_the_legal_name_and_the_profession(client):
    response = sign_up(client)

    assert response.status_code == 302
    user = User.objects.get(email__iexact="ada.byron@example.com")
    assert (user.first_name, user.last_name) == ("Łukasz", "Żółć")
    assert LearnerProfile.objects.get(user=user).profession == "pharmacist"


def test_sign_up_page_asks_for_the_name_as_on_certificates_and_the_profession(client):
    response = client.get(reverse("account_signup"))

    page = page_text(response)
    assert 'name="first_name"' in response.content.decode()
    assert 'name="last_name"' in response.content.decode()
    assert 'name="profession"' in response.content.decode()
    assert "as it should print on certificates" in page


@pytest.mark.parametrize("missing", ["first_name", "last_name", "profession"])
def test_sign_up_without_name_or_profession_creates_no_account(client, missing):
    response = sign_up(client, **{missing: ""})

    assert response.status_code == 200
    assert missing in response.context["form"].errors
    assert not User.objects.exists()
    assert not LearnerProfile.objects.exists()


def test_login_is_refused_until_the_emailed_link_is_followed(client):
    sign_up(client)
    assert len(mail.outbox) == 1
    confirmation = link_in(mail.outbox[0])
    assert not is_logged_in(client)

    other = Client()
    response = log_in(other, "ada.byron@example.com", NEW_PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert not is_logged_in(other)

    confirmer = Client()
    assert confirmer.get(confirmation).status_code == 200
    assert confirmer.post(confirmation).status_code == 302
    assert EmailAddress.objects.get(email__iexact="ada.byron@example.com").verified

    after = Client()
    response = log_in(after, "ada.byron@example.com", NEW_PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("learners:dashboard")
    assert is_logged_in(after)


def test_login_by_email_ignores_case(verified_learner, client):
    response = log_in(client, "VERIFIED@Example.COM", PASSWORD)

    assert response.status_code == 302
    assert is_logged_in(client)
    assert client.session["_auth_user_id"] == str(verified_learner.pk)


def test_wrong_password_is_refused(verified_learner, client):
    response = log_in(client, verified_learner.email, "not-the-password")

    assert response.status_code == 200
    assert not is_logged_in(client)


def test_signing_up_twice_with_one_email_in_another_case_makes_one_account(client):
    sign_up(client, email="twice@example.com")
    sign_up(Client(), email="TWICE@example.com")

    assert User.objects.filter(email__iexact="twice@example.com").count() == 1


def test_password_reset_emails_a_link_that_sets_a_new_password(verified_learner, client):
    response = client.post(reverse("account_reset_password"), {"email": "Verified@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [verified_learner.email]

    response = client.get(link_in(mail.outbox[0]))
    assert response.status_code == 302  # allauth moves the key into the session, then shows the form
    set_password = response.url
    form_page = client.get(set_password)
    assert form_page.status_code == 200
    assert in_site_layout(form_page)
    response = client.post(set_password, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302

    with_old, with_new = Client(), Client()
    log_in(with_old, verified_learner.email, PASSWORD)
    log_in(with_new, verified_learner.email, NEW_PASSWORD)
    assert not is_logged_in(with_old)
    assert is_logged_in(with_new)


def test_a_password_reset_link_works_once(verified_learner, client):
    client.post(reverse("account_reset_password"), {"email": verified_learner.email})
    link = link_in(mail.outbox[0])
    set_password = client.get(link).url
    client.post(set_password, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    again = Client()
    again.get(link, follow=True)
    response = again.post(set_password, {"password1": "another-pass-4711", "password2": "another-pass-4711"})
    assert response.status_code != 302
    verified_learner.refresh_from_db()
    assert verified_learner.check_password(NEW_PASSWORD)


def test_repeated_failed_logins_for_one_email_are_eventually_refused(verified_learner, client):
    for _ in range(5):
        log_in(Client(), verified_learner.email, "not-the-password")

    response = log_in(client, verified_learner.email, PASSWORD)

    assert not is_logged_in(client)
    assert "Too many failed login attempts" in page_text(response)


def test_failed_logins_for_another_email_do_not_lock_this_one(verified_learner, client):
    for _ in range(5):
        log_in(Client(), "someone-else@example.com", "not-the-password")

    log_in(client, verified_learner.email, PASSWORD)

    assert is_logged_in(client)


@pytest.mark.parametrize(
    "url_name",
    [
        "account_login",
        "account_signup",
        "account_reset_password",
        "account_reset_password_done",
        "account_email_verification_sent",
        "account_inactive",
    ],
)
def test_allauth_pages_render_in_the_site_layout(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert in_site_layout(response)


@pytest.mark.parametrize("url_name", ["account_email", "account_change_password", "account_logout"])
def test_signed_in_allauth_pages_render_in_the_site_layout(client, verified_learner, url_name):
    client.force_login(verified_learner)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert in_site_layout(response)
    assert "My learning" in page_text(response)


def in_site_layout(response) -> bool:
    content = response.content.decode()
    return (
        'class="skip-link"' in content
        and 'class="site-header"' in content
        and "site.css" in content
        and "Find activities" in page_text(response)
    )


def test_the_confirmation_page_renders_in_the_site_layout(client):
    sign_up(client)

    response = Client().get(link_in(mail.outbox[0]))

    assert response.status_code == 200
    assert in_site_layout(response)
