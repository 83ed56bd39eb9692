"""Learner background work. Import tasks with a ``_task`` suffix so a call site reads as a dispatch."""

import logging

logger = logging.getLogger(__name__)


def claim_recorded(claim_id: int) -> None:
    """Called once a claim has committed: its certificate follows."""
    logger.info("claim %s recorded", claim_id)
