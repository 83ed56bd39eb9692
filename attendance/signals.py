"""Invitations staff sent by email become the learner's attendance when they confirm that address."""

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from attendance.services import records


@receiver(email_confirmed, dispatch_uid="attendance.accept_invitations")
def accept_invitations(sender, request, email_address, **kwargs):
    # allauth sends this once an address is verified (ACCOUNT_EMAIL_VERIFICATION is mandatory), so an
    # invitation is only ever found by the person who controls that mailbox.
    records.accept_invitations(user=email_address.user, email=email_address.email)
