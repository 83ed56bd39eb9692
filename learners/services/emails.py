"""The emails the outbox sends, built from what each row points to: a certificate version's email to its
learner, with the PDF attached, and a staff member's deadline digest."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from learners.models import CertificateVersion, OutboxMessage
from learners.pdf.certificate import render_certificate


def build_email(message: OutboxMessage) -> EmailMultiAlternatives:
    """The email of an outbox row, as its kind makes it."""
    if message.kind == OutboxMessage.Kind.DEADLINE_DIGEST:
        return digest_email(message)
    return certificate_email(message)


def version_of(message: OutboxMessage) -> CertificateVersion:
    """The certificate version a certificate email carries (the database holds it to one)."""
    assert message.version is not None, f"outbox message {message.pk} is not a certificate's email"
    return message.version


def certificate_email(message: OutboxMessage) -> EmailMultiAlternatives:
    """The certificate version's email to its learner, with the PDF attached."""
    version = version_of(message)
    certificate = version.certificate
    context = {
        "snapshot": version.snapshot,
        "version": version,
        "dashboard_url": settings.SITE_URL + "/me/",
        "verification_url": version.snapshot["verification_url"],
    }
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=render_to_string("learners/email/certificate.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"X-CME-Certificate": certificate.code, "X-CME-Message": str(message.pk)},
    )
    email.attach_alternative(render_to_string("learners/email/certificate.html", context), "text/html")
    email.attach(f"certificate-{certificate.code}.pdf", render_certificate(version), "application/pdf")
    return email


def digest_email(message: OutboxMessage) -> EmailMultiAlternatives:
    """The staff member's deadline digest, as its snapshot lists it."""
    assert message.digest is not None, f"outbox message {message.pk} is not a digest's email"
    context = {
        **message.digest.snapshot,
        "ledger_url": settings.SITE_URL + reverse("admin:learners_reportingentry_changelist"),
    }
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=render_to_string("emails/deadline_digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"X-CME-Message": str(message.pk)},
    )
    email.attach_alternative(render_to_string("emails/deadline_digest.html", context), "text/html")
    return email
