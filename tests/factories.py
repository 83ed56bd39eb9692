from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from django.utils.text import slugify

from activities.models import Activity, CreditDesignation, Membership, MocApproval, Provider, Specialty
from portal.models import User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Provider {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    accreditation_statement = factory.LazyAttribute(
        lambda o: (
            f"{o.name} is accredited by the ACCME to provide continuing medical education for physicians."
        )
    )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory, is_staff=True)
    provider = factory.SubFactory(ProviderFactory)
    role = Membership.Role.EDITOR


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialty
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Specialty {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity
        skip_postgeneration_save = True

    provider = factory.SubFactory(ProviderFactory)
    title = factory.Sequence(lambda n: f"Activity {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.title)[:100])
    summary = "A review of current practice for the healthcare team."
    activity_link = factory.Sequence(lambda n: f"https://provider.example.com/activities/{n}")
    activity_type = "internet_enduring"
    format = "online"
    start = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(days=365))
    status = Activity.Status.PUBLISHED

    @factory.post_generation
    def credits(obj, create, extracted, **kwargs):
        """``credits={"ama_pra_1": "1.5"}``; by default 1.50 AMA PRA Category 1 Credit™."""
        if not create:
            return
        for code, amount in (extracted if extracted is not None else {"ama_pra_1": "1.50"}).items():
            CreditDesignation.objects.create(activity=obj, credit_type_id=code, max_amount=Decimal(amount))

    @factory.post_generation
    def moc(obj, create, extracted, **kwargs):
        """``moc=[("ABIM", "medical_knowledge", "1.5")]``."""
        if create and extracted:
            for board, credit_type, points in extracted:
                MocApproval.objects.create(
                    activity=obj, board=board, credit_type=credit_type, points=Decimal(points)
                )

    @factory.post_generation
    def specialties(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.specialties.set(extracted)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
