"""The learners app's models, one module per area; every model is importable from here."""

from learners.models.certificates import Certificate, CertificateVersion, _short_code, _verification_id
from learners.models.enrollments import ClaimedCredit, ClaimedMoc, ClaimedSession, CreditClaim, Enrollment
from learners.models.outbox import OutboxMessage
from learners.models.profiles import US_STATES, BoardId, LearnerProfile, StateLicense
from learners.models.reporting import DeadlineDigest, Destination, ExportBatch, ReportingEntry

__all__ = [
    "US_STATES",
    "BoardId",
    "Certificate",
    "CertificateVersion",
    "ClaimedCredit",
    "ClaimedMoc",
    "ClaimedSession",
    "CreditClaim",
    "DeadlineDigest",
    "Destination",
    "Enrollment",
    "ExportBatch",
    "LearnerProfile",
    "OutboxMessage",
    "ReportingEntry",
    "StateLicense",
    "_short_code",
    "_verification_id",
]
