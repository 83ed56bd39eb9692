"""Public certificate verification: by the secret URL printed on a certificate, or by its short code."""

from allauth.core.internal import ratelimit
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from learners.models import Certificate


def verify(request, verification_id=None, number=None):
    """Public: is this certificate valid, revoked or superseded? Shows its statement, never personal data
    beyond the name. Also answers a lookup by the short code printed on the certificate."""
    code = request.GET.get("code", "").strip().upper()
    if verification_id is None:
        if not code:
            return render(request, "learners/verify_lookup.html", {"code": ""})
        # Codes are short enough to guess at: each client may look up only so many (``verify_lookup`` in
        # ACCOUNT_RATE_LIMITS, counted in the shared cache). The secret verification URLs are not limited.
        # (allauth's public ``consume`` counts only POSTs; the lookup is a GET form.)
        if not ratelimit.consume(request, app="allauth.account", action="verify_lookup", limit_get=True):
            return render(
                request, "learners/verify_lookup.html", {"code": code, "too_many": True}, status=429
            )
        certificate = Certificate.objects.filter(code=code).first()
        if certificate is None:
            return render(
                request, "learners/verify_lookup.html", {"code": code, "not_found": True}, status=404
            )
        return redirect("learners:verify", verification_id=certificate.verification_id)
    certificate = get_object_or_404(Certificate, verification_id=verification_id)
    versions = list(certificate.versions.order_by("-number"))
    if not versions:
        raise Http404
    latest = versions[0]
    shown = latest if number is None else next((v for v in versions if v.number == number), None)
    if shown is None:
        raise Http404
    context = {"certificate": certificate, "version": shown, "latest": latest, "snapshot": shown.snapshot}
    return render(request, "learners/verify.html", context)
