from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from activities import services, sessions
from activities.forms import ListingUploadForm, MocApprovalForm, ScheduleForm, SessionForm
from activities.models import (
    Activity,
    CommercialSupport,
    CreditDesignation,
    CreditType,
    JointProvider,
    Membership,
    MocApproval,
    Provider,
    Session,
    SessionCredit,
    Specialty,
)
from assessments.models import Assessment
from portal import audit, scoping
from portal.admin import CheckedInlineFormSet, ProviderScopedAdmin, ProviderScopedInline, ReferenceDataAdmin


@admin.register(Provider)
class ProviderAdmin(ProviderScopedAdmin, admin.ModelAdmin):
    """Accreditation staff manage providers; a provider's editors keep its statements and contact details."""

    list_display = ["name", "website", "joint_accreditation", "activity_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = (
        (None, {"fields": ("name", "slug", "website", "address", "contact_email")}),
        (
            _("Registries"),
            {"fields": ("accme_provider_id", "acpe_provider_number", "state_board_reporting")},
        ),
        (_("Claims"), {"fields": ("contact_hour_increment",)}),
        (
            _("Accreditation statements, as certificates and activity pages print them"),
            {
                "description": _(
                    "Each accreditor's wording is filled in; {provider} becomes the provider's name. A jointly "
                    "accredited provider prints the Joint Accreditation statement in place of the ACCME, ANCC "
                    "and ACPE ones."
                ),
                "fields": (
                    "joint_accreditation",
                    "ja_statement",
                    "accme_accredited",
                    "accme_statement",
                    "ancc_accredited",
                    "ancc_statement",
                    "acpe_accredited",
                    "acpe_statement",
                    "aapa_authorized",
                    "aapa_statement",
                    "accreditation_statement",
                ),
            },
        ),
    )
    # What a provider's own editors may change; the rest (its name, its accreditations) is accreditation
    # staff's.
    editor_fields = (
        "website",
        "address",
        "contact_email",
        "contact_hour_increment",
        "ja_statement",
        "accme_statement",
        "ancc_statement",
        "acpe_statement",
        "aapa_statement",
        "accreditation_statement",
    )

    def has_add_permission(self, request):
        return scoping.sees_everything(request.user)

    def has_delete_permission(self, request, obj=None):
        return scoping.sees_everything(request.user)

    def get_readonly_fields(self, request, obj=None):
        if scoping.sees_everything(request.user):
            return []
        return [
            name
            for _title, options in self.fieldsets
            for name in options["fields"]
            if name not in self.editor_fields
        ]

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if scoping.sees_everything(request.user) else {}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(activity_total=Count("activities")).order_by("name")

    @admin.display(description=_("activities"), ordering="activity_total")
    def activity_count(self, obj):
        return obj.activity_total


@admin.register(Membership)
class MembershipAdmin(ProviderScopedAdmin, admin.ModelAdmin):
    staff_may_write = False
    list_display = ["user", "provider", "role", "created"]
    list_filter = ["role", "provider"]
    search_fields = ["user__email", "provider__name"]
    autocomplete_fields = ["user", "provider"]
    list_select_related = ["user", "provider"]


@admin.register(Specialty)
class SpecialtyAdmin(ReferenceDataAdmin, admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(CreditType)
class CreditTypeAdmin(ReferenceDataAdmin, admin.ModelAdmin):
    list_display = ["name", "code", "unit", "increment", "position"]
    search_fields = ["name", "listing_name"]
    ordering = ["position"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []


class CreditDesignationInline(ProviderScopedInline, admin.TabularInline):
    model = CreditDesignation
    extra = 0
    fields = [
        "credit_type",
        "max_amount",
        "activity_number",
        "aapa_reference",
        "aapa_valid_from",
        "aapa_valid_until",
        "technician_activity_number",
        "acpe_activity_type",
    ]


def _kept(formset) -> list:
    """The inline rows the form will keep: filled in, valid so far, not ticked for deletion."""
    return [
        form
        for form in formset.forms
        if form.has_changed() or form.instance.pk
        if not (formset.can_delete and formset._should_delete_form(form))
        if form.is_valid()
    ]


class JointProviderFormSet(CheckedInlineFormSet):
    """A jointly provided activity names at least one joint provider; a directly provided one names none."""

    def clean(self):
        super().clean()
        activity = self.instance
        named = [form for form in _kept(self) if form.cleaned_data.get("name")]
        if activity.providership == Activity.Providership.JOINT and not named:
            raise ValidationError(_("A jointly provided activity names at least one joint provider."))
        if activity.providership == Activity.Providership.DIRECT and named:
            raise ValidationError(_("A directly provided activity has no joint providers."))


class JointProviderInline(ProviderScopedInline, admin.TabularInline):
    model = JointProvider
    formset = JointProviderFormSet
    extra = 0
    fields = ["name", "position"]


class CommercialSupportFormSet(CheckedInlineFormSet):
    """The activity's "commercial support" box and its list of supporters say the same thing."""

    def clean(self):
        super().clean()
        listed = [form for form in _kept(self) if form.cleaned_data.get("supporter")]
        if self.instance.commercial_support and not listed:
            raise ValidationError(_("Commercial support is ticked: list each supporter and what it gave."))
        if listed and not self.instance.commercial_support:
            raise ValidationError(_("Supporters are listed: tick commercial support, or remove them."))


class CommercialSupportInline(ProviderScopedInline, admin.TabularInline):
    model = CommercialSupport
    formset = CommercialSupportFormSet
    extra = 0
    fields = ["supporter", "monetary_amount", "in_kind"]


class MocApprovalInline(ProviderScopedInline, admin.TabularInline):
    model = MocApproval
    form = MocApprovalForm
    extra = 0
    fields = ["board", "credit_type", "points"]


SESSION_FIELDS = ["start", "end", "time_zone", "online", "venue", "city", "state", "country", "track"]


def attendance_link(session: Session | None) -> str:
    """A link to the session's attendance page (the attendance app's admin, reached by its URL name)."""
    if session is None or session.pk is None:
        return "-"
    url = reverse("admin:attendance_session_attendance", args=[session.pk])
    return format_html('<a href="{}">{}</a>', url, _("Attendance"))


class SessionInline(ProviderScopedInline, admin.TabularInline):
    model = Session
    form = SessionForm
    extra = 0
    fields = [*SESSION_FIELDS, "hours", "attendance"]
    readonly_fields = ["hours", "attendance"]
    show_change_link = True
    verbose_name_plural = _("sessions (credit hours on each session's own page)")

    @admin.display(description=_("credit hours"))
    def hours(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return ", ".join(f"{credit.hours} {credit.credit_type.label}" for credit in obj.credits.all()) or "-"

    @admin.display(description=_("attendance"))
    def attendance(self, obj):
        return attendance_link(obj)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("credits__credit_type")


class SessionCreditInline(ProviderScopedInline, admin.TabularInline):
    model = SessionCredit
    extra = 0
    fields = ["credit_type", "hours"]


@admin.register(Session)
class SessionAdmin(ProviderScopedAdmin, admin.ModelAdmin):
    list_display = ["__str__", "activity", "start", "end", "time_zone", "online", "track", "attendance"]
    list_select_related = ["activity", "activity__provider"]
    list_filter = ["online", "activity__provider"]
    search_fields = ["activity__title", "venue", "city", "track"]
    autocomplete_fields = ["activity"]
    date_hierarchy = "start"
    inlines = [SessionCreditInline]
    form = SessionForm
    fields = ["activity", *SESSION_FIELDS, "attendance"]
    readonly_fields = ["attendance"]

    @admin.display(description=_("attendance"))
    def attendance(self, obj):
        return attendance_link(obj)

    def save_model(self, request, obj, form, change):
        obj.from_listing = False  # staff's from now on: a re-import leaves it alone
        super().save_model(request, obj, form, change)


class ActivityAdminForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["providership"]  # the admin's fieldsets give the rest

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("providership") == Activity.Providership.DIRECT:
            self.instance.joint_provider = ""  # the listing's partner goes with the joint providership
        return cleaned


@admin.register(Activity)
class ActivityAdmin(ProviderScopedAdmin, admin.ModelAdmin):
    form = ActivityAdminForm
    list_display = ["title", "provider", "activity_type", "format", "start", "end", "status", "needs_review"]
    list_filter = [
        "status",
        "needs_review",
        "activity_type",
        "format",
        "provider",
        "commercial_support",
        "fee_kind",
    ]
    search_fields = ["title", "activity_link", "provider__name"]
    list_select_related = ["provider"]
    autocomplete_fields = ["provider", "specialties"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "start"
    inlines = [
        CreditDesignationInline,
        MocApprovalInline,
        JointProviderInline,
        CommercialSupportInline,
        SessionInline,
    ]
    actions = ["publish", "unpublish"]
    fieldsets = (
        (
            None,
            {"fields": ("provider", "title", "slug", "summary", "activity_link", "status", "needs_review")},
        ),
        (
            _("Type and schedule"),
            {
                "fields": (
                    "activity_type",
                    "format",
                    "start",
                    "end",
                    "reviewed_on",
                    "location",
                    "repeating_schedule",
                )
            },
        ),
        (
            _("Listing details"),
            {
                "fields": (
                    ("fee_kind", "fee_amount"),
                    ("registration", "registration_text"),
                    "providership",
                    "commercial_support",
                    ("measured_outcomes", "outcome_measurement"),
                    "specialties",
                )
            },
        ),
        (_("Registries"), {"fields": ("accreditor_activity_id",)}),
        (_("Completion requirements"), {"fields": ("requirements",)}),
    )
    # Publishing goes through the Publish action, which refuses an activity that lacks the statements its
    # accreditations and credit types need.
    readonly_fields = ["status", "requirements", "repeating_schedule"]

    @admin.display(description=_("sessions"))
    def repeating_schedule(self, obj):
        if obj is None or obj.pk is None:
            return _("Save the activity first.")
        if not obj.is_live:
            return _("Only a live activity has sessions.")
        url = reverse("admin:activities_activity_schedule", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Add a repeating schedule of sessions"))

    @admin.display(description=_("pre-test, post-test and evaluation"))
    def requirements(self, obj):
        """The activity's assessments (each a link to edit it), a link to add each kind it lacks, and its
        outcomes report."""
        if obj is None or obj.pk is None:
            return _("Save the activity first.")
        have = {assessment.kind: assessment for assessment in obj.assessments.all()}
        items = []
        for kind, label in Assessment.Kind.choices:
            if kind in have:
                url = reverse("admin:assessments_assessment_change", args=[have[kind].pk])
                items.append(format_html('<a href="{}">{}: {}</a>', url, label, have[kind].title))
            else:
                url = (
                    reverse("admin:assessments_assessment_add")
                    + "?"
                    + urlencode({"provider": obj.provider_id, "activity": obj.pk, "kind": kind})
                )
                items.append(
                    format_html('<a href="{}">{}</a>', url, _("Add a %(kind)s") % {"kind": label.lower()})
                )
        outcomes = reverse("admin:assessments_outcomes", args=[obj.pk])
        items.append(format_html('<a href="{}">{}</a>', outcomes, _("Outcomes report")))
        return format_html_join(mark_safe(" · "), "{}", ((item,) for item in items))

    @admin.action(description=_("Publish selected activities"), permissions=["change"])
    def publish(self, request, queryset):
        report = services.set_published(activities=queryset, published=True, actor=audit.actor_of(request))
        count = report.changed
        self.message_user(
            request, ngettext("%d activity published.", "%d activities published.", count) % count
        )
        for activity, problems in report.refused:
            self.message_user(
                request,
                _("%(activity)s was not published: %(problems)s.")
                % {"activity": activity, "problems": "; ".join(problems)},
                messages.ERROR,
            )

    @admin.action(description=_("Unpublish selected activities"), permissions=["change"])
    def unpublish(self, request, queryset):
        count = services.set_published(
            activities=queryset, published=False, actor=audit.actor_of(request)
        ).changed
        self.message_user(
            request, ngettext("%d activity unpublished.", "%d activities unpublished.", count) % count
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Session:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        sessions.record_session_edits(
            added=list(formset.new_objects),
            changed=[session for session, _fields in formset.changed_objects],
            deleted=list(formset.deleted_objects),
            actor=audit.actor_of(request),
        )

    def get_urls(self):
        extra = [
            path(
                "<path:object_id>/schedule/",
                self.admin_site.admin_view(self.schedule_view),
                name="activities_activity_schedule",
            ),
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="activities_activity_import",
            ),
        ]
        return extra + super().get_urls()

    def import_view(self, request):
        """Upload listing files; each is imported whole or refused, with the same report as the command."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        report = None
        form = ListingUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            provider_ids = (
                None if scoping.sees_everything(request.user) else scoping.editable_provider_ids(request.user)
            )
            sources = services.uploaded_sources(form.cleaned_data["files"])
            report = services.import_listings(
                sources=sources, actor=audit.actor_of(request), provider_ids=provider_ids
            )
            level = messages.ERROR if report.failed else messages.SUCCESS
            self.message_user(request, _("Imported %(summary)s.") % {"summary": report.summary()}, level)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import listings"),
            "form": form,
            "report": report,
            "changelist_url": reverse("admin:activities_activity_changelist"),
        }
        return TemplateResponse(request, "admin/activities/activity/import.html", context)

    def schedule_view(self, request, object_id):
        """Add a repeating schedule of sessions: preview what it would add, then add it in one go."""
        activity = self.get_object(request, object_id)
        if activity is None:
            raise Http404
        if not self.has_change_permission(request, activity):
            raise PermissionDenied
        form = ScheduleForm(request.POST or None)
        plan = None
        change_url = reverse("admin:activities_activity_change", args=[activity.pk])
        if request.method == "POST" and form.is_valid():
            schedule = sessions.Schedule(**form.cleaned_data)
            try:
                plan = sessions.plan_schedule(schedule)
                problem = sessions.series_error(activity=activity, starts=[s for s, _e in plan.starts])
                if problem:
                    raise sessions.SessionError(problem)
                if "confirm" in request.POST:
                    added = sessions.schedule_sessions(
                        activity=activity, schedule=schedule, actor=audit.actor_of(request)
                    )
                    self.message_user(
                        request,
                        ngettext("%d session added.", "%d sessions added.", len(added)) % len(added),
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(change_url)
            except sessions.SessionError as exc:
                form.add_error(None, str(exc))
                plan = None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Add a repeating schedule"),
            "activity": activity,
            "form": form,
            "plan": plan,
            "change_url": change_url,
            "changelist_url": reverse("admin:activities_activity_changelist"),
        }
        return TemplateResponse(request, "admin/activities/activity/schedule.html", context)
