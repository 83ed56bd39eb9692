"""Middleware that refuses hostile requests before any view, form or query sees them.

- ``RequestSizeLimitMiddleware`` answers 413 for a body larger than ``REQUEST_MAX_BODY_BYTES`` before it is
  read: at once from its ``Content-Length``, or, for a body sent without one (chunked), after reading at most
  one byte past the limit. Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` applies only once parsing has begun
  and leaves file uploads out.
- ``RefuseNulMiddleware`` answers 400 for a NUL character anywhere in the path, the query string, the form
  fields or the cookies: PostgreSQL refuses NUL in text, so a lookup with one would fail in the database
  instead of saying what is wrong.

Both come first in ``MIDDLEWARE``, so nothing before them reads the body. Under ASGI, Django reads the whole
body before any middleware runs; the portal is served over WSGI (gunicorn), where the limit holds as stated.
"""

from io import BytesIO

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

NUL = "\x00"
FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
_CHUNK = 64 * 1024


class RequestTooLarge(HttpResponse):
    status_code = 413

    def __init__(self, limit: int):
        super().__init__(
            _(
                "The request is larger than %(limit)s, the most this site accepts in one request. "
                "Send less at once (for example, fewer files)."
            )
            % {"limit": filesizeformat(limit)},
            content_type="text/plain; charset=utf-8",
        )


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        limit = settings.REQUEST_MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared not in (None, ""):
            try:
                length = int(declared)
            except ValueError:
                return HttpResponseBadRequest(
                    _("The Content-Length header is not a number."), content_type="text/plain; charset=utf-8"
                )
            if length > limit:
                return RequestTooLarge(limit)
        elif request.META.get("wsgi.input_terminated"):
            # No length given, but the server ends the input at the end of the body (chunked encoding):
            # read it here, at most one byte past the limit, and hand Django what was read.
            body = _read_at_most(request.META["wsgi.input"], limit + 1)
            if len(body) > limit:
                return RequestTooLarge(limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            # As WSGIRequest does itself; the stubs type the private stream as a plain BinaryIO.
            request._stream = LimitedStream(BytesIO(body), len(body))  # type: ignore[assignment]
        return self.get_response(request)


def _read_at_most(stream, size: int) -> bytes:
    parts, total = [], 0
    while total < size:
        chunk = stream.read(min(_CHUNK, size - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        where = nul_location(request)
        if where is not None:
            return HttpResponseBadRequest(
                _("The %(where)s contains a NUL character, which this site does not accept.")
                % {"where": where},
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def nul_location(request: HttpRequest) -> str | None:
    """Where the request carries a NUL character, in words naming the parameter; None if nowhere."""
    if NUL in request.path:
        return _("address")
    found = _nul_key(request.GET.lists())
    if found is not None:
        return _("query parameter %(name)r") % {"name": found}
    found = _nul_key(request.COOKIES.items())
    if found is not None:
        return _("cookie %(name)r") % {"name": found}
    if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
        # Uploaded files' contents are their readers' to judge; Django drops NUL from their names.
        found = _nul_key(request.POST.lists())
        if found is not None:
            return _("form field %(name)r") % {"name": found}
    return None


def _nul_key(items) -> str | None:
    for key, values in items:
        if isinstance(values, str):
            values = [values]
        if NUL in key or any(NUL in value for value in values):
            return key.replace(NUL, "\\x00")
    return None
