"""The learner's own pages: dashboard, enrolling, claiming, profile, transcript and certificates."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from activities.models import Activity
from assessments.selectors.steps import steps_for
from assessments.services import requirements
from attendance.services import credit
from learners import services
from learners.forms import BoardIdFormSet, ClaimForm, LicenseFormSet, ProfileForm, TranscriptForm
from learners.models import Certificate, Enrollment, LearnerProfile
from learners.pdf.certificate import render_certificate
from learners.pdf.transcript import transcript_pdf
from learners.selectors import learner as selectors
from learners.services import certificates
from portal import audit
from portal.lib.csv import write_rows
from portal.lib.field_errors import add_to_form
from portal.lib.http import attachment, csv_attachment, private

TRANSCRIPT_COLUMNS = ["claimed_on", "activity", "provider", "activity_type", "credit_type", "amount"]


@login_required
def dashboard(request):
    enrollments = list(selectors.enrollments_for(user=request.user))
    selectors.attach_delivery(enrollments)
    progress = requirements.progress_for_many(enrollments)
    attempted = {e.pk for e in enrollments if any(s.attempts for s in progress[e.pk].standings)}
    response = render(
        request,
        "learners/dashboard.html",
        {
            "in_progress": [
                {
                    "enrollment": e,
                    "steps": steps_for(enrollment=e, progress=progress[e.pk], certificate=e.certificate_obj),
                }
                for e in enrollments
                if e.status == Enrollment.Status.ENROLLED
            ],
            "attempted": attempted,
            "completed": [e for e in enrollments if e.status == Enrollment.Status.COMPLETED],
            "profile": LearnerProfile.objects.filter(user=request.user).first(),
        },
    )
    return private(response)


@require_http_methods(["GET", "POST"])
@login_required
def enroll(request, slug):
    activity = get_object_or_404(Activity.objects.published(), slug=slug)
    if request.method == "GET":  # e.g. back from signing in: the Enroll button is on the activity page
        return redirect(activity)
    try:
        enrollment, created = services.enroll(learner=request.user, activity=activity)
    except services.EnrollmentError as exc:
        messages.error(request, str(exc))
        return redirect(activity)
    if created:
        messages.success(
            request, _("You are enrolled. Claim your credit here when you have completed the activity.")
        )
    return redirect("learners:claim", public_id=enrollment.public_id)


@login_required
def claim(request, public_id):
    try:
        enrollment = selectors.enrollment_for(user=request.user, public_id=public_id)
    except Enrollment.DoesNotExist:
        raise Http404 from None
    profile = LearnerProfile.objects.filter(user=request.user).first()
    progress = requirements.progress(enrollment)
    options = services.claim_options(enrollment=enrollment, profile=profile, progress=progress)
    # Bound on every POST: a participation-only claim may arrive with no fields at all.
    form = ClaimForm(request.POST if request.method == "POST" else None, options=options)
    already = getattr(enrollment, "claim", None)
    more = options.standings is not None and bool(options.chosen)  # a series' sessions since the claim
    if request.method == "POST" and (already is None or more) and form.is_valid():
        try:
            services.claim_credit(
                enrollment=enrollment,
                amounts=form.amounts(),
                attested=form.cleaned_data["attested"],
                moc_boards=form.moc_boards(),
                sessions=form.sessions(),
            )
        except services.ClaimError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Your credit is recorded. Your certificate will follow by email."))
            return redirect("learners:dashboard")
    status = 400 if request.method == "POST" else 200
    steps = steps_for(
        enrollment=enrollment,
        progress=progress,
        certificate=Certificate.objects.filter(enrollment=enrollment).first(),
    )
    for step in steps:
        if step.key == "claim":
            step.url = ""  # the form is on this page
    context = {
        "enrollment": enrollment,
        "activity": enrollment.activity,
        "options": options,
        "form": form,
        "profile": profile,
        "claim": already,
        "refusal": _claim_refusal(enrollment, options),
        "more": more,
        "unmet": [] if already else progress.unmet_for_credit(),
        "steps": steps,
    }
    return private(render(request, "learners/claim.html", context, status=status))


def _claim_refusal(enrollment: Enrollment, options) -> str:
    """Why the learner cannot claim now, naming whom to ask ("" when they can)."""
    activity = enrollment.activity
    if options.standings is not None:
        return "" if options.chosen else options.standings.refusal(contact=credit.contact_for(activity))
    now = timezone.now()
    if activity.is_open_for_claims(at=now):
        return ""
    if activity.status != activity.Status.PUBLISHED:
        return _("This activity is not open for credit.")
    if now < activity.start:
        return _("Credit can be claimed from %(start)s.") % {"start": formats.date_format(activity.start)}
    return (
        _("The time to claim credit for this activity ended on %(end)s.")
        % {"end": formats.date_format(activity.end)}
        + " "
        + _("If you need more time, ask %(contact)s.") % {"contact": credit.contact_for(activity)}
    )


@login_required
def profile(request):
    profile = LearnerProfile.objects.filter(user=request.user).first()
    user = request.user
    initial = {"first_name": user.first_name, "last_name": user.last_name}
    if profile:
        initial.update(
            profession=profile.profession,
            degree=profile.degree,
            npi=profile.npi,
            nabp_eprofile_id=profile.nabp_eprofile_id,
            birth_month=profile.birth_month,
            birth_day=profile.birth_day,
            reporting_consent=profile.has_reporting_consent,
        )
    data = request.POST if request.method == "POST" else None
    form = ProfileForm(data, initial=initial)
    licenses = LicenseFormSet(
        data,
        prefix="licenses",
        initial=[{"state": s, "number": n} for s, n in profile.licenses.values_list("state", "number")]
        if profile
        else [],
    )
    boards = BoardIdFormSet(
        data,
        prefix="boards",
        initial=[{"board": b, "board_id": i} for b, i in profile.board_ids.values_list("board", "board_id")]
        if profile
        else [],
    )
    if data is not None and form.is_valid() and licenses.is_valid() and boards.is_valid():
        cleaned = form.cleaned_data
        if profile is None:
            profile = services.create_profile(
                user=user,
                first_name=cleaned["first_name"],
                last_name=cleaned["last_name"],
                profession=cleaned["profession"],
            )
        services.update_profile(
            profile=profile,
            first_name=cleaned["first_name"],
            last_name=cleaned["last_name"],
            fields={
                name: cleaned[name]
                for name in ("profession", "degree", "npi", "nabp_eprofile_id", "birth_month", "birth_day")
            },
            consent=cleaned["reporting_consent"],
            licenses=licenses.pairs(),
            board_ids=boards.pairs(),
        )
        messages.success(request, _("Your profile is saved."))
        return redirect("learners:profile")
    context = {"form": form, "licenses": licenses, "boards": boards, "profile": profile}
    return private(render(request, "learners/profile.html", context, status=400 if data is not None else 200))


@login_required
def transcript(request, format="html"):
    form = TranscriptForm(request.GET or None)
    if request.GET and not form.is_valid():
        return private(render(request, "learners/transcript.html", {"form": form}, status=400))
    cleaned = form.cleaned_data if request.GET else {}
    result = selectors.transcript(
        user=request.user,
        start=cleaned.get("start"),
        end=cleaned.get("end"),
        credit_type=cleaned.get("credit_type"),
    )
    if format == "csv":
        rows = (
            [
                timezone.localtime(line.claimed_at).date().isoformat(),
                line.activity_title,
                line.provider,
                line.activity_type,
                line.credit_type,
                line.amount,
            ]
            for line in result.lines
        )
        return csv_attachment(write_rows(rows, header=TRANSCRIPT_COLUMNS), "transcript.csv")
    if format == "pdf":
        body = transcript_pdf(
            learner_name=request.user.get_full_name() or request.user.email,
            email=request.user.email,
            transcript=result,
        )
        return attachment(body, filename="transcript.pdf", content_type="application/pdf")
    query = request.GET.urlencode()
    context = {"form": form, "transcript": result, "query": query}
    return private(render(request, "learners/transcript.html", context))


@login_required
def certificate_pdf(request, verification_id):
    """The learner's own certificate (current version); anyone else gets a 404."""
    certificate = get_object_or_404(
        Certificate,
        verification_id=verification_id,
        enrollment__learner=request.user,
        revoked_at__isnull=True,
    )  # a revoked certificate is not handed out again; its verification page says why
    version = certificate.versions.order_by("-number").first()
    if version is None:
        raise Http404
    return attachment(
        render_certificate(version),
        filename=f"certificate-{certificate.code}.pdf",
        content_type="application/pdf",
    )


@require_POST
@login_required
def certificate_resend(request, verification_id):
    certificate = get_object_or_404(
        Certificate, verification_id=verification_id, enrollment__learner=request.user
    )
    try:
        certificates.resend_certificate(certificate=certificate, by=audit.actor_of(request))
    except certificates.CertificateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Your certificate is on its way to %(email)s.") % {"email": request.user.email}
        )
    return redirect("learners:dashboard")
