"""The past files made from the ledger ("Past files"; they are made on the "Export files" page), kept as they
were sent and downloadable again."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learners.models import ExportBatch
from portal import scoping
from portal.admin import ProviderScopedAdmin, ReadOnlyAdmin
from portal.lib.http import attachment, csv_attachment


@admin.register(ExportBatch)
class ExportBatchAdmin(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    """Past export files. Downloading one again returns its stored content unchanged: no new batch, no row
    marked again. Batches are made by exporting from the ledger, and none is deleted: the ledger's rows point
    at their batch, so what was sent stays on record."""

    list_display = ["filename", "download", "description", "provider", "row_count", "made_by", "created"]
    list_filter = ["destination", "provider"]
    search_fields = ["filename", "description"]
    list_select_related = ["provider", "made_by"]
    date_hierarchy = "created"
    readonly_fields = [
        "filename", "destination", "provider", "description", "row_count", "made_by", "created", "download",
    ]  # fmt: skip
    fields = tuple(readonly_fields)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    def changelist_view(self, request, extra_context=None):
        # "Export files" is the page that makes them; this list is of the files already made.
        return super().changelist_view(
            request, extra_context={"title": _("Past files"), **(extra_context or {})}
        )

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if scoping.sees_everything(request.user) or len(scoping.provider_ids(request.user)) > 1:
            return filters
        return [f for f in filters if (f[0] if isinstance(f, tuple) else f) != "provider"]

    @admin.display(description=gettext_lazy("file"))
    def download(self, obj):
        url = reverse("admin:learners_exportbatch_download", args=[obj.pk])
        return format_html('<a href="{}" class="download-again">{}</a>', url, _("Download again"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="learners_exportbatch_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, object_id):
        batch = self.get_object(request, object_id)  # 404 for another provider's batch
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        if batch.filename.endswith(".txt"):  # PARS takes its learner batch as tab-delimited text
            return attachment(
                batch.content, filename=batch.filename, content_type="text/plain; charset=utf-8"
            )
        return csv_attachment(batch.content, batch.filename)
