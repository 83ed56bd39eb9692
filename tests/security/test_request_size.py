"""Request bodies over REQUEST_MAX_BODY_BYTES are refused with 413 before they are read; the uploads the
portal takes (1,000 listing files at once, a 5 MB returned registry file) stay under the default."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from activities.models import Activity
from bench.listings import listings
from learners.admin.forms import MAX_RETURNED_FILE_BYTES
from portal.middleware import RequestSizeLimitMiddleware
from tests.portal.test_settings import manage

pytestmark = pytest.mark.django_db

LIMIT = 100_000


class _Unread(io.BytesIO):
    """A request body that records whether anything read it."""

    touched = False

    def read(self, *args):
        self.touched = True
        return super().read(*args)


def test_a_body_over_the_limit_is_refused_with_413_and_nothing_is_created(client, accreditor, settings):
    settings.REQUEST_MAX_BODY_BYTES = LIMIT
    client.force_login(accreditor)
    big = SimpleUploadedFile("big.txt", b"x" * LIMIT, content_type="text/plain")
    response = client.post(reverse("admin:activities_activity_import"), {"files": [big]})
    assert response.status_code == 413
    assert "The request is larger than 97.7\xa0KB" in response.text
    assert not Activity.objects.exists()


def test_the_body_is_refused_from_its_content_length_without_being_read(settings):
    settings.REQUEST_MAX_BODY_BYTES = LIMIT
    body = _Unread(b"a=" + b"x" * LIMIT)
    request = RequestFactory().generic("POST", "/", content_type="application/x-www-form-urlencoded")
    request.META.update({"CONTENT_LENGTH": str(LIMIT + 2), "wsgi.input": body})
    request._stream = body
    response = RequestSizeLimitMiddleware(lambda r: pytest.fail("the view ran"))(request)
    assert response.status_code == 413
    assert not body.touched


def test_a_malformed_content_length_is_a_400(settings):
    request = RequestFactory().post("/", data="a=1", content_type="application/x-www-form-urlencoded")
    request.META["CONTENT_LENGTH"] = "12x"
    response = RequestSizeLimitMiddleware(lambda r: pytest.fail("the view ran"))(request)
    assert response.status_code == 400
    assert "Content-Length" in response.text


def chunked_request(body: bytes):
    """A POST as a WSGI server hands over a chunked body: no Content-Length, input ended at the body's end."""
    request = RequestFactory().generic(
        "POST", "/", data=body, content_type="application/x-www-form-urlencoded"
    )
    del request.META["CONTENT_LENGTH"]
    request._stream = None  # what Django made from the length is not to be used
    stream = _Unread(body)
    request.META.update({"wsgi.input": stream, "wsgi.input_terminated": True})
    return request, stream


def test_a_body_without_length_is_read_only_up_to_the_limit_and_refused(settings):
    settings.REQUEST_MAX_BODY_BYTES = LIMIT
    request, stream = chunked_request(b"a=" + b"x" * (10 * LIMIT))
    response = RequestSizeLimitMiddleware(lambda r: pytest.fail("the view ran"))(request)
    assert response.status_code == 413
    assert stream.tell() == LIMIT + 1  # stopped one byte past the limit


def test_a_body_without_length_under_the_limit_reaches_the_view_whole(settings):
    settings.REQUEST_MAX_BODY_BYTES = LIMIT
    request, _stream = chunked_request(b"name=" + b"y" * 1000 + b"&other=2")
    seen = {}

    def view(request):
        seen.update(request.POST.items())
        return HttpResponse("ok")

    response = RequestSizeLimitMiddleware(view)(request)
    assert response.status_code == 200
    assert seen == {"name": "y" * 1000, "other": "2"}


def test_a_thousand_listing_files_import_at_once_under_the_default_limit(client, accreditor):
    client.force_login(accreditor)
    files = [
        SimpleUploadedFile(f"listing-{n:04}.txt", text.encode(), content_type="text/plain")
        for n, text in enumerate(listings(1000))
    ]
    response = client.post(reverse("admin:activities_activity_import"), {"files": files})
    assert response.status_code == 200
    assert "1000 files: 1000 created" in response.text
    assert Activity.objects.count() == 1000


def test_a_returned_file_of_the_largest_allowed_size_is_taken(client, accreditor):
    client.force_login(accreditor)
    content = b"row_id,status,reason\r\n" + b"\r\n" * ((MAX_RETURNED_FILE_BYTES - 24) // 2)
    assert len(content) <= MAX_RETURNED_FILE_BYTES
    response = client.post(
        reverse("admin:learners_reportingentry_returned"),
        {"file": SimpleUploadedFile("returned.csv", content, content_type="text/csv")},
    )
    assert response.status_code == 200
    assert "0 accepted, 0 rejected, 0 lines not applied" in response.text


def test_the_limit_comes_from_the_environment_and_must_fit_the_returned_file():
    show = "from django.conf import settings; print(settings.REQUEST_MAX_BODY_BYTES)"
    done = manage("shell", "-c", show, DJANGO_DEBUG="1", REQUEST_MAX_BODY_BYTES="20000000")
    assert done.stdout.split()[-1] == "20000000"
    done = manage("shell", "-c", show, DJANGO_DEBUG="1")
    assert (
        int(done.stdout.split()[-1]) >= 1000 * 4096 + MAX_RETURNED_FILE_BYTES
    )  # a thousand 4 KiB listings, or 5 MB
    done = manage("check", DJANGO_DEBUG="1", REQUEST_MAX_BODY_BYTES="64")
    assert done.returncode != 0
    assert "REQUEST_MAX_BODY_BYTES must be at least 6291456 (got 64)" in done.stderr
