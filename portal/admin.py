"""Admin scoping: one mixin limits every provider-owned admin to the user's providers.

A provider-owned model names the path to its provider in a ``provider_field`` class attribute
(``"provider"``, ``"activity__provider"``, or ``"pk"`` on the provider itself). ``ProviderScopedAdmin``
uses it to limit querysets (and so change pages, deletes, actions and autocompletes), object permissions,
foreign-key and many-to-many choices, related list filters and the audit trail. Accreditation staff and
superusers see everything. Provider staff with the viewer role only read.

Reading needs any role at the object's provider; writing needs the editor role at *that object's*
provider. Django asks an action's permission without an object, so every action (the mixin's own and
``delete_selected``) is handed only the selected objects of providers where the user is an editor; the rest
are named in the action's preview and in a warning, and left alone.
"""

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter, widgets
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal import audit, scoping
from portal.forms import JSONField, ModelChoiceField, ModelMultipleChoiceField, is_key_of, keys_of
from portal.models import AuditEntry, User

if TYPE_CHECKING:
    # What the mixins below are mixed into, for the type checker only: at run time they are plain classes,
    # so that one mixin serves model admins and inlines alike.
    _AnyAdmin = admin.options.BaseModelAdmin[Any]
    _ModelAdmin = admin.ModelAdmin[Any]
    _Autocomplete = widgets.AutocompleteMixin
else:
    _AnyAdmin = _ModelAdmin = _Autocomplete = object


def provider_path(model) -> str | None:
    return getattr(model, "provider_field", None)


def provider_id_of(obj) -> int | None:
    """The provider id that owns ``obj``, following its model's ``provider_field``."""
    path = provider_path(type(obj))
    if path is None:
        return None
    if path == "pk":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


def scope_queryset(queryset: models.QuerySet, user, ids: frozenset[int] | None = None) -> models.QuerySet:
    """``queryset`` limited to the user's providers (all of it for accreditation staff)."""
    if scoping.sees_everything(user):
        return queryset
    path = provider_path(queryset.model)
    if path is None:
        return queryset
    return queryset.filter(**{f"{path}__in": scoping.provider_ids(user) if ids is None else ids})


class _KeysOnly(_Autocomplete):
    """Re-render a refused form without looking up a posted value that cannot be a key (Django's
    autocomplete asks the database for ``pk__in=["x"]`` and fails)."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        key = remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)
        return super().optgroups(name, keys_of(key, value), attr)


class AutocompleteSelect(_KeysOnly, widgets.AutocompleteSelect):
    pass


class AutocompleteSelectMultiple(_KeysOnly, widgets.AutocompleteSelectMultiple):
    pass


class ForeignKeyRawIdWidget(widgets.ForeignKeyRawIdWidget):
    def label_and_url_for_value(self, value):
        if not is_key_of(self.rel.get_related_field(), value):
            return "", ""
        return super().label_and_url_for_value(value)


class PortalFormFields(_AnyAdmin):
    """Form fields for every admin of the portal (``PortalAdminConfig`` mixes it into third-party admins
    too): a posted value that cannot be what the field holds is a form error on that field, never a
    database error. Choices of related objects refuse values that cannot be keys; JSON refuses NaN and
    Infinity; a URL typed without a scheme is taken as https."""

    formfield_overrides = {
        models.URLField: {"assume_scheme": "https"},
        models.JSONField: {"form_class": JSONField},
    }

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", ModelChoiceField)
        if "widget" not in kwargs:
            if db_field.name in self.get_autocomplete_fields(request):
                kwargs["widget"] = AutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
            elif db_field.name in self.raw_id_fields:
                kwargs["widget"] = ForeignKeyRawIdWidget(
                    db_field.remote_field, self.admin_site, using=kwargs.get("using")
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # An inline builds at most this many forms, whatever number a POST claims (Django's default is
    # max_num + 1000, seconds of work for one request); more is a form error.
    inline_absolute_max = 100

    # Inlines only: the type checker sees the model admin's base, which has no formsets of its own.
    def get_formset(self, request, obj=None, **kwargs):
        max_num = self.get_max_num(request, obj, **kwargs)  # type: ignore[attr-defined]
        kwargs.setdefault("max_num", self.inline_absolute_max if max_num is None else max_num)
        kwargs.setdefault("absolute_max", max(self.inline_absolute_max, kwargs["max_num"]))
        return super().get_formset(request, obj, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", ModelMultipleChoiceField)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class _ScopedChoices(PortalFormFields):
    """Foreign-key and many-to-many choices limited to what the user may write to."""

    def _scope_choices(self, db_field, request, kwargs):
        user = request.user
        related = db_field.remote_field.model
        if scoping.sees_everything(user) or provider_path(related) is None:
            return kwargs
        base = kwargs.get("queryset") or related._default_manager.all()
        kwargs["queryset"] = scope_queryset(base, user, scoping.editable_provider_ids(user))
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(
            db_field, request, **self._scope_choices(db_field, request, kwargs)
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(
            db_field, request, **self._scope_choices(db_field, request, kwargs)
        )


class ProviderScopedAdmin(_ScopedChoices, _ModelAdmin):
    """Mix into a ModelAdmin of a provider-owned model (one with ``provider_field``).

    ``staff_may_write``: whether provider editors may add, change and delete (False for models only
    accreditation staff manage, such as providers and memberships).
    """

    staff_may_write = True

    def _may(self, request, obj=None, *, write: bool) -> bool:
        user = request.user
        if scoping.sees_everything(user):
            return True
        if write and not self.staff_may_write:
            return False
        ids = scoping.editable_provider_ids(user) if write else scoping.provider_ids(user)
        if not ids:
            return False
        return obj is None or provider_id_of(obj) in ids

    def has_module_permission(self, request):
        return self._may(request, write=False)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj, write=False)

    def has_add_permission(self, request):
        return self._may(request, write=True)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj, write=True)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj, write=True)

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user)

    def editable(self, request, queryset: models.QuerySet) -> models.QuerySet:
        """``queryset`` limited to the objects of providers where the user is an editor."""
        return scope_queryset(queryset, request.user, scoping.editable_provider_ids(request.user))

    def get_actions(self, request):
        # The stubs allow None for an action; Django's get_actions never holds one.
        return {  # type: ignore[misc]
            name: (self._editable_only(func), name, description)
            for name, (func, name, description) in super().get_actions(request).items()
        }

    @staticmethod
    def _editable_only(func):
        """``func`` acting only on the selected objects the user may change; the others are shown in its
        preview (``not_yours`` in a TemplateResponse's context) and named in a warning once it has run."""

        @functools.wraps(func)
        def action(modeladmin, request, queryset):
            editable = modeladmin.editable(request, queryset)
            not_yours = [] if editable is queryset else list(queryset.exclude(pk__in=editable.values("pk")))
            response = func(modeladmin, request, editable)
            if not not_yours:
                return response
            if isinstance(response, TemplateResponse) and response.context_data is not None:
                response.context_data["not_yours"] = not_yours
            else:
                modeladmin.message_user(
                    request,
                    ngettext(
                        "%(n)d selected item is not yours to change and was left alone: %(names)s",
                        "%(n)d selected items are not yours to change and were left alone: %(names)s",
                        len(not_yours),
                    )
                    % {"n": len(not_yours), "names": "; ".join(str(obj) for obj in not_yours)},
                    messages.WARNING,
                )
            return response

        return action

    def confirm_then(
        self,
        request: HttpRequest,
        objects: Iterable[Any],
        *,
        action: str,
        title: str | Promise,
        act: Callable[[list[Any], dict[str, Any]], HttpResponse | None],
        refusal: Callable[[Any], str | Promise | None] | None = None,
        form_class: type[forms.Form] | None = None,
    ) -> HttpResponse | None:
        """Preview, then act: every action that asks for a confirmation (and a reason) goes through here.

        The action's first POST shows a preview of ``objects`` (the selection the action was handed, so
        only what the user may change): those it would change, and those it would not, with why
        (``refusal(obj)``: the reason, or None when it may; a service's rule, not the admin's), and the
        form of ``form_class`` (a reason, say) if it takes one. The action wrapper adds the selected items
        that are not the user's to change. The preview's own POST (``confirm``) with a valid form calls
        ``act(will, data)`` with the objects to change and the form's cleaned data (empty without a form),
        and returns what ``act`` returns (None: back to the list with its messages); an invalid form shows
        the preview again with its errors. Each POST judges the objects as they stand, so the confirmation
        acts on what may change then, not on what the preview showed.

        The page is the first of ``admin/<app>/<model>/``, ``admin/<app>/`` and ``admin/`` +
        ``confirm_action.html``: a model's own says how its rows read.
        """
        will, wont = [], []
        for obj in objects:
            why = refusal(obj) if refusal is not None else None
            if why:
                wont.append((obj, why))
            else:
                will.append(obj)
        confirmed = "confirm" in request.POST
        form = form_class(request.POST if confirmed else None) if form_class is not None else None
        if confirmed and (form is None or form.is_valid()):
            return act(will, form.cleaned_data if form is not None else {})
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "title": title,
            "action": action,
            "will": will,
            "wont": wont,
            "form": form,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        }
        templates = [
            f"admin/{opts.app_label}/{opts.model_name}/confirm_action.html",
            f"admin/{opts.app_label}/confirm_action.html",
            "admin/confirm_action.html",
        ]
        return TemplateResponse(request, templates, context)

    def get_object(self, request, object_id, from_field=None):
        # Another provider's object is outside the queryset: a plain 404, not the admin's redirect.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object, or it belongs to a provider you are not a member of."))
        return obj

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if scoping.sees_everything(request.user):
            return filters
        return [self._scoped_filter(item) for item in filters]

    def _scoped_filter(self, item):
        # A related filter lists only the related objects in the user's rows, never every provider.
        if not isinstance(item, str):
            return item
        try:
            field = get_fields_from_path(self.model, item)[-1]
        except (FieldDoesNotExist, NotRelationField):
            return item
        return (item, RelatedOnlyFieldListFilter) if field.is_relation else item

    def get_changeform_initial_data(self, request):
        initial: dict[str, Any] = super().get_changeform_initial_data(request)  # any value, not only text
        editable = scoping.editable_provider_ids(request.user)
        if provider_path(self.model) == "provider" and len(editable) == 1 and "provider" not in initial:
            initial["provider"] = next(iter(editable))
        return initial

    def save_model(self, request, obj, form, change):
        if not scoping.sees_everything(request.user):
            if provider_path(self.model) == "provider" and obj.provider_id is None:
                editable = scoping.editable_provider_ids(request.user)
                if len(editable) == 1:
                    obj.provider_id = next(iter(editable))
            if provider_id_of(obj) not in scoping.editable_provider_ids(request.user):
                raise PermissionDenied
        super().save_model(request, obj, form, change)

    # Every admin change also goes to the portal's audit trail, in the admin's own transaction.
    def log_addition(self, request, obj, message):
        audit.record(
            actor=audit.actor_of(request),
            action=audit.AuditAction.of_admin(obj, "added"),
            obj=obj,
            provider_id=provider_id_of(obj),
            data={"via": "admin"},
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit.record(
            actor=audit.actor_of(request),
            action=audit.AuditAction.of_admin(obj, "changed"),
            obj=obj,
            provider_id=provider_id_of(obj),
            data={"via": "admin", "message": message},
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        audit.record_many(
            actor=audit.actor_of(request),
            entries=[
                (audit.AuditAction.of_admin(obj, "deleted"), obj, provider_id_of(obj), {"via": "admin"})
                for obj in queryset
            ],
        )
        return super().log_deletions(request, queryset)


class CheckedInlineFormSet(BaseInlineFormSet):
    """An inline formset that refuses a management form which no longer matches the rows it carries.

    Django takes the first ``INITIAL_FORMS`` forms as existing rows and the rest as new ones. A count changed
    in transit would turn an existing row (a form that names its id) into a new one, and its save into a
    duplicate the database refuses; this says so on the form instead."""

    def clean(self):
        super().clean()
        if not self.is_bound:
            return
        initial = self.initial_form_count()
        assert self.model is not None  # an inline formset is always of a model
        pk = self.model._meta.pk.name
        stray = any(form.data.get(form.add_prefix(pk)) for form in self.forms[max(initial, 0) :])
        if stray or not 0 <= initial <= self.total_form_count():
            raise ValidationError(
                _("These rows changed since the page was loaded: reload the page and make the change again.")
            )


class ProviderScopedInline(_ScopedChoices):
    """Mix into an inline of a provider-owned model; permissions follow the parent object's provider."""

    formset: Any = CheckedInlineFormSet  # each inline's formset is one of these (a subclass, or this)

    def _may(self, request, obj=None, *, write: bool) -> bool:
        user = request.user
        if scoping.sees_everything(user):
            return True
        ids = scoping.editable_provider_ids(user) if write else scoping.provider_ids(user)
        return bool(ids) and (obj is None or provider_id_of(obj) in ids)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj, write=False)

    def has_add_permission(self, request, obj=None):
        return self._may(request, obj, write=True)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj, write=True)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj, write=True)


class ReadOnlyAdmin(_AnyAdmin):
    """Mix in first: rows the services write (claims, certificates, the ledger, the outbox, the audit trail)
    are never added, changed or deleted through the admin, whatever the other mixins would allow.

    ``writable`` names the doors an admin keeps open, each still checked by the mixins after this one: a
    certificate keeps ``"change"``, which its revoke and reissue actions need (every field stays read only).
    Works for model admins and inlines alike (an inline's ``has_add_permission`` also takes the parent).
    """

    writable: frozenset[str] = frozenset()

    def has_add_permission(self, request, *args):
        return "add" in self.writable and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return "change" in self.writable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return "delete" in self.writable and super().has_delete_permission(request, obj)


class ReferenceDataAdmin(PortalFormFields):
    """Shared vocabulary (credit types, specialties): any staff member reads it, accreditation staff edit."""

    def _is_staff_member(self, request) -> bool:
        return scoping.sees_everything(request.user) or bool(scoping.provider_ids(request.user))

    def has_module_permission(self, request):
        return self._is_staff_member(request)

    def has_view_permission(self, request, obj=None):
        return self._is_staff_member(request)

    def has_add_permission(self, request):
        return scoping.sees_everything(request.user)

    def has_change_permission(self, request, obj=None):
        return scoping.sees_everything(request.user)

    def has_delete_permission(self, request, obj=None):
        return scoping.sees_everything(request.user)


class AccreditationStaffOnly(PortalFormFields):
    def has_module_permission(self, request):
        return scoping.sees_everything(request.user)

    def has_view_permission(self, request, obj=None):
        return scoping.sees_everything(request.user)

    def has_add_permission(self, request):
        return scoping.sees_everything(request.user)

    def has_change_permission(self, request, obj=None):
        return scoping.sees_everything(request.user)

    def has_delete_permission(self, request, obj=None):
        return scoping.sees_everything(request.user)


@admin.register(User)
class UserAdmin(AccreditationStaffOnly, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    list_display = ["at", "actor_repr", "action", "object_repr", "provider"]
    list_filter = ["action", "provider"]
    search_fields = ["object_repr", "actor_repr", "action"]
    list_select_related = ["provider"]
    date_hierarchy = "at"
