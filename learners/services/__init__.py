"""Learner services: every change to a profile, an enrollment or a claim goes through these."""

from learners.services import certificates
from learners.services.claims import ClaimError, claim_credit, claim_options
from learners.services.enrollments import EnrollmentError, enroll
from learners.services.profiles import create_profile, update_profile

__all__ = [
    "ClaimError",
    "EnrollmentError",
    "certificates",
    "claim_credit",
    "claim_options",
    "create_profile",
    "enroll",
    "update_profile",
]
