"""Authoring pre-tests, post-tests and evaluations in the admin."""
