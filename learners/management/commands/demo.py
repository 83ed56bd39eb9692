from urllib.parse import urlsplit, urlunsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from activities.models import Membership, Provider
from activities.vocabulary import Profession
from learners.models import LearnerProfile
from learners.services import create_profile
from portal.scoping import ACCREDITATION_STAFF_GROUP

DEMO_PROVIDER = "StatPearls, LLC"
DEMO_STATEMENT = (
    "In support of improving patient care, StatPearls, LLC is jointly accredited by the Accreditation "
    "Council for Continuing Medical Education (ACCME), the Accreditation Council for Pharmacy Education "
    "(ACPE), and the American Nurses Credentialing Center (ANCC), to provide continuing education for the "
    "healthcare team."
)
ACCOUNTS = (
    # email, password, first name, last name, what they are
    (
        "accreditor@example.com",
        "demo-accreditor-2026",
        "Avery",
        "Accreditor",
        "accreditation staff (superuser)",
    ),
    (
        "staff@statpearls.example.com",
        "demo-provider-2026",
        "Sam",
        "Staff",
        f"provider staff of {DEMO_PROVIDER}",
    ),
    ("learner@example.com", "demo-learner-2026", "Lee", "Learner", "learner"),
)


class Command(BaseCommand):
    help = "Create demo accounts for a local portal and print how to log in. Refused unless DJANGO_DEBUG=1."

    def add_arguments(self, parser):
        # `make run` passes the address it serves, so the printed links work on any HOST and PORT.
        parser.add_argument("--host", help="the host runserver listens on (default: SITE_URL's)")
        parser.add_argument("--port", type=int, help="the port runserver listens on (default: SITE_URL's)")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo accounts are for local portals only: set DJANGO_DEBUG=1.")
        user_model = get_user_model()
        with transaction.atomic():
            provider = Provider.objects.filter(name__iexact=DEMO_PROVIDER).first()
            if provider is None:
                provider = Provider.objects.create(name=DEMO_PROVIDER, slug="statpearls-llc")
            if not provider.accreditation_statement:
                provider.accreditation_statement = DEMO_STATEMENT
                provider.website = provider.website or "https://www.statpearls.com/"
                provider.save(update_fields=["accreditation_statement", "website", "modified"])
            users = {}
            for email, password, first, last, _ in ACCOUNTS:
                user, _created = user_model.objects.get_or_create(
                    email=email, defaults={"first_name": first, "last_name": last}
                )
                user.set_password(password)
                user.save()
                users[email] = user
            accreditor = users[ACCOUNTS[0][0]]
            accreditor.is_staff = accreditor.is_superuser = True
            accreditor.save(update_fields=["is_staff", "is_superuser"])
            accreditor.groups.add(Group.objects.get(name=ACCREDITATION_STAFF_GROUP))
            staff = users[ACCOUNTS[1][0]]
            staff.is_staff = True
            staff.save(update_fields=["is_staff"])
            Membership.objects.get_or_create(
                user=staff, provider=provider, defaults={"role": Membership.Role.EDITOR}
            )
            for user in users.values():  # demo addresses count as verified, so every account can sign in
                EmailAddress.objects.update_or_create(
                    user=user, email=user.email, defaults={"verified": True, "primary": True}
                )
            learner = users[ACCOUNTS[2][0]]
            if not LearnerProfile.objects.filter(user=learner).exists():
                create_profile(
                    user=learner, first_name="Lee", last_name="Learner", profession=Profession.PHYSICIAN
                )
                LearnerProfile.objects.filter(user=learner).update(degree=LearnerProfile.Degree.MD)
        site = served_url(host=options["host"], port=options["port"])
        self.stdout.write(self.style.SUCCESS("Demo accounts are ready."))
        self.stdout.write(f"  Portal: {site}/    Admin: {site}/admin/")
        for email, password, _, _, what in ACCOUNTS:
            self.stdout.write(f"  {what:<40} {email}  password: {password}")


def served_url(*, host: str | None, port: int | None) -> str:
    """The address runserver serves (plain HTTP) on ``host`` and ``port``, each defaulting to SITE_URL's; SITE_URL
    itself when neither is given."""
    if host is None and port is None:
        return settings.SITE_URL
    url = urlsplit(settings.SITE_URL)
    if host is None:
        host = url.hostname or "127.0.0.1"
    if ":" in host and not host.startswith("["):  # an IPv6 address
        host = f"[{host}]"
    port = port or url.port
    return urlunsplit(("http", f"{host}:{port}" if port else host, "", "", ""))
