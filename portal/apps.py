from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"


class PortalAdminConfig(AdminConfig):
    default_site = "portal.sites.PortalAdminSite"

    def ready(self):
        super().ready()  # discovers every app's admin module
        from django.contrib import admin

        from portal.admin import PortalFormFields

        # Admins other apps register (Django's groups, allauth's email addresses) get the portal's form
        # fields as well, so that none of them turns a posted value into a database error.
        for model, model_admin in list(admin.site._registry.items()):
            if not isinstance(model_admin, PortalFormFields):
                cls = type(model_admin)
                admin.site.unregister(model)
                admin.site.register(
                    model, type(cls.__name__, (PortalFormFields, cls), {"__module__": cls.__module__})
                )
