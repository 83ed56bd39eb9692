import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from portal.models import User
from tests.conftest import SEED

pytestmark = pytest.mark.django_db


def test_demo_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("demo")
    assert not User.objects.exists()


def test_demo_accounts_log_in_and_see_what_their_role_allows(settings, client, capsys):
    settings.DEBUG = True
    call_command("import_activities", str(SEED))
    call_command("demo")
    call_command("demo")  # a second run is harmless
    out = capsys.readouterr().out
    assert "accreditor@example.com  password: demo-accreditor-2026" in out

    assert client.login(username="staff@statpearls.example.com", password="demo-provider-2026")
    changelist = client.get(reverse("admin:activities_activity_changelist"))
    assert "Chronic pain is a complex condition" in changelist.text
    client.logout()

    assert client.login(username="accreditor@example.com", password="demo-accreditor-2026")
    assert client.get(reverse("admin:activities_membership_add")).status_code == 200
    client.logout()

    assert client.login(username="learner@example.com", password="demo-learner-2026")
    assert client.get(reverse("admin:index")).status_code == 302  # learners are not staff
    assert User.objects.count() == 3


def test_demo_prints_the_address_make_run_serves(settings, capsys):
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:8000"

    # as `make run HOST=localhost PORT=9000` calls it
    call_command("demo", "--host", "localhost", "--port", "9000")
    call_command("demo", "--port", "8001")
    call_command("demo", "--host", "::1", "--port", "8002")
    call_command("demo")

    portal_lines = [line.split() for line in capsys.readouterr().out.splitlines() if "Portal:" in line]
    assert [(words[1], words[3]) for words in portal_lines] == [
        ("http://localhost:9000/", "http://localhost:9000/admin/"),
        ("http://127.0.0.1:8001/", "http://127.0.0.1:8001/admin/"),
        ("http://[::1]:8002/", "http://[::1]:8002/admin/"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/admin/"),  # no address given: SITE_URL
    ]
