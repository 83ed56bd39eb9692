from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from activities import acpe, rules, vocabulary
from activities import moc as moc_rules
from activities.models import Activity, CreditDesignation, CreditType
from assessments.services import requirements
from attendance.services import credit
from learners.models import ClaimedCredit, ClaimedMoc, ClaimedSession, CreditClaim, Enrollment, LearnerProfile
from learners.services import claim_changes, dispatch
from learners.services.reporting import codes as reporting_codes
from learners.services.reporting import ledger
from portal import audit
from portal.lib.field_errors import NON_FIELD, FieldErrors
from portal.models import User


class ClaimError(FieldErrors):
    """A refused claim: ``errors`` maps each form field (or ``__all__``) to why, in words for the learner."""


@dataclass
class CreditOption:
    designation: CreditDesignation
    claimable: bool
    cap: Decimal  # the most this claim can add: the designation, or the hours of the sessions claimed
    reason: str | None = None  # why a credit the learner's profession may claim cannot be claimed here

    @property
    def field(self) -> str:
        return f"credit_{self.designation.credit_type_id}"


@dataclass
class MocOption:
    board: str
    rows: list[tuple[str, Decimal]]  # (MOC credit type, points)
    board_id: str | None
    reason: str | None = None  # why the learner cannot opt in, when they cannot

    @property
    def field(self) -> str:
        return f"moc_{self.board}"

    @property
    def board_name(self) -> str:
        return vocabulary.board_name(self.board)

    @property
    def abbreviation(self) -> str:
        return vocabulary.board_abbreviation(self.board)

    @property
    def approvals(self) -> list[tuple[str, Decimal]]:
        """``(MOC credit type label, points)`` the activity is approved for with the board."""
        return [(vocabulary.moc_credit_type_label(kind), points) for kind, points in self.rows]

    @property
    def reported_by_provider(self) -> bool:
        """The board takes MOC through PARS, so the provider reports the learner's points; for the other
        boards the learner reports the activity to the board themselves."""
        return self.board in moc_rules.PARS_BOARDS


@dataclass
class ClaimOptions:
    credits: list[CreditOption]
    moc: list[MocOption] = field(default_factory=list)
    # A live activity's sessions as this learner's claim sees them (None for other activities).
    standings: credit.Standings | None = None
    chosen: list[credit.SessionStanding] = field(default_factory=list)  # the sessions this claim covers

    @property
    def claimable(self) -> list[CreditOption]:
        return [option for option in self.credits if option.claimable]

    @property
    def participation_only(self) -> bool:
        """The learner's profession may claim none of the credit: a certificate of participation."""
        return not self.claimable

    @property
    def prefilled(self) -> bool:
        """Whether the claim form starts with each amount filled in: only for a live activity, whose
        sessions fix the hours every attendee of them earned. Elsewhere (enduring materials, journal CME and
        the other kinds) the time taken is the learner's, so the learner enters what they claim."""
        return self.standings is not None


def claim_options(
    *,
    enrollment: Enrollment,
    profile: LearnerProfile | None,
    progress: requirements.Progress | None = None,
    sessions: Iterable[int] | None = None,
    at: datetime | None = None,
    ignore_window: bool = False,
) -> ClaimOptions:
    """What the claim form offers: each designated credit type (claimable by the learner's profession or
    not, up to its cap) and each MOC board, with whether the learner can opt in (board ID and consent given,
    and the board's post-test or evaluation requirement met).

    For a live activity the claim covers sessions: ``sessions`` (ids), or every session the learner can
    claim now; each credit type's cap is those sessions' hours, within what the designation leaves."""
    activity = enrollment.activity
    progress = progress or requirements.progress(enrollment)
    profession = profile.profession if profile else None
    standings, chosen = None, []
    if activity.is_live:
        standings = credit.standings(enrollment, at=at or timezone.now(), ignore_window=ignore_window)
        wanted = None if sessions is None else set(sessions)
        chosen = [s for s in standings.claimable if wanted is None or s.session.pk in wanted]
        caps = standings.cap(chosen)
    credits = []
    for designation in activity.credits.select_related("credit_type").order_by("credit_type__position"):
        cap = caps[designation.credit_type_id] if standings is not None else designation.max_amount
        may = profession is not None and designation.credit_type.may_be_claimed_by(profession)
        reason = None
        if may and designation.credit_type_id == acpe.CREDIT_TYPE:
            # CPE Monitor takes pharmacy credit on the UAN for the learner's audience (P or T) only.
            assert profession is not None
            reason = reporting_codes.uan_problem(designation, profession)
        credits.append(CreditOption(designation, may and reason is None and cap > 0, cap, reason))
    board_ids = dict(profile.board_ids.values_list("board", "board_id")) if profile else {}
    by_board: dict[str, list[tuple[str, Decimal]]] = {}
    for approval in activity.moc.order_by("board", "credit_type"):
        by_board.setdefault(approval.board, []).append((approval.credit_type, approval.points))
    moc = []
    for board, rows in by_board.items():
        reason = None
        if profession != vocabulary.Profession.PHYSICIAN:
            reason = _("MOC is reported for physicians.")
        elif board not in moc_rules.PARS_BOARDS:
            reason = _(
                "The provider does not report MOC to %(board)s (it does not take MOC through the accreditor's "
                "registry, PARS): report this activity to %(board)s yourself."
            ) % {"board": vocabulary.board_abbreviation(board)}
        elif board not in board_ids:
            reason = _("Add your board ID to your profile to have MOC points reported.")
        elif profile is None or not profile.has_reporting_consent:
            reason = _("Give your consent to reporting in your profile to have MOC points reported.")
        elif unmet := progress.unmet_for_moc(board):
            reason = _("%(board)s MOC points are reported once you have met its requirements: %(what)s") % {
                "board": vocabulary.board_abbreviation(board),
                "what": " ".join(standing.unmet_message() for standing in unmet),
            }
        moc.append(MocOption(board, rows, board_ids.get(board), reason))
    return ClaimOptions(credits, moc, standings, chosen)


def claim_credit(
    *,
    enrollment: Enrollment,
    amounts: dict[str, Decimal | None],
    attested: bool,
    moc_boards: Iterable[str] = (),
    at: datetime | None = None,
    sessions: Iterable[int] | None = None,
    recorded_by: User | None = None,
    reason: str = "",
) -> CreditClaim:
    """Record what the learner claims for ``enrollment`` and complete it.

    For a live activity the claim covers sessions the learner attended whose credit can be claimed now
    (``sessions``, or all of them; see ``attendance.services.credit``): the amounts are capped by their
    hours. A learner of a series claims again as later sessions end: the claim gains the sessions and the
    amounts, its certificate is reissued and the ledger corrected (``corrections.sessions_added``).

    ``recorded_by``: staff claiming on the learner's behalf, the attestation given to them, with a
    ``reason``; the claim window does not apply (the requirements do).

    ``amounts`` maps credit type codes to the amount claimed, for the types the learner chooses among those
    their profession may claim (``None`` or a missing code: not claimed); at least one when any is offered
    (a learner who may claim none gets a certificate of participation). Each amount must be above zero, at
    most the designated maximum, in the credit type's steps (the provider's, for contact hours), and the
    claim attested, inside the claim window, once the activity's post-test and evaluation requirements are
    met (each unmet one is named). MOC points are recorded only for boards taking MOC through PARS whose
    requirements are met, and follow the AMA PRA Category 1 Credit™ claimed by each board's rules
    (``activities.moc.records``): a board none would be recorded for is refused. The completion date is
    when the last requirement the claim depends on was met, or the claim's time when there is none. The
    enrollment row is locked (the lock attempts take), so concurrent submissions make one claim; a repeat
    raises ``ClaimError``. After commit, the issuing of its certificate is queued.
    """
    at = at or timezone.now()
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update().select_related("activity", "learner").get(pk=enrollment.pk)
        )
        activity = enrollment.activity
        existing = CreditClaim.objects.filter(enrollment=enrollment).first()
        if existing is not None and not activity.is_live:
            raise ClaimError({NON_FIELD: _("You have already claimed credit for this activity.")})
        if recorded_by is not None and not reason.strip():
            raise ClaimError({"reason": _("Say why the credit is recorded on the learner's behalf.")})
        if not activity.is_live and recorded_by is None and not activity.is_open_for_claims(at=at):
            raise ClaimError({NON_FIELD: _claim_window_message(activity, at)})
        if activity.status != activity.Status.PUBLISHED:
            raise ClaimError({NON_FIELD: _("This activity is not open for credit.")})
        profile = LearnerProfile.objects.filter(user=enrollment.learner).first()
        if profile is None:
            raise ClaimError(
                {NON_FIELD: _("Complete your profile (your profession) before claiming credit.")}
            )
        progress = requirements.progress(enrollment)
        unmet = progress.unmet_for_credit()
        if unmet:
            raise ClaimError({NON_FIELD: " ".join(standing.unmet_message() for standing in unmet)})
        options = claim_options(
            enrollment=enrollment,
            profile=profile,
            progress=progress,
            sessions=sessions,
            at=at,
            ignore_window=recorded_by is not None,
        )
        if options.standings is not None:
            _check_sessions(options, sessions, contact=credit.contact_for(activity))
        if existing is not None:
            return _add_sessions(
                claim=existing,
                options=options,
                amounts=amounts,
                attested=attested,
                moc_boards=moc_boards,
                progress=progress,
                at=at,
                recorded_by=recorded_by,
                reason=reason,
            )

        errors: dict[str, str] = {}
        if not attested:
            errors["attested"] = _("Confirm that you claim only the credit that matches your participation.")
        lines = _credit_lines(options, amounts, errors)
        moc_rows = _moc_rows(options, moc_boards, errors, cme=_ama(lines))
        if errors:
            raise ClaimError(errors)

        try:
            with transaction.atomic():
                claim = CreditClaim.objects.create(
                    enrollment=enrollment,
                    claimed_at=at,
                    attested=True,
                    profession=profile.profession,
                    recorded_by=recorded_by,
                )
        except IntegrityError:  # another claim for this enrollment won the race
            raise ClaimError({NON_FIELD: _("You have already claimed credit for this activity.")}) from None
        ClaimedCredit.objects.bulk_create(
            ClaimedCredit(claim=claim, credit_type=credit_type, amount=amount)
            for credit_type, amount in lines
        )
        ClaimedMoc.objects.bulk_create(
            ClaimedMoc(claim=claim, board=board, credit_type=kind, points=points, board_id=board_id)
            for board, kind, points, board_id in moc_rows
        )
        ClaimedSession.objects.bulk_create(
            ClaimedSession(claim=claim, session=standing.session, added_at=at) for standing in options.chosen
        )
        completed_at = completion(
            progress=progress, moc_boards={row[0] for row in moc_rows}, sessions=options.chosen, at=at
        )
        enrollment.status, enrollment.completed_at = Enrollment.Status.COMPLETED, completed_at
        enrollment.save(update_fields=["status", "completed_at", "modified"])
        ledger.record_claim(claim=claim)
        audit.record(
            actor=recorded_by or enrollment.learner,
            action=audit.AuditAction.CLAIM_RECORDED if recorded_by else audit.AuditAction.CLAIM_CREATED,
            obj=claim,
            provider_id=activity.provider_id,
            data={
                "credits": {credit_type.code: f"{amount:.2f}" for credit_type, amount in lines},
                "moc": sorted({row[0] for row in moc_rows}),
                "sessions": [standing.session.pk for standing in options.chosen],
                **({"reason": reason.strip(), "learner": enrollment.learner_id} if recorded_by else {}),
            },
        )
        # Once the claim is safely stored, its certificate (the sweep covers a broker that is down).
        transaction.on_commit(lambda: dispatch.issue_certificate(enrollment.pk), robust=True)
    return claim


def _add_sessions(
    *,
    claim: CreditClaim,
    options: ClaimOptions,
    amounts: dict[str, Decimal | None],
    attested: bool,
    moc_boards: Iterable[str],
    progress: requirements.Progress,
    at: datetime,
    recorded_by: User | None,
    reason: str,
) -> CreditClaim:
    """A series learner claiming sessions that ended after their claim: the amounts are added to the claim
    (capped by the new sessions' hours), boards newly opted into are added, and the claim changes as every
    change does (``claim_changes.apply``: certificate reissued, ledger corrected)."""
    moc_boards = list(moc_boards)
    errors: dict[str, str] = {}
    if not attested:
        errors["attested"] = _("Confirm that you claim only the credit that matches your participation.")
    lines = _credit_lines(options, amounts, errors)
    before = {c.credit_type_id: c for c in claim.credits.all()}
    ama_before = before[vocabulary.AMA_PRA_1].amount if vocabulary.AMA_PRA_1 in before else Decimal(0)
    have_boards = set(claim.moc.values_list("board", flat=True))
    _moc_rows(options, [b for b in moc_boards if b not in have_boards], errors, cme=ama_before + _ama(lines))
    if errors:
        raise ClaimError(errors)
    for credit_type, amount in lines:
        if credit_type.code in before:
            row = before[credit_type.code]
            row.amount += amount
            row.save(update_fields=["amount"])
        else:
            ClaimedCredit.objects.create(claim=claim, credit_type=credit_type, amount=amount)
    new_boards = {option.board: option.board_id for option in options.moc if option.board in moc_boards}
    refresh_moc(claim=claim, add={b: i for b, i in new_boards.items() if b not in have_boards and i})
    ClaimedSession.objects.bulk_create(
        ClaimedSession(claim=claim, session=standing.session, added_at=at) for standing in options.chosen
    )
    assert options.standings is not None  # only live activities' claims gain sessions
    earlier = [s.session.end for s in options.standings.sessions if s.state is credit.State.CLAIMED]
    completed_at = completion(
        progress=progress,
        moc_boards=set(claim.moc.values_list("board", flat=True)),
        sessions=options.chosen,
        at=at,
        earlier=earlier,
    )
    actor = recorded_by or claim.enrollment.learner
    why = reason.strip() or _("Sessions added to the claim")
    change = claim_changes.apply(claim=claim, completed_at=completed_at, by=actor, reason=why)
    audit.record(
        actor=actor,
        action=audit.AuditAction.CLAIM_SESSIONS_ADDED,
        obj=claim,
        provider_id=claim.enrollment.activity.provider_id,
        data={
            "credits": {credit_type.code: f"+{amount:.2f}" for credit_type, amount in lines},
            "sessions": [standing.session.pk for standing in options.chosen],
            "reason": why,
            "revision": claim.revision,
            "ledger": change.as_dict(),
        },
    )
    return claim


def completion(
    *,
    progress: requirements.Progress,
    moc_boards: Iterable[str],
    sessions: Iterable[credit.SessionStanding],
    at: datetime,
    earlier: Iterable[datetime] = (),
) -> datetime:
    """When the learner completed: the end of the last session claimed (``sessions`` and the ``earlier``
    session ends), or when the last requirement the claim depends on was met if that is later; the claim's
    time when there is neither."""
    moments = [s.session.end for s in sessions] + list(earlier)
    met = progress.completed_at(moc_boards=moc_boards)
    if met is not None:
        moments.append(met)
    return max(moments) if moments else at


def _check_sessions(options: ClaimOptions, sessions: Iterable[int] | None, *, contact: str) -> None:
    """Refuse a live claim that covers no session, or names one that cannot be claimed now (and why)."""
    standings = options.standings
    assert standings is not None
    if sessions is not None:
        by_id = {s.session.pk: s for s in standings.sessions}
        for session_id in sessions:
            standing = by_id.get(session_id)
            if standing is None:
                raise ClaimError({"sessions": _("That session is not one of this activity's.")})
            if not standing.claimable:
                raise ClaimError({"sessions": f"{standing.describe()}: {standing.message()}"})
    if not options.chosen:
        raise ClaimError({NON_FIELD: standings.refusal(contact=contact)})


def _credit_lines(
    options: ClaimOptions, amounts: dict[str, Decimal | None], errors: dict[str, str]
) -> list[tuple[CreditType, Decimal]]:
    """``(credit type, amount)`` for each amount claimed as ``options`` allow; what is wrong goes into
    ``errors`` by form field (an amount refused, or missing for a credit type the learner may claim)."""
    offered = {option.designation.credit_type_id: option for option in options.credits}
    lines = []
    for code, amount in amounts.items():
        if amount is None:  # a credit type the learner does not claim
            continue
        option = offered.get(code)
        if option is None or not option.claimable:
            errors[f"credit_{code}"] = _("This credit is not offered to you for this activity.")
            continue
        problem = amount_problem(amount, option.designation, option.cap)
        if problem:
            errors[option.field] = problem
        else:
            lines.append((option.designation.credit_type, amount))
    if options.claimable and not lines and not errors:
        errors[options.claimable[0].field] = _("Enter the credit you earned for at least one credit type.")
    return lines


def _ama(lines: Iterable[tuple[CreditType, Decimal]]) -> Decimal:
    """The AMA PRA Category 1 Credit™ among ``lines``: the CME credit MOC points follow."""
    return sum(
        (amount for credit_type, amount in lines if credit_type.code == vocabulary.AMA_PRA_1), Decimal(0)
    )


def _moc_rows(
    options: ClaimOptions, moc_boards: Iterable[str], errors: dict[str, str], *, cme: Decimal
) -> list[tuple[str, str, Decimal, str]]:
    """``(board, MOC credit type, points, board ID)`` for each board the learner opts into, the points
    following ``cme`` (the AMA PRA Category 1 Credit™ claimed) by the board's rules; a board the activity has
    no approval with, one the learner cannot opt into, or one that would get no points, goes into
    ``errors``."""
    rows: list[tuple[str, str, Decimal, str]] = []
    available = {option.board: option for option in options.moc}
    for board in dict.fromkeys(moc_boards):
        option = available.get(board)
        if option is None:
            errors[NON_FIELD] = _("This activity has no MOC approval with that board.")
        elif option.reason:
            errors[option.field] = option.reason
        elif cme <= 0:
            errors[option.field] = _(
                "MOC points follow the AMA PRA Category 1 Credit™ you claim: claim it to have %(board)s "
                "MOC points reported."
            ) % {"board": option.abbreviation}
        else:
            assert option.board_id is not None  # no reason to refuse: the learner gave their board ID
            found = moc_row_values(board, option.rows, cme)
            if not found:
                errors[option.field] = _no_points_message(option, cme)
            rows += [(board, kind, points, option.board_id) for kind, points in found]
    return rows


def moc_row_values(
    board: str, approvals: Iterable[tuple[str, Decimal]], cme: Decimal
) -> list[tuple[str, Decimal]]:
    """``(MOC credit type, points)`` as ``ClaimedMoc`` stores the board's records (``moc.records``): one row
    per credit type, a one-amount board's rows each carrying its single amount."""
    return [(kind, points) for points, kinds in moc_rules.records(board, approvals, cme) for kind in kinds]


def refresh_moc(*, claim: CreditClaim, add: dict[str, str] | None = None) -> None:
    """Recompute the claim's MOC points from the AMA PRA Category 1 Credit™ it now holds, for the boards it
    already reports to and the ``add``ed ones (board: board ID). A board that would get no points any more
    (ABP, once a correction makes the claim partial) is dropped. Called inside the change's transaction."""
    approvals: dict[str, list[tuple[str, Decimal]]] = {}
    for approval in claim.enrollment.activity.moc.all():
        approvals.setdefault(approval.board, []).append((approval.credit_type, approval.points))
    board_ids = dict(claim.moc.values_list("board", "board_id")) | dict(add or {})
    cme = sum((c.amount for c in claim.credits.all() if c.credit_type_id == vocabulary.AMA_PRA_1), Decimal(0))
    ClaimedMoc.objects.filter(claim=claim).delete()
    ClaimedMoc.objects.bulk_create(
        ClaimedMoc(claim=claim, board=board, credit_type=kind, points=points, board_id=board_id)
        for board, board_id in sorted(board_ids.items())
        for kind, points in moc_row_values(board, approvals.get(board, []), cme)
    )


def _no_points_message(option: MocOption, cme: Decimal) -> str:
    rule = moc_rules.rule_for(option.board)
    if rule.whole_points:
        points = max(p for _, p in option.rows).to_integral_value(rounding=ROUND_HALF_UP)
        return _(
            "%(board)s gives no partial credit: its %(points)s MOC points are reported only when you claim "
            "the activity's full AMA PRA Category 1 Credit™ (you claim %(cme)s). Untick %(board)s, or claim "
            "the full credit if you completed the whole activity."
        ) % {"board": option.abbreviation, "points": points, "cme": cme.normalize()}
    return _("%(board)s MOC points cannot be recorded for this claim.") % {"board": option.abbreviation}


def amount_problem(amount: Decimal | None, designation: CreditDesignation, cap: Decimal) -> str | None:
    credit_type = designation.credit_type
    if amount is None:
        return _("Enter the credit you earned.")
    if amount <= 0:
        return _("Claim more than zero, or leave the activity unclaimed until you have taken part.")
    if amount > cap:
        if cap < designation.max_amount:
            return _("At most %(max)s %(unit)s can be claimed for the sessions claimed.") % {
                "max": cap,
                "unit": credit_type.unit,
            }
        return _("At most %(max)s %(unit)s can be claimed for this activity.") % {
            "max": designation.max_amount,
            "unit": credit_type.unit,
        }
    step = designation.increment
    if rules.increment_error(amount, step):
        return _("%(name)s is claimed in steps of %(step)s.") % {
            "name": credit_type.label,
            "step": step.normalize(),
        }
    return None


def _claim_window_message(activity: Activity, at: datetime) -> str:
    if activity.status != activity.Status.PUBLISHED:
        return _("This activity is not open for credit.")
    if at < activity.start:
        return _("Credit can be claimed from %(start)s.") % {"start": formats.date_format(activity.start)}
    return _("The time to claim credit for this activity ended on %(end)s.") % {
        "end": formats.date_format(activity.end)
    }
