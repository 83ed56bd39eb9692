import uuid
import zoneinfo
from datetime import datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from activities import demo_courses, vocabulary
from activities.listing import parse_listing
from activities.models import Activity, CreditDesignation, Membership, Provider, SessionCredit
from activities.services import import_listing
from activities.sessions import Schedule, schedule_sessions
from activities.vocabulary import Profession
from assessments.models import Assessment, AssessmentVersion, Attempt, Choice, Question
from assessments.services.attempts import field_name, submit_attempt
from assessments.services.requirements import progress
from assessments.services.versions import current_version
from attendance import codes
from attendance.services import checkin as checkin_service
from learners.models import Certificate, Enrollment, LearnerProfile
from learners.services import certificates, claim_credit, claim_options, create_profile, enroll
from portal.models import User
from portal.scoping import ACCREDITATION_STAFF_GROUP

DEMO_PROVIDER = "StatPearls, LLC"
GRAND_ROUNDS_SLUG = "medicine-grand-rounds-demo"
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
        # The demo learner's own certificate email goes to the test mailbox, not the terminal: the console
        # backend would print its PDF before the sign-in details. Learners' claims afterwards print as usual.
        quiet = override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
        with quiet, transaction.atomic():
            provider = Provider.objects.filter(name__iexact=DEMO_PROVIDER).first()
            if provider is None:
                provider = Provider.objects.create(name=DEMO_PROVIDER, slug="statpearls-llc")
            if not provider.joint_accreditation:
                # Jointly accredited and authorized by AAPA, as the seed's IPCE credit implies: its
                # certificates carry the Joint Accreditation statement, in its standard wording.
                provider.joint_accreditation = provider.aapa_authorized = True
                provider.website = provider.website or "https://www.statpearls.com/"
                provider.save(update_fields=["joint_accreditation", "aapa_authorized", "website", "modified"])
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
            courses = [demo_course(course, provider=provider) for course in demo_courses.DEMO_COURSES]
            done, partway, _fresh = courses
            now = timezone.now()
            completed_history(learner, done, at=now - timedelta(days=21))
            partway_history(learner, partway, at=now - timedelta(days=3))
            rounds = grand_rounds(provider, staff=staff, learner=learner, now=now)
        site = served_url(host=options["host"], port=options["port"])
        self.stdout.write(self.style.SUCCESS("Demo accounts are ready."))
        self.stdout.write(f"  Portal: {site}/    Admin: {site}/admin/")
        for email, password, _, _, what in ACCOUNTS:
            self.stdout.write(f"  {what:<40} {email}  password: {password}")
        self.stdout.write("  The learner's courses (each with a pre-test, a post-test and an evaluation):")
        for activity in courses:
            self.stdout.write(f"    {activity.title}: {where_learner_stands(learner, activity)}")
            self.stdout.write(f"      {site}/activities/{activity.slug}/")
        self.stdout.write(f"  A weekly series with check-in: {rounds.title}")
        self.stdout.write(f"      {site}/activities/{rounds.slug}/")
        upcoming = rounds.sessions.filter(end__gte=timezone.now()).order_by("start").first()
        if upcoming is not None:
            self.stdout.write(
                f"    Next session: {timezone.localtime(upcoming.start, upcoming.zone):%a %b %d, %H:%M %Z}"
            )
            self.stdout.write(
                f"      check-in screen (as staff): {site}{reverse('attendance:screen', args=[upcoming.pk])}"
            )
            attendance = reverse("admin:attendance_session_attendance", args=[upcoming.pk])
            self.stdout.write(f"      attendance and fixes (as staff): {site}{attendance}")


def grand_rounds(provider: Provider, *, staff: User, learner: User, now: datetime) -> Activity:
    """A regularly scheduled series of the demo provider: Tuesdays 7:00–8:00 in Chicago, from six weeks ago
    for three months, an hour of AMA credit each. The demo learner checked in to the last three sessions
    that have taken place and claimed the first two of them. Made once; a repeat does nothing."""
    activity = Activity.objects.filter(slug=GRAND_ROUNDS_SLUG).first()
    if activity is not None:
        return activity
    zone = zoneinfo.ZoneInfo("America/Chicago")
    today = timezone.localdate(now, zone)
    first = today - timedelta(days=42 + today.weekday() - 1)  # the Tuesday six weeks back
    last = first + timedelta(weeks=12)
    schedule = Schedule(
        weekday=1, start_time=time(7), end_time=time(8), first=first, last=last, time_zone="America/Chicago",
        venue="Main hospital, Auditorium B", city="Chicago", state="IL", country="United States",
    )  # fmt: skip
    activity = Activity.objects.create(
        provider=provider,
        title="Medicine grand rounds",
        slug=GRAND_ROUNDS_SLUG,
        summary="Weekly case-based grand rounds for the department of medicine and the whole care team.",
        activity_link="https://www.statpearls.example.com/demo/grand-rounds",
        activity_type="rss",
        format="in_person",
        start=datetime.combine(first, time(7), tzinfo=zone),
        end=datetime.combine(last, time(8), tzinfo=zone),
        location="Main hospital, Auditorium B, Chicago, IL",
        status=Activity.Status.PUBLISHED,
    )
    sessions = schedule_sessions(activity=activity, schedule=schedule, actor=staff)
    CreditDesignation.objects.create(
        activity=activity, credit_type_id=vocabulary.AMA_PRA_1, max_amount=Decimal(len(sessions))
    )
    SessionCredit.objects.bulk_create(
        SessionCredit(session=s, credit_type_id=vocabulary.AMA_PRA_1, hours=Decimal(1)) for s in sessions
    )
    past = [s for s in sessions if s.end < now][-3:]
    for session in past:
        checkin = checkin_service.checkin_for(session)
        at = session.start + timedelta(minutes=4)
        checkin_service.check_in(
            learner=learner, checkin=checkin, code=codes.current_code(checkin.secret, at), at=at
        )
    if len(past) >= 2:
        enrollment = Enrollment.objects.get(learner=learner, activity=activity)
        at = past[1].end + timedelta(hours=2)
        claim_credit(
            enrollment=enrollment,
            amounts={vocabulary.AMA_PRA_1: Decimal(1)},
            attested=True,
            at=past[0].end + timedelta(hours=2),
            sessions=[past[0].pk],
        )
        claim_credit(
            enrollment=enrollment, amounts={vocabulary.AMA_PRA_1: Decimal(1)}, attested=True, at=at,
            sessions=[past[1].pk],
        )  # fmt: skip
        certificates.issue_certificate(enrollment=enrollment)
    return activity


def where_learner_stands(learner: User, activity: Activity) -> str:
    """The learner's place in ``activity``, as /me/ shows it: completed (with the certificate's code), partway
    (the post-test's attempts), or not started."""
    enrollment = Enrollment.objects.filter(learner=learner, activity=activity).first()
    if enrollment is None:
        return "not started"
    if enrollment.status == Enrollment.Status.COMPLETED:
        certificate = Certificate.objects.filter(enrollment=enrollment).first()
        code = f", certificate {certificate.code}" if certificate else ""
        return f"completed{code}"
    post_test = progress(enrollment).of(Assessment.Kind.POST_TEST)
    if post_test is None or not post_test.used:
        return "enrolled"
    if post_test.is_met:
        return "enrolled, post-test passed"
    left = "unlimited attempts" if post_test.left is None else f"{post_test.left} attempts left"
    return f"enrolled, post-test not passed yet ({post_test.used} tried, {left})"


def demo_course(course: demo_courses.DemoCourse, *, provider: Provider) -> Activity:
    """The demo course as an activity of ``provider``, imported from its listing (whose Completion Requirements
    add the post-test, with no questions, and the starter evaluation), then given its questions and a pre-test
    asking the same ones. A repeat changes nothing: the activity keeps its dates, and questions are written
    only into a test that has none."""
    link = demo_courses.DEMO_LINK + course.key
    existing = Activity.objects.filter(activity_link=link).first()
    release = (
        existing.start
        if existing
        else (timezone.now() - timedelta(days=90)).replace(hour=5, minute=0, second=0, microsecond=0)
    )
    text = demo_courses.course_listing(course, provider=provider.name, release=release)
    activity = import_listing(listing=parse_listing(text), source=f"demo: {course.key}").activity
    assert activity is not None
    post_test = Assessment.objects.get(activity=activity, kind=Assessment.Kind.POST_TEST)
    pre_test, _created = Assessment.objects.get_or_create(
        activity=activity,
        kind=Assessment.Kind.PRE_TEST,
        defaults={
            "provider": provider,
            "title": "Pre-test",
            "instructions": "Answer before you start: the post-test asks the same questions, so you and the "
            "provider see what you learned. The pre-test is not scored towards credit.",
            "required_for": Assessment.RequiredFor.NOTHING,
        },
    )
    for assessment in (pre_test, post_test):
        if not assessment.questions.exists():
            write_questions(assessment, course)
    return activity


def write_questions(assessment: Assessment, course: demo_courses.DemoCourse) -> None:
    """The course's questions and choices in ``assessment``, as staff write them in the admin. Keys are derived
    from the course and position, so the pre-test and the post-test ask the same questions."""
    for position, item in enumerate(course.questions, start=1):
        question = Question.objects.create(
            assessment=assessment,
            key=uuid.uuid5(uuid.NAMESPACE_URL, f"{demo_courses.DEMO_LINK}{course.key}#{position}"),
            position=position,
            kind=item.kind,
            text=item.text,
            explanation=item.explanation,
        )
        Choice.objects.bulk_create(
            Choice(question=question, position=n, text=text, is_correct=correct)
            for n, (text, correct) in enumerate(item.choices, start=1)
        )


def completed_history(learner: User, activity: Activity, *, at: datetime) -> None:
    """``learner`` took ``activity`` three weeks before: pre-test, post-test passed at the first attempt,
    evaluation, claim of everything a physician may claim, certificate. Made once; a repeat does nothing."""
    enrollment, created = enroll(learner=learner, activity=activity, at=at)
    if not created:
        return
    take(enrollment, Assessment.Kind.PRE_TEST, right=2, at=at + timedelta(minutes=5))
    take(enrollment, Assessment.Kind.POST_TEST, right=5, at=at + timedelta(minutes=50))
    take(enrollment, Assessment.Kind.EVALUATION, right=0, at=at + timedelta(minutes=55))
    profile = LearnerProfile.objects.get(user=learner)
    options = claim_options(enrollment=enrollment, profile=profile)
    amounts: dict[str, Decimal | None] = {
        o.designation.credit_type_id: o.designation.max_amount for o in options.claimable
    }
    claim_credit(enrollment=enrollment, amounts=amounts, attested=True, at=at + timedelta(minutes=57))
    # Issued here rather than left to the task the claim queues after commit, so the certificate is there
    # however tasks run; the task then finds it issued and sends its email.
    certificates.issue_certificate(enrollment=enrollment)


def partway_history(learner: User, activity: Activity, *, at: datetime) -> None:
    """``learner`` enrolled in ``activity`` a few days before, took the pre-test and failed the post-test once
    (2 of 5 right). Made once; a repeat does nothing."""
    enrollment, created = enroll(learner=learner, activity=activity, at=at)
    if not created:
        return
    take(enrollment, Assessment.Kind.PRE_TEST, right=1, at=at + timedelta(minutes=5))
    take(enrollment, Assessment.Kind.POST_TEST, right=2, at=at + timedelta(minutes=40))


# The demo learner's words in the evaluation's free-text items, by what the item asks about.
FREE_TEXT = {  # the first word the item's text contains chooses the answer
    "barrier": "Short appointments, and patients who fear bleeding more than stroke.",
    "change": "Recalculate stroke and bleeding risk at every visit, and reduce apixaban only when two of the "
    "three dose criteria are met.",
}


def take(enrollment: Enrollment, kind: str, *, right: int, at: datetime) -> Attempt:
    """An attempt at the activity's ``kind`` of assessment through the attempt service: the first ``right``
    scored questions answered correctly and the others wrongly; Likert items agreed with (4); free-text items
    answered where the demo learner has something to say."""
    assessment = Assessment.objects.get(activity_id=enrollment.activity_id, kind=kind)
    version = current_version(assessment)
    return submit_attempt(
        enrollment=enrollment,
        assessment=assessment,
        version=version,
        responses=responses(version, right=right),
        at=at,
    )


def responses(version: AssessmentVersion, *, right: int) -> dict[str, list[str]]:
    answered: dict[str, list[str]] = {}
    scored = 0
    for question in version.content["questions"]:
        if question["kind"] == "likert":
            answered[field_name(question)] = ["4"]
        elif question["kind"] == "free_text":
            said = [text for word, text in FREE_TEXT.items() if word in question["text"].lower()]
            answered[field_name(question)] = said[:1]
        else:
            good = scored < right
            scored += 1
            picks = [str(c["id"]) for c in question["choices"] if c["correct"] == good]
            answered[field_name(question)] = picks[:1]
    return answered


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
