"""The portal's admin site: Django's, with two doors closed and room for pages that belong to no model.

- Signing in is throttled exactly as the learners' sign-in is: the admin's login goes through allauth's
  adapter, so failed attempts count against the same limits (``login_failed``: per client address and per
  account) and the same shared cache, and every login POST against ``login`` (per client address).
- "View on site" (``/admin/r/<content type>/<id>/``) resolves an object only through its model admin's
  queryset, so provider staff cannot step through ids to reach other providers' objects' public URLs (a
  certificate's verification page, a draft activity's address).
- Pages that belong to no model (the CME dashboard) are registered with ``register_page`` by the app that
  owns them and served among the site's URLs, behind ``admin_view``.
"""

import functools
from collections.abc import Callable

from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.options import TO_FIELD_VAR
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import BadRequest, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from portal import scoping


class AdminLoginForm(AdminAuthenticationForm):
    def clean(self):
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if email is not None and password:
            # Raises a ValidationError ("Too many failed login attempts") once the limit is reached.
            self.user_cache = get_adapter(self.request).authenticate(
                self.request, email=email, password=password
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class PortalAdminSite(admin.AdminSite):
    site_header = _("CME Portal administration")
    site_title = _("CME Portal admin")
    index_title = _("Providers, activities and learners")
    login_form = AdminLoginForm

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self._pages: dict[str, tuple[str, Callable[[HttpRequest], HttpResponse]]] = {}

    def register_page(self, route: str, view: Callable[[HttpRequest], HttpResponse], *, name: str) -> None:
        """Serve ``view`` at ``route`` under the site (``learners/dashboard/``) as ``admin:<name>``, with the
        admin's login redirect, staff check and no-cache headers. Registering a name again replaces it.

        A registry rather than an import: ``portal`` sits below the apps (``learners`` imports ``portal``,
        never the reverse), so the site cannot import the apps' views, even lazily, without that arrow
        pointing both ways. The app registers its pages from its admin module, which the admin's
        autodiscovery imports at start-up, before any URL is resolved. A page for a model belongs in that
        model admin's ``get_urls`` instead.
        """
        self._pages[name] = (route, view)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def checked(request, *args, **kwargs):
            # Django looks an empty ``_to_field`` up as a field name (FieldDoesNotExist): say what is wrong.
            if any(data.get(TO_FIELD_VAR, None) == "" for data in (request.GET, request.POST)):
                raise BadRequest(_("The parameter _to_field names no field."))
            return inner(request, *args, **kwargs)

        return checked

    def login(self, request, extra_context=None):
        if request.method == "POST":
            refused = ratelimit.consume_or_429(request, action="login")
            if refused is not None:
                return refused
        return super().login(request, extra_context)

    def get_urls(self):
        # The pages come first: the site's catch-all for an app's URLs would take them otherwise.
        pages = [path(route, self.admin_view(view), name=name) for name, (route, view) in self._pages.items()]
        urls = [*pages, *super().get_urls()]
        for index, pattern in enumerate(urls):
            if getattr(pattern, "name", None) == "view_on_site":
                urls[index] = path(
                    "r/<path:content_type_id>/<path:object_id>/",
                    self.admin_view(self.view_on_site),
                    name="view_on_site",
                )
        return urls

    def view_on_site(self, request, content_type_id, object_id):
        """Redirect to the object's public page, if the user may view the object in the admin."""
        if not (content_type_id.isascii() and content_type_id.isdigit() and len(content_type_id) < 10):
            raise Http404
        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except ContentType.DoesNotExist:
            raise Http404 from None
        model_admin = self._registry.get(model) if model is not None else None  # None: a stale type
        if model_admin is None:
            if not scoping.sees_everything(request.user):
                raise Http404
        else:
            try:
                obj = model_admin.get_queryset(request).filter(pk=object_id).first()
            except (ValidationError, ValueError, TypeError):
                obj = None
            if obj is None or not model_admin.has_view_permission(request, obj):
                raise Http404
        return contenttype_views.shortcut(request, content_type_id, object_id)
