"""What a certificate states, frozen when each version is issued: the certified name (the legal name and
degree), the activity, its provider and accreditation, the credit and MOC claimed. The PDF, the email and the
verification page read only the snapshot, so a certificate says what it said when it was issued until it is
reissued; ``name_changed_since_issue`` and ``certified_name_of`` tell staff when the learner's name moved on.
"""

from datetime import date, datetime

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone

from activities import statements, vocabulary
from activities.models import CreditDesignation, Provider, Session
from activities.text import activity_dates_text
from learners.models import (
    Certificate,
    CertificateVersion,
    ClaimedCredit,
    ClaimedMoc,
    ClaimedSession,
    Enrollment,
    LearnerProfile,
)
from learners.services.reporting import codes as reporting_codes
from portal.models import User


class SnapshotDetails:
    """The designations, claimed credit, claimed MOC and claimed sessions of several enrollments, read in
    four queries."""

    def __init__(
        self,
        designations: dict[int, dict[str, CreditDesignation]],
        credits: dict[int, list[ClaimedCredit]],
        moc: dict[int, list[ClaimedMoc]],
        sessions: dict[int, list[Session]] | None = None,
    ) -> None:
        self.designations, self.credits, self.moc = designations, credits, moc
        self.sessions = sessions or {}

    @classmethod
    def load(cls, enrollments: list[Enrollment]) -> "SnapshotDetails":
        designations: dict[int, dict[str, CreditDesignation]] = {}
        credits: dict[int, list[ClaimedCredit]] = {}
        moc: dict[int, list[ClaimedMoc]] = {}
        activity_ids = {e.activity_id for e in enrollments}
        for d in CreditDesignation.objects.filter(activity_id__in=activity_ids).select_related("credit_type"):
            designations.setdefault(d.activity_id, {})[d.credit_type_id] = d
        claim_ids = [e.claim.pk for e in enrollments]
        for credit in ClaimedCredit.objects.filter(claim_id__in=claim_ids).select_related("credit_type"):
            credits.setdefault(credit.claim_id, []).append(credit)
        for row in ClaimedMoc.objects.filter(claim_id__in=claim_ids):
            moc.setdefault(row.claim_id, []).append(row)
        sessions: dict[int, list[Session]] = {}
        claimed = ClaimedSession.objects.filter(claim_id__in=claim_ids).select_related("session")
        for claimed_session in claimed.order_by("session__start", "session__pk"):
            sessions.setdefault(claimed_session.claim_id, []).append(claimed_session.session)
        return cls(designations, credits, moc, sessions)


def session_text(session: Session) -> str:
    """ "Mar 3, 2026, 07:00–08:00 America/Chicago", and the track when there is one."""
    start, end = session.local_start, session.local_end
    text = f"{start:%b} {start.day}, {start.year}, {start:%H:%M}–{end:%H:%M} {session.time_zone}"
    return f"{text} ({session.track})" if session.track else text


def certificate_name(learner: User, profile: LearnerProfile | None) -> str:
    """The learner's name as a certificate prints it: the legal name (or the email), and the degree."""
    name = learner.get_full_name().strip() or learner.email
    if profile and profile.degree and profile.degree != LearnerProfile.Degree.OTHER:
        name = f"{name}, {profile.degree}"
    return name


def name_changed_since_issue(*, certified_name: str | None, learner: User) -> bool:
    """Whether ``learner``'s name (or degree) now differs from what their certificate was issued to; the
    certificate and the registry rows keep the certified name until it is reissued."""
    return certified_name is not None and certified_name != certificate_name(learner, _profile_of(learner))


def _profile_of(learner: User) -> LearnerProfile | None:
    try:
        return learner.profile  # usually already loaded with the enrollment
    except LearnerProfile.DoesNotExist:
        return None


def certified_name_of(certificate: str = "pk") -> Subquery:
    """An expression for the learner's name on the latest issue of the certificate at ``certificate`` (a
    path from the queried model to a certificate), for annotating admin lists."""
    latest = (
        CertificateVersion.objects.filter(certificate=OuterRef(certificate))
        .order_by("-number")
        .annotate(name=KT("snapshot__learner_name"))
        .values("name")[:1]
    )
    return Subquery(latest)


def certificate_snapshot(
    *,
    enrollment: Enrollment,
    certificate: Certificate,
    issued_at: datetime,
    details: SnapshotDetails | None = None,
) -> dict:
    """Everything the certificate states, frozen at issue: the PDF and the verification page read only this."""
    activity, learner, claim = enrollment.activity, enrollment.learner, enrollment.claim
    provider = activity.provider
    profile = _profile_of(learner)
    details = details or SnapshotDetails.load([enrollment])
    designations = details.designations.get(activity.pk, {})
    claimed = sorted(details.credits.get(claim.pk, []), key=lambda c: c.credit_type.position)
    codes = [credit.credit_type_id for credit in claimed]
    kind = vocabulary.certificate_kind(codes)

    def statement(designation: CreditDesignation) -> str:
        designation.activity = activity  # the statement names the provider and the format
        return designation.statement()

    credits = []
    for credit in claimed:
        designation = designations.get(credit.credit_type_id)
        line = {
            "type": credit.credit_type.label,
            "code": credit.credit_type_id,
            "amount": f"{credit.amount:.2f}",
            "unit": credit.credit_type.unit,
            "statement": statement(designation) if designation else "",
            "activity_number": designation.activity_number if designation else "",
        }
        if credit.credit_type_id == "pharmacy":
            if designation is not None:
                # The UAN of the learner's audience: a pharmacy technician's ends in T.
                line["activity_number"] = reporting_codes.uan_for(designation, claim.profession) or (
                    designation.activity_number
                )
                line["acpe_activity_type"] = designation.get_acpe_activity_type_display()
            line["ceus"] = f"{statements.ceus(credit.amount)}"
        credits.append(line)
    ama = designations.get(vocabulary.AMA_PRA_1)
    participation = kind == vocabulary.CERTIFICATE_OF_PARTICIPATION
    # A participation certificate states the AMA designation, so it carries the accreditation behind it.
    wanted = codes or ([vocabulary.AMA_PRA_1] if ama else list(designations))
    accreditation = statements.accreditation_statements(activity, codes=wanted)
    moc_rows = sorted(details.moc.get(claim.pk, []), key=lambda m: (m.board, m.credit_type))
    sessions = details.sessions.get(claim.pk, [])
    return {
        "kind": kind,
        "title": vocabulary.CERTIFICATE_TITLES[kind],
        "learner_name": certificate_name(learner, profile),
        # As certified, for the registry files (which name the learner in two fields).
        "learner_first_name": learner.first_name,
        "learner_last_name": learner.last_name,
        "profession": claim.get_profession_display(),
        "provider": provider.name,
        # ANCC: a nursing certificate names the provider and its address (a web address will do).
        "provider_address": _address(provider) if "nursing" in codes else "",
        "ja_statement": accreditation.ja,
        "accreditation_statements": accreditation.others,
        "activity_title": activity.title,
        "activity_type": activity.get_activity_type_display(),
        "format": activity.get_format_display(),
        "location": activity.location if activity.is_live else "",
        "activity_dates": activity_dates_text(activity),
        "start": activity.start.isoformat(),
        "end": activity.end.isoformat(),
        "reviewed_on": activity.reviewed_on.isoformat()
        if activity.is_enduring and activity.reviewed_on
        else "",
        "completed_on": _completed_on(enrollment, sessions).isoformat(),
        "claimed_on": timezone.localdate(claim.claimed_at).isoformat(),
        "issued_on": timezone.localdate(issued_at).isoformat(),
        "credits": credits,
        "ama_designation": statement(ama) if (participation and ama) else "",
        "cpe_monitor_note": statements.CPE_MONITOR_NOTE if "pharmacy" in codes else "",
        "moc": [
            {
                "board": vocabulary.board_abbreviation(moc.board),
                "credit_type": vocabulary.moc_credit_type_label(moc.credit_type),
                "points": f"{moc.points:.2f}",
            }
            for moc in moc_rows
        ],
        "moc_statements": statements.moc_statements((m.board, m.credit_type, m.points) for m in moc_rows),
        # A live activity's sessions the claim covers, as the learner attended them.
        "sessions": [
            {
                "date": session.date.isoformat(),
                "text": session_text(session),
                "place": session.place,
            }
            for session in sessions
        ],
        "code": certificate.code,
        "verification_url": settings.SITE_URL + certificate.get_absolute_url(),
    }


def _address(provider: Provider) -> str:
    return " · ".join(part for part in (" ".join(provider.address.split()), provider.website) if part)


def _completed_on(enrollment: Enrollment, sessions: list[Session]) -> date:
    """The day the learner completed: the enrollment's completion (the end of the last session claimed, or
    the last requirement met), on the calendar of the session's own time zone when a session ended it."""
    completed_at = enrollment.completed_at
    assert completed_at is not None  # a completed enrollment's, which is all that gets a certificate
    last = max(sessions, key=lambda session: session.end, default=None)
    if last is not None and last.end >= completed_at:
        return last.local_end.date()
    return timezone.localdate(completed_at)
