"""Staff correcting a claim: the amounts (a credit type removed, or one the activity designates added) and,
for a live activity, the sessions it covers. The same rules as a claim apply (designated maximum, steps,
what the learner's profession may claim, the hours of the sessions claimed), the change carries a reason,
and what follows is what follows every change to a claim (``claim_changes.apply``): a new certificate
version, and the ledger corrected (rows not yet exported replaced, exported rows deleted and added again).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from activities.models import CreditType
from assessments.services import requirements
from attendance.models import Attendance
from attendance.services import credit
from learners.models import Certificate, ClaimedCredit, ClaimedSession, CreditClaim, Enrollment
from learners.services import claim_changes
from learners.services.claims import NON_FIELD, ClaimError, amount_problem, completion, refresh_moc
from learners.services.reporting.ledger import LedgerCorrection
from portal import audit
from portal.models import User


@dataclass(frozen=True)
class CorrectionResult:
    """What a correction changed: the amounts by credit type code and the session ids, before and after,
    and what it did to the ledger."""

    before: dict[str, Decimal]
    after: dict[str, Decimal]
    sessions_before: list[int]
    sessions_after: list[int]
    ledger: LedgerCorrection

    def summary(self) -> str:
        def text(amounts: dict[str, Decimal]) -> str:
            return ", ".join(f"{amount:.2f} {code}" for code, amount in sorted(amounts.items())) or "—"

        return _("%(before)s → %(after)s") % {"before": text(self.before), "after": text(self.after)}


def correct_claim(
    *, claim: CreditClaim, amounts: dict[str, Decimal], sessions: list[int] | None, by: User, reason: str
) -> CorrectionResult:
    """Set ``claim``'s credit to ``amounts`` (every credit type it keeps; the others are removed) and, for a
    live activity, its sessions to ``sessions`` (None keeps them). Raises ``ClaimError`` by field."""
    reason = reason.strip()
    if not reason:
        raise ClaimError({"reason": _("Say why the claim is corrected.")})
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update().select_related("activity").get(pk=claim.enrollment_id)
        )
        claim = CreditClaim.objects.select_related("enrollment__activity").get(pk=claim.pk)
        activity = enrollment.activity
        if Certificate.objects.filter(enrollment=enrollment, revoked_at__isnull=False).exists():
            raise ClaimError({NON_FIELD: _("The certificate was revoked; a revoked claim is not corrected.")})
        before = {c.credit_type_id: c.amount for c in claim.credits.all()}
        sessions_before = sorted(
            ClaimedSession.objects.filter(claim=claim).values_list("session_id", flat=True)
        )
        sessions_after = sessions_before if sessions is None else sorted(set(sessions))
        chosen = _chosen_sessions(enrollment, sessions_after) if activity.is_live else []
        caps = _caps(enrollment, chosen) if activity.is_live else {}
        errors = _amount_errors(claim, amounts, caps)
        if activity.is_live and not sessions_after:
            errors["sessions"] = _("A live activity's claim covers at least one session attended.")
        if not errors and (amounts, sessions_after) == (before, sessions_before):
            errors[NON_FIELD] = _("That is the claim as it stands: nothing to correct.")
        if errors:
            raise ClaimError(errors)

        ClaimedCredit.objects.filter(claim=claim).exclude(credit_type_id__in=list(amounts)).delete()
        for code, amount in amounts.items():
            ClaimedCredit.objects.update_or_create(
                claim=claim, credit_type=CreditType.objects.get(pk=code), defaults={"amount": amount}
            )
        if sessions_after != sessions_before:
            ClaimedSession.objects.filter(claim=claim).exclude(session_id__in=sessions_after).delete()
            kept = set(sessions_before)
            ClaimedSession.objects.bulk_create(
                ClaimedSession(claim=claim, session_id=pk, added_at=claim.claimed_at)
                for pk in sessions_after
                if pk not in kept
            )
        refresh_moc(claim=claim)  # MOC points follow the AMA credit as corrected
        progress = requirements.progress(enrollment)
        completed_at = completion(
            progress=progress,
            moc_boards=set(claim.moc.values_list("board", flat=True)),
            sessions=chosen,
            at=claim.claimed_at,
        )
        change = claim_changes.apply(claim=claim, completed_at=completed_at, by=by, reason=reason)
        audit.record(
            actor=by,
            action=audit.AuditAction.CLAIM_CORRECTED,
            obj=claim,
            provider_id=activity.provider_id,
            data={
                "before": {code: f"{amount:.2f}" for code, amount in before.items()},
                "after": {code: f"{amount:.2f}" for code, amount in amounts.items()},
                "sessions_before": sessions_before,
                "sessions_after": sessions_after,
                "reason": reason,
                "revision": claim.revision,
                "ledger": change.as_dict(),
            },
        )
    return CorrectionResult(before, dict(amounts), sessions_before, sessions_after, change)


def _amount_errors(
    claim: CreditClaim, amounts: dict[str, Decimal], caps: dict[str, Decimal]
) -> dict[str, str]:
    """What is wrong with ``amounts``, by form field: a type not designated or not the learner's
    profession's, an amount past its cap (``caps`` for a live activity, else the designation) or steps."""
    activity = claim.enrollment.activity
    errors: dict[str, str] = {}
    designations = {d.credit_type_id: d for d in activity.credits.select_related("credit_type")}
    for code, amount in amounts.items():
        designation = designations.get(code)
        if designation is None:
            errors[f"credit_{code}"] = _("The activity designates no credit of this type.")
        elif not designation.credit_type.may_be_claimed_by(claim.profession):
            errors[f"credit_{code}"] = _("The learner's profession cannot claim this credit.")
        else:
            problem = amount_problem(amount, designation, caps.get(code, designation.max_amount))
            if problem:
                errors[f"credit_{code}"] = problem
    claimable = any(d.credit_type.may_be_claimed_by(claim.profession) for d in designations.values())
    if not amounts and claimable:
        errors[NON_FIELD] = _("Keep at least one credit type, or revoke the certificate instead.")
    return errors


def _chosen_sessions(enrollment: Enrollment, session_ids: list[int]) -> list[credit.SessionStanding]:
    """The standings of ``session_ids``; each must be a session of the activity the learner attended."""
    standings = credit.standings(enrollment, at=enrollment.activity.end, ignore_window=True)
    by_id = {s.session.pk: s for s in standings.sessions}
    attended = set(Attendance.objects.filter(enrollment=enrollment).values_list("session_id", flat=True))
    chosen = []
    for pk in session_ids:
        standing = by_id.get(pk)
        if standing is None:
            raise ClaimError({"sessions": _("That session is not one of this activity's.")})
        if pk not in attended:
            raise ClaimError(
                {
                    "sessions": _("%(session)s: no attendance is recorded; mark it first.")
                    % {"session": standing.describe()}
                }
            )
        chosen.append(standing)
    return chosen


def _caps(enrollment: Enrollment, chosen: list[credit.SessionStanding]) -> dict[str, Decimal]:
    """The most of each credit type the chosen sessions carry, within the designation (the claim's own
    amounts do not count against it: they are what is being replaced)."""
    standings = credit.standings(enrollment, at=enrollment.activity.end, ignore_window=True)
    standings.claimed = {}
    return standings.cap(chosen)
