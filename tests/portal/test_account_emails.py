"""The account emails allauth sends for the portal (sign-up confirmation, password reset, and the rest) speak in
the portal's voice and name, not allauth's "Hello from 127.0.0.1:8000!", and carry a link that works."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import resolve, reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-lantern-harbour-92"


@pytest.fixture
def verified_learner(db):
    user = UserFactory(email="verified@example.com", first_name="Grace", last_name="Hopper")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def sign_up(client, *, email="ada@example.com"):
    data = {
        "email": email,
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "first_name": "Ada",
        "last_name": "Okafor",
        "profession": "physician",
    }
    return client.post(reverse("account_signup"), data)


def only_email():
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return mail.outbox[0]


def link_in(message) -> str:
    """The path of the one link to the portal in an email body (the signature's home link aside)."""
    links = [path for path in re.findall(r"https?://testserver(/\S+)", message.body) if path != "/"]
    assert len(links) == 1, message.body
    return links[0]


def assert_in_the_portals_voice(message, *, name="CME Portal"):
    assert message.subject.startswith("[CME Portal] ")
    assert "Hello from" not in message.body
    assert "Thank you for using" not in message.body
    assert "You're receiving this email" not in message.body
    assert "You are receiving this" not in message.body
    assert name in message.body
    assert message.body.rstrip().endswith(f"-- \n{name}\nhttp://testserver/")


def test_the_sign_up_confirmation_greets_the_learner_and_links_to_the_confirmation(client):
    sign_up(client)

    message = only_email()
    assert message.subject == "[CME Portal] Confirm your email address"
    assert_in_the_portals_voice(message)
    assert message.body.startswith("Hello Ada Okafor,\n")
    assert "Thank you for creating an account on CME Portal." in message.body
    link = link_in(message)
    assert resolve(link).url_name == "account_confirm_email"
    assert Client().post(link).status_code == 302
    assert EmailAddress.objects.get(email="ada@example.com").verified


def test_the_emails_use_the_portal_name_setting(client, settings):
    settings.PORTAL_NAME = "Northwind CME"

    sign_up(client)

    body = only_email().body
    assert "Thank you for creating an account on Northwind CME." in body
    assert body.rstrip().endswith("-- \nNorthwind CME\nhttp://testserver/")


def test_the_password_reset_email_links_to_a_new_password(verified_learner, client):
    client.post(reverse("account_reset_password"), {"email": verified_learner.email})

    message = only_email()
    assert message.subject == "[CME Portal] Reset your password"
    assert_in_the_portals_voice(message)
    assert message.body.startswith("Hello Grace Hopper,\n")
    assert "reset the password of your CME Portal account" in message.body
    response = client.get(link_in(message))
    assert response.status_code == 302  # allauth moves the key into the session, then shows the form
    assert client.get(response.url).context["form"].fields.keys() >= {"password1", "password2"}


def test_a_reset_for_an_address_without_an_account_says_so_and_links_to_sign_up(client):
    client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    message = only_email()
    assert message.to == ["nobody@example.com"]
    assert message.subject == "[CME Portal] No account with this address"
    assert_in_the_portals_voice(message)
    assert message.body.startswith("Hello,\n")
    assert "there is no account with this address" in message.body
    assert link_in(message) == reverse("account_signup")


def test_signing_up_with_a_taken_address_emails_its_owner_a_reset_link(verified_learner, client):
    sign_up(client, email=verified_learner.email)

    message = only_email()
    assert message.to == [verified_learner.email]
    assert message.subject == "[CME Portal] You already have an account"
    assert_in_the_portals_voice(message)
    assert "there is already an account with this address" in message.body
    assert link_in(message) == reverse("account_reset_password")


def test_adding_an_address_emails_a_confirmation_to_it(verified_learner, client):
    client.force_login(verified_learner)

    client.post(reverse("account_email"), {"action_add": "", "email": "grace@work.example.com"})

    message = only_email()
    assert message.to == ["grace@work.example.com"]
    assert message.subject == "[CME Portal] Confirm your email address"
    assert_in_the_portals_voice(message)
    assert "grace@work.example.com is your address for your CME Portal account" in message.body
    assert resolve(link_in(message)).url_name == "account_confirm_email"


def test_account_change_notifications_are_in_the_portals_voice_too(verified_learner, client, settings):
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = (
        True  # off in the portal; the notification wrapper is overridden anyway
    )
    client.force_login(verified_learner)

    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    message = only_email()
    assert_in_the_portals_voice(message)
    assert "This change was just made to your CME Portal account:" in message.body
    assert "Your password has been changed." in message.body
