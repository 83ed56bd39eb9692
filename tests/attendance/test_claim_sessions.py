"""Credit per session attended: caps by the sessions' hours, a series claimed session by session, claim
windows (90 days, the March 31 cut, a staff extension), staff claiming on a learner's behalf, and staff
corrections feeding the certificate and the ledger."""

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine

from activities.models import Activity, Provider, SessionCredit
from attendance.models import ClaimWindowExtension
from attendance.services import credit
from learners import services
from learners.models import ClaimedSession, CreditClaim, ReportingEntry
from learners.services import corrections
from learners.services.reporting import exports
from portal.models import AuditEntry
from tests.factories import ActivityFactory, UserFactory
from tests.helpers import attend, issue

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def weekly(first: dt.datetime, count: int, hours: int = 1) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(first + dt.timedelta(weeks=n), first + dt.timedelta(weeks=n, hours=hours)) for n in range(count)]


@pytest.fixture
def series(provider_a):
    """Grand rounds: three Tuesdays from 3 March 2026, 1 AMA credit and ABIM MOC each, 3 designated."""
    sessions = weekly(utc(2026, 3, 3, 13), 3)
    activity = ActivityFactory(
        provider=provider_a,
        title="Medicine grand rounds",
        activity_type="rss",
        format="in_person",
        start=sessions[0][0],
        end=sessions[-1][1],
        credits={"ama_pra_1": "3.00"},
        moc=[("ABIM", "medical_knowledge", "1.00")],
        sessions=sessions,
    )
    for session in activity.sessions.all():
        SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours=D("1.00"))
    return activity


def sessions_of(activity):
    return list(activity.sessions.order_by("start"))


def claim(enrollment, at, amount, **kwargs):
    with time_machine.travel(at, tick=False):
        return services.claim_credit(
            enrollment=enrollment, amounts={"ama_pra_1": D(amount)}, attested=True, at=at, **kwargs
        )


def test_a_series_is_claimed_session_by_session_as_each_ends(
    series, physician, django_capture_on_commit_callbacks
):
    first, second, third = sessions_of(series)
    enrollment = attend(physician, first).enrollment
    attend(physician, second)

    with pytest.raises(services.ClaimError) as too_much:
        claim(enrollment, first.end, "1.25")
    made = claim(enrollment, first.end + dt.timedelta(minutes=5), "1.00")
    enrollment.refresh_from_db()
    certificate = issue(enrollment, django_capture_on_commit_callbacks)

    assert (
        "At most 1.00 credits can be claimed for the sessions claimed."
        in too_much.value.errors["credit_ama_pra_1"]
    )
    assert list(ClaimedSession.objects.filter(claim=made).values_list("session_id", flat=True)) == [first.pk]
    assert enrollment.completed_at == first.end
    assert [s["date"] for s in certificate.versions.get().snapshot["sessions"]] == ["2026-03-03"]

    # The second session has ended: the same claim gains it, and its certificate a second version.
    with django_capture_on_commit_callbacks(execute=True):
        claim(enrollment, second.end, "1.00", moc_boards=["ABIM"])
    made.refresh_from_db()
    enrollment.refresh_from_db()

    assert made.credits.get().amount == D("2.00")
    assert made.revision == 2
    assert sorted(ClaimedSession.objects.filter(claim=made).values_list("session_id", flat=True)) == [
        first.pk,
        second.pk,
    ]
    assert enrollment.completed_at == second.end  # the last session claimed
    latest = certificate.versions.order_by("-number").first()
    assert latest.number == 2
    assert [s["date"] for s in latest.snapshot["sessions"]] == ["2026-03-03", "2026-03-10"]
    assert latest.snapshot["credits"][0]["amount"] == "2.00"
    assert AuditEntry.objects.filter(action="claim.sessions_added").count() == 1

    # The third was not attended: nothing more to claim, and the learner is told so.
    with pytest.raises(services.ClaimError) as nothing:
        claim(enrollment, third.end + dt.timedelta(hours=1), "1.00")
    assert "You have claimed credit for every session you attended." in nothing.value.errors["__all__"]
    assert CreditClaim.objects.get(pk=made.pk).credits.get().amount == D("2.00")


def test_attending_every_session_caps_the_claim_at_the_designation(provider_a, physician):
    sessions = weekly(utc(2026, 3, 3, 13), 4, hours=2)
    activity = ActivityFactory(
        provider=provider_a,
        activity_type="rss",
        start=sessions[0][0],
        end=sessions[-1][1],
        credits={"ama_pra_1": "6.00"},
        sessions=sessions,
    )
    for session in activity.sessions.all():
        SessionCredit.objects.create(session=session, credit_type_id="ama_pra_1", hours=D("2.00"))
    for session in sessions_of(activity):
        enrollment = attend(physician, session).enrollment
    standings = credit.standings(enrollment, at=sessions[-1][1])

    assert standings.cap(standings.claimable) == {"ama_pra_1": D("6.00")}  # 8 hours attended, 6 designated


def test_sessions_without_hours_share_the_designation_in_its_steps(provider_a, physician):
    sessions = weekly(utc(2026, 3, 3, 13), 3)
    activity = ActivityFactory(
        provider=provider_a,
        activity_type="rss",
        start=sessions[0][0],
        end=sessions[-1][1],
        credits={"ama_pra_1": "2.00"},
        sessions=sessions,
    )
    enrollment = attend(physician, sessions_of(activity)[0]).enrollment
    standings = credit.standings(enrollment, at=sessions[-1][1])

    assert [s.hours["ama_pra_1"] for s in standings.sessions] == [D("0.50")] * 3  # 2/3 down to 0.25 steps
    assert standings.cap(standings.claimable) == {"ama_pra_1": D("0.50")}


def test_nothing_is_claimable_before_checking_in_or_before_the_session_ends(series, physician):
    first = sessions_of(series)[0]
    enrollment, _ = services.enroll(learner=physician, activity=series, at=first.start)

    with pytest.raises(services.ClaimError) as absent:
        claim(enrollment, first.end, "1.00")
    attend(physician, first)
    with pytest.raises(services.ClaimError) as early:
        claim(enrollment, first.end - dt.timedelta(minutes=1), "1.00")

    assert "No attendance is recorded for you" in absent.value.errors["__all__"]
    assert "Provider A" in absent.value.errors["__all__"]  # whom to ask
    assert "when the session ends" in early.value.errors["__all__"]
    assert not CreditClaim.objects.exists()


@pytest.mark.parametrize(
    ("last_day", "claim_days", "deadline"),
    [
        (utc(2026, 3, 3, 14), 90, dt.date(2026, 6, 1)),
        (utc(2026, 12, 15, 14), 180, dt.date(2027, 3, 31)),  # PARS's March 31 cut comes first
        (utc(2026, 12, 15, 14), 90, dt.date(2027, 3, 15)),
    ],
)
def test_the_claim_deadline_is_the_activitys_days_and_never_after_march_31(
    provider_a, physician, last_day, claim_days, deadline
):
    activity = ActivityFactory(
        provider=provider_a,
        activity_type="course",
        start=last_day - dt.timedelta(hours=1),
        end=last_day,
        claim_days=claim_days,
    )
    session = activity.sessions.get()
    enrollment = attend(physician, session).enrollment
    last_moment = dt.datetime.combine(deadline, dt.time(23, 59), tzinfo=UTC)

    with pytest.raises(services.ClaimError) as late:
        claim(enrollment, last_moment + dt.timedelta(minutes=1), "1.50")
    made = claim(enrollment, last_moment, "1.50")

    assert credit.claim_deadline(session, activity) == deadline
    assert "ended on" in late.value.errors["__all__"]
    assert made.credits.get().amount == D("1.50")


def test_staff_extend_the_window_for_one_learner(provider_a, physician, staff_a):
    activity = ActivityFactory(
        provider=provider_a, activity_type="course", start=utc(2026, 3, 3, 13), end=utc(2026, 3, 3, 14)
    )
    enrollment = attend(physician, activity.sessions.get()).enrollment
    ClaimWindowExtension.objects.create(
        enrollment=enrollment, until=dt.date(2026, 9, 30), granted_by=staff_a, reason="Away on leave"
    )

    made = claim(enrollment, utc(2026, 9, 30, 12), "1.50")
    assert made.credits.get().amount == D("1.50")


def test_staff_record_a_claim_after_the_window_with_a_reason(provider_a, physician, staff_a):
    activity = ActivityFactory(
        provider=provider_a, activity_type="course", start=utc(2026, 3, 3, 13), end=utc(2026, 3, 3, 14)
    )
    enrollment = attend(physician, activity.sessions.get()).enrollment
    late = utc(2026, 11, 1, 12)

    with pytest.raises(services.ClaimError) as no_reason:
        claim(enrollment, late, "1.50", recorded_by=staff_a)
    made = claim(enrollment, late, "1.50", recorded_by=staff_a, reason="Paper form handed in at the session")

    assert "reason" in no_reason.value.errors
    assert made.recorded_by == staff_a
    entry = AuditEntry.objects.get(action="claim.recorded")
    assert entry.actor == staff_a
    assert entry.data["reason"] == "Paper form handed in at the session"


@pytest.fixture
def reported(series, physician, staff_a):
    """Ada claimed the first two sessions (2 credits, ABIM); her ABIM row went out in a file."""
    first, second, _third = sessions_of(series)
    enrollment = attend(physician, first).enrollment
    attend(physician, second)
    made = claim(enrollment, second.end, "2.00", moc_boards=["ABIM"])
    Provider.objects.update(accme_provider_id="0000421")  # the registry IDs a PARS file quotes
    Activity.objects.update(accreditor_activity_id="250000001")
    exports.export_entries(
        entries=ReportingEntry.objects.all(), destination="accreditor", by=staff_a, description="March"
    )
    return made


def test_a_correction_deletes_and_adds_exported_rows_and_reissues_the_certificate(
    reported, staff_a, django_capture_on_commit_callbacks
):
    enrollment = reported.enrollment
    certificate = issue(enrollment, django_capture_on_commit_callbacks)
    (sent,) = ReportingEntry.objects.filter(claim=reported)
    assert (sent.state, sent.amount) == ("exported", D("1.00"))  # ABIM points follow the approval
    first = sessions_of(reported.enrollment.activity)[0]

    with django_capture_on_commit_callbacks(execute=True):
        result = corrections.correct_claim(
            claim=reported,
            amounts={"ama_pra_1": D("1.00")},
            sessions=[first.pk],
            by=staff_a,
            reason="Left early",
        )

    enrollment.refresh_from_db()
    assert (result.before, result.after) == ({"ama_pra_1": D("2.00")}, {"ama_pra_1": D("1.00")})
    assert enrollment.completed_at == first.end
    rows = list(ReportingEntry.objects.filter(claim=reported).order_by("pk"))
    assert [(r.action, r.state, r.superseded_at is not None) for r in rows] == [
        ("add", "exported", True),  # as sent, kept
        ("delete", "ready", False),  # takes it back
        ("add", "ready", False),  # the corrected completion
    ]
    assert rows[1].reverses == rows[0]
    assert rows[2].completed_on == first.end.date()
    assert result.ledger.as_dict() == {"replaced": 0, "deleted": 1, "added": 1}
    version = certificate.versions.order_by("-number").first()
    assert version.number == 2
    assert version.reason == "Left early"
    assert version.snapshot["credits"][0]["amount"] == "1.00"
    assert [s["date"] for s in version.snapshot["sessions"]] == ["2026-03-03"]
    audit = AuditEntry.objects.get(action="claim.corrected")
    assert audit.actor == staff_a
    assert audit.data["before"] == {"ama_pra_1": "2.00"}


def test_a_correction_replaces_rows_not_yet_exported(series, physician, staff_a):
    first, second, _ = sessions_of(series)
    enrollment = attend(physician, first).enrollment
    attend(physician, second)
    made = claim(enrollment, second.end, "2.00", moc_boards=["ABIM"])
    (row,) = ReportingEntry.objects.filter(claim=made)

    corrections.correct_claim(
        claim=made, amounts={"ama_pra_1": D("1.00")}, sessions=[first.pk], by=staff_a, reason="Left early"
    )

    (again,) = ReportingEntry.objects.filter(claim=made)
    assert again.pk == row.pk
    assert (again.action, again.state, again.completed_on) == ("add", row.state, first.end.date())


@pytest.mark.parametrize(
    ("amounts", "sessions", "reason", "field", "message"),
    [
        ({"ama_pra_1": "3.00"}, None, "Typo", "credit_ama_pra_1", "for the sessions claimed"),
        ({"ama_pra_1": "1.10"}, None, "Typo", "credit_ama_pra_1", "steps of 0.25"),
        ({"nursing": "1.00"}, None, "Typo", "credit_nursing", "designates no credit of this type"),
        ({"ama_pra_1": "2.00"}, None, "Typo", "__all__", "nothing to correct"),
        ({"ama_pra_1": "1.00"}, "third", "Typo", "sessions", "no attendance is recorded"),
        ({"ama_pra_1": "1.00"}, None, "  ", "reason", "Say why"),
    ],
)
def test_a_correction_refused_names_the_field_and_changes_nothing(
    reported, staff_a, amounts, sessions, reason, field, message
):
    third = sessions_of(reported.enrollment.activity)[2]
    before = list(ReportingEntry.objects.values_list("pk", "state", "amount"))

    with pytest.raises(services.ClaimError) as refused:
        corrections.correct_claim(
            claim=reported,
            amounts={code: D(a) for code, a in amounts.items()},
            sessions=[third.pk] if sessions == "third" else None,
            by=staff_a,
            reason=reason,
        )

    assert message in refused.value.errors[field]
    reported.refresh_from_db()
    assert reported.revision == 1
    assert reported.credits.get().amount == D("2.00")
    assert list(ReportingEntry.objects.values_list("pk", "state", "amount")) == before
    assert not AuditEntry.objects.filter(action="claim.corrected").exists()


def test_a_walk_in_checked_in_by_code_is_enrolled_and_can_claim(series):
    from tests.helpers import make_learner

    walk_in = make_learner(UserFactory(), first_name="Walk", last_name="In")
    first = sessions_of(series)[0]
    result_enrollment = attend(walk_in, first, at=first.start + dt.timedelta(minutes=10)).enrollment

    made = claim(result_enrollment, first.end, "1.00")
    assert made.enrollment.learner == walk_in
