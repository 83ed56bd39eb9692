import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError

from portal.models import User

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_is_matched_ignoring_case():
    User.objects.create_user("Dr.Jane@Example.COM", "a-long-password-1")
    assert authenticate(username="dr.jane@example.com", password="a-long-password-1") is not None
    assert authenticate(username="dr.jane@example.com", password="wrong") is None


def test_email_is_unique_ignoring_case():
    User.objects.create_user("jane@example.com", "pw-123456789")
    with pytest.raises(IntegrityError):
        User.objects.create_user("JANE@example.com", "pw-123456789")


def test_superuser_has_staff_and_superuser_flags():
    admin = User.objects.create_superuser("root@example.com", "pw-123456789")
    assert admin.is_staff and admin.is_superuser and str(admin) == "root@example.com"


def test_admin_login_page_accepts_email(client):
    User.objects.create_superuser("root@example.com", "pw-123456789")
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "ROOT@example.com", "password": "pw-123456789"},
        follow=True,
    )
    assert response.wsgi_request.user.is_authenticated
    assert "Site administration" in response.text or "Providers, activities and learners" in response.text
