"""Responses that carry a file: one way to name the download and keep personal data out of caches."""

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import content_disposition_header


def private(response: HttpResponse) -> HttpResponse:
    """Mark ``response`` as personal: never stored by a browser's or a proxy's cache."""
    add_never_cache_headers(response)
    patch_cache_control(response, private=True, no_store=True)
    return response


def attachment(content: bytes | str, *, filename: str, content_type: str) -> HttpResponse:
    """A download named ``filename``; text is sent as UTF-8. Downloads may carry personal data, so none is
    cached."""
    body = content.encode("utf-8") if isinstance(content, str) else content
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return private(response)


def csv_attachment(content: str, filename: str) -> HttpResponse:
    return attachment(content, filename=filename, content_type="text/csv; charset=utf-8")
