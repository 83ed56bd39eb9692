"""What follows any change to a claim after it was made (sessions a series learner adds, a staff correction):
the claim's revision and the enrollment's completion date move on, the reporting ledger is corrected, and
the certificate gets a new version. Always inside the change's transaction, so a change and its
consequences commit together or not at all; the caller audits the change with its reason."""

from datetime import datetime

from django.db import transaction

from learners.models import Certificate, CreditClaim
from learners.services import certificates, dispatch
from learners.services.reporting import ledger
from portal import audit
from portal.models import User


def apply(
    *,
    claim: CreditClaim,
    completed_at: datetime,
    by: audit.Actor,
    reason: str,
) -> ledger.LedgerCorrection:
    enrollment = claim.enrollment
    claim.revision += 1
    claim.save(update_fields=["revision", "modified"])
    enrollment.completed_at = completed_at
    enrollment.save(update_fields=["completed_at", "modified"])
    change = ledger.correct_claim(claim=claim)
    certificate = Certificate.objects.filter(enrollment=enrollment, revoked_at__isnull=True).first()
    if certificate is not None and certificate.versions.exists():
        certificates.reissue_certificate(certificate=certificate, by=_user(by), reason=reason)
    else:  # not issued yet: the issuing (queued when the claim was made) will print the claim as it is now
        transaction.on_commit(lambda: dispatch.issue_certificate(enrollment.pk), robust=True)
    return change


def _user(actor: audit.Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None
