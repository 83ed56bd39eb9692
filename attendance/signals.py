"""Invitations staff sent by email become the learner's attendance when they confirm that address."""
