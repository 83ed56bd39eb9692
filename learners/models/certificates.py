"""Certificates and their versions: what was certified to whom, as issued."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from learners.models.enrollments import Enrollment
from portal.models import TimestampedModel


def _verification_id() -> str:
    return secrets.token_urlsafe(18)  # 144 random bits: unguessable, and stable across reissues


_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def _short_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


class Certificate(TimestampedModel):
    """The certificate of one completed enrollment. Its versions hold what was printed; it never goes away:
    revoking keeps the row and says why, and reissuing adds a version."""

    enrollment = models.OneToOneField(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.PROTECT, related_name="certificate"
    )
    verification_id = models.CharField(
        _("verification id"), max_length=32, unique=True, default=_verification_id
    )
    code = models.CharField(_("certificate code"), max_length=11, unique=True, default=_short_code)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)

    provider_field = "enrollment__activity__provider"

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoke_reason="")
                | (Q(revoked_at__isnull=False) & ~Q(revoke_reason="")),
                name="certificate_revoked_with_reason",
            ),
        ]

    def __str__(self):
        return f"Certificate {self.code}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def get_absolute_url(self):
        return reverse("learners:verify", kwargs={"verification_id": self.verification_id})


class CertificateVersion(models.Model):
    """One issue of a certificate: a snapshot of everything it prints. The PDF is a pure function of it."""

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    issued_at = models.DateTimeField(_("issued at"))
    snapshot = models.JSONField(_("what the certificate states"))
    reason = models.CharField(_("why issued"), max_length=300, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    provider_field = "certificate__enrollment__activity__provider"

    class Meta:
        verbose_name = _("certificate version")
        verbose_name_plural = _("certificate versions")
        ordering = ["certificate", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "number"], name="certificate_version_unique"),
        ]

    def __str__(self):
        return f"{self.certificate.code} v{self.number}"

    def get_absolute_url(self):
        return reverse(
            "learners:verify_version",
            kwargs={"verification_id": self.certificate.verification_id, "number": self.number},
        )
