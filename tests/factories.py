from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from django.utils.text import slugify

from activities.models import (
    Activity,
    CreditDesignation,
    JointProvider,
    Membership,
    MocApproval,
    Provider,
    Session,
    Specialty,
)
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
    accme_accredited = True  # ACCME's statement, as the model fills it in


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
    def sessions(obj, create, extracted, **kwargs):
        """A live activity's sessions: ``sessions=[(start, end), ...]``; by default one from its start to its
        end, as the import makes (UTC, no venue, no hours of its own). ``sessions=[]`` for none."""
        if not create or not obj.is_live:
            return
        spans = (
            extracted
            if extracted is not None
            else [(obj.start, max(obj.end, obj.start + timedelta(hours=1)))]
        )
        for start, end in spans:
            Session.objects.create(activity=obj, start=start, end=end, time_zone="UTC")

    @factory.post_generation
    def moc(obj, create, extracted, **kwargs):
        """``moc=[("ABIM", "medical_knowledge", "1.5")]``."""
        if create and extracted:
            for board, credit_type, points in extracted:
                MocApproval.objects.create(
                    activity=obj, board=board, credit_type=credit_type, points=Decimal(points)
                )

    @factory.post_generation
    def joint_providers(obj, create, extracted, **kwargs):
        """``joint_providers=["A", "B"]``; without it, a ``joint_provider`` name (as a listing gives it) is the
        one joint provider."""
        if not create:
            return
        if extracted is None:
            extracted = [obj.joint_provider] if obj.joint_provider else []
        names = list(extracted)
        for position, name in enumerate(names):
            JointProvider.objects.create(activity=obj, name=name, position=position)

    @factory.post_generation
    def specialties(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.specialties.set(extracted)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_assessment(
    activity,
    kind: str = "post_test",
    *,
    questions: int = 4,
    passing_score: int | None = 70,
    max_attempts: int | None = 2,
    required_for: str | None = None,
    moc_boards=(),
    shuffle: bool = False,
    show_feedback: bool = True,
    title: str | None = None,
):
    """An assessment of ``activity`` (``kind``: pre_test, post_test, evaluation) with ``questions``
    questions: for a pre- or post-test single-choice questions of four answers, the first correct ("Right
    answer N"); for an evaluation Likert items. Keys are shared by position, so a pre-test and a post-test
    made with this ask the same questions."""
    from assessments.models import Assessment, Choice, Question

    scored = kind != "evaluation"
    assessment = Assessment.objects.create(
        provider=activity.provider,
        activity=activity,
        kind=kind,
        title=title or str(dict(Assessment.Kind.choices)[kind]),
        passing_score=passing_score if kind == "post_test" else None,
        max_attempts=max_attempts if kind == "post_test" else None,
        required_for=required_for or ("nothing" if kind == "pre_test" else "credit"),
        moc_boards=list(moc_boards),
        shuffle_questions=shuffle,
        show_feedback=show_feedback,
    )
    for n in range(1, questions + 1):
        question = Question.objects.create(
            assessment=assessment,
            key=f"00000000-0000-4000-8000-{n:012d}",
            position=n,
            kind="single" if scored else "likert",
            text=f"Question {n}?" if scored else f"Statement {n}.",
            explanation=f"Because of reason {n}." if scored else "",
        )
        if scored:
            for position, text in enumerate([f"Right answer {n}", "Wrong A", "Wrong B", "Wrong C"], start=1):
                Choice.objects.create(
                    question=question, position=position, text=text, is_correct=position == 1
                )
    return assessment
