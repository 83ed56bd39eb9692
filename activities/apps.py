from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Activities")

    def ready(self):
        from activities.sqlite_triggers import ensure_catalog_triggers

        post_migrate.connect(ensure_catalog_triggers, sender=self, dispatch_uid="activities-sqlite-triggers")
