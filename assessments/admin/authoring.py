"""Authoring pre-tests, post-tests and evaluations in the admin.

Editors of a provider write its assessments (an activity's, or templates in its library), viewers read
them, other providers' staff never see them (404), accreditation staff see all. Questions are edited inline,
each with its answers in one text box; a preview shows the assessment as learners see it, built from the
questions as they stand without recording a version. The rules live in the model's ``clean`` and in
``assessments.services.authoring``; this module only wires them to the admin.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assessments.admin.authoring_forms import AssessmentForm, CopyOntoActivityForm, QuestionForm
from assessments.models import Answer, Assessment, AssessmentVersion, Attempt, Question
from assessments.services import authoring, versions
from assessments.services.attempts import learner_questions
from learners.models import Enrollment
from portal import audit
from portal.admin import ProviderScopedAdmin, ProviderScopedInline


class QuestionInline(ProviderScopedInline, admin.StackedInline):
    model = Question
    form = QuestionForm
    extra = 1
    fields = ["position", "kind", "text", "choices_text", "explanation", "required"]
    ordering = ["position", "pk"]
    verbose_name = _("question")
    verbose_name_plural = _("questions (ordered by position)")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("choices")

    @admin.display(description=_("Answers"))
    def choices_text(self, obj: Question) -> str:
        # The answers as a viewer reads them: the same text an editor edits.
        return authoring.choices_text([(c.text, c.is_correct) for c in obj.choices.all()])


class PlaceFilter(admin.SimpleListFilter):
    title = _("where")
    parameter_name = "where"

    def lookups(self, request, model_admin):
        return [("library", _("Library templates")), ("activity", _("On an activity"))]

    def queryset(self, request, queryset):
        if self.value() == "library":
            return queryset.filter(activity__isnull=True)
        if self.value() == "activity":
            return queryset.filter(activity__isnull=False)
        return queryset


def _count_of(model: type[Question] | type[Attempt]) -> Coalesce:
    """How many rows of ``model`` belong to the outer assessment, as an expression (0 for none)."""
    rows = model.objects.filter(assessment=OuterRef("pk")).order_by().values("assessment")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


@admin.register(Assessment)
class AssessmentAdmin(ProviderScopedAdmin, admin.ModelAdmin):
    form = AssessmentForm
    inlines = [QuestionInline]
    list_display = ["title", "kind", "place", "provider", "question_count", "attempt_count"]
    list_filter = ["kind", PlaceFilter, "required_for", "provider"]
    search_fields = ["title", "activity__title", "provider__name"]
    list_select_related = ["activity", "provider"]
    actions = ["copy_onto_activity", "pre_test_from_post_test"]
    settings_fieldsets = (
        (None, {"fields": ("provider", "activity", "kind", "title", "instructions")}),
        (
            _("Post-tests: passing and attempts"),
            {
                "fields": ("passing_score", "max_attempts", "shuffle_questions", "show_feedback"),
                "description": _(
                    "A post-test needs a passing score; leave attempts empty for unlimited. A pre-test and an "
                    "evaluation are taken once and have neither."
                ),
            },
        ),
        (
            _("What it is required for"),
            {
                "fields": ("required_for", "moc_boards"),
                "description": _(
                    "Pre-tests are never required; boards are named only for “MOC points only”."
                ),
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((_("Start from"), {"fields": ("start_from",)}), *self.settings_fieldsets)
        return self.settings_fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return AssessmentForm.for_user(form_class, request.user) if obj is None else form_class

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        taken = ["activity", "kind"] if obj.attempts.exists() else []
        return ["provider", *taken]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            # Counted apart: one join of questions and attempts would multiply them (50 x 10,000 rows).
            .annotate(
                question_total=_count_of(Question),
                attempt_total=_count_of(Attempt),
            )
        )

    @admin.display(description=_("activity"), ordering="activity__title")
    def place(self, obj: Assessment) -> str:
        return obj.activity.title if obj.activity else str(_("Library template"))

    @admin.display(description=_("questions"), ordering="question_total")
    def question_count(self, obj: Assessment) -> int:
        return obj.question_total  # type: ignore[attr-defined]

    @admin.display(description=_("attempts"), ordering="attempt_total")
    def attempt_count(self, obj: Assessment) -> int:
        return obj.attempt_total  # type: ignore[attr-defined]

    # --- saving ------------------------------------------------------------------------------------------

    def save_formset(self, request, form, formset, change):
        if formset.model is not Question:
            return super().save_formset(request, form, formset, change)
        questions = formset.save(commit=False)
        last = max((q.position for q in form.instance.questions.all()), default=0)
        for question in questions:
            if not question.position:
                last += 1
                question.position = last
            question.save()
        for question in formset.deleted_objects:
            question.delete()
        for question_form in formset.forms:
            answers = getattr(question_form, "answers", None)
            if question_form in formset.deleted_forms or answers is None or not question_form.instance.pk:
                continue
            if question_form.has_changed():
                authoring.set_choices(question_form.instance, answers)
        return None

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        chosen, source = getattr(form, "source_chosen", (False, None))
        if not change and chosen:
            try:
                authoring.fill_from(assessment=form.instance, source=source, by=audit.actor_of(request))
            except authoring.AuthoringError as refused:
                # Checked on the form already; a template deleted since is the only way here.
                raise PermissionDenied(refused.message) from None

    # --- the change page: who took it, and the preview ------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        latest = obj.versions.order_by("-number").first()
        taken = Attempt.objects.filter(assessment=obj)
        extra = {
            "learners_took": taken.values("enrollment").distinct().count(),
            "latest_version": latest.number if latest else None,
            "preview_url": reverse("admin:assessments_assessment_preview", args=[obj.pk]),
            "copy_url": reverse("admin:assessments_assessment_copy", args=[obj.pk])
            if obj.is_template and self.has_change_permission(request, obj)
            else None,
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self):
        preview = path(
            "<path:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="assessments_assessment_preview",
        )
        copy = path(
            "<path:object_id>/copy/",
            self.admin_site.admin_view(self.copy_view),
            name="assessments_assessment_copy",
        )
        return [preview, copy, *super().get_urls()]

    def copy_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Copy one library template onto an activity where the user is an editor."""
        template = self.get_object(request, unquote(object_id))
        if not template.is_template or not self.has_change_permission(request, template):
            raise PermissionDenied
        form = CopyOntoActivityForm.for_user(request.user)(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                copy = authoring.copy_assessment(
                    source=template, activity=form.cleaned_data["activity"], by=audit.actor_of(request)
                )
            except authoring.AuthoringError as refused:
                form.add_error("activity", refused.message)
            else:
                self.message_user(request, _("Copied: %(copy)s.") % {"copy": copy}, messages.SUCCESS)
                return redirect(reverse("admin:assessments_assessment_change", args=[copy.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": template,
            "title": _("Copy “%(title)s” onto an activity") % {"title": template.title},
            "form": form,
        }
        return TemplateResponse(request, "admin/assessments/assessment/copy.html", context)

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The questions as a learner sees them, then (for staff only) the answer key. Nothing is recorded:
        the version is built from the questions as they stand and never saved."""
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        version = AssessmentVersion(assessment=obj, number=0, content=versions.content_of(obj))
        shown = learner_questions(version, enrollment=Enrollment(), number=1)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": _("Preview: %(title)s") % {"title": obj.title},
            "questions": shown,
            "answer_key": version.content["questions"],
            "likert": range(1, 6),
        }
        return TemplateResponse(request, "admin/assessments/assessment/preview.html", context)

    # --- deleting -------------------------------------------------------------------------------------------

    def get_deleted_objects(self, objs, request):
        """Deleting one learners have taken is refused, saying why; the versions of one nobody has taken
        (a learner opened it and left) go with it."""
        deleted, counts, perms_needed, _protected = super().get_deleted_objects(objs, request)
        taken = dict(
            Attempt.objects.filter(assessment__in=objs)
            .values("assessment")
            .annotate(n=Count("enrollment", distinct=True))
            .values_list("assessment", "n")
        )
        protected = [
            ngettext(
                "%(assessment)s: %(n)d learner has taken it, and their attempts are kept with it.",
                "%(assessment)s: %(n)d learners have taken it, and their attempts are kept with it.",
                n,
            )
            % {"assessment": obj, "n": n}
            for obj in objs
            if (n := taken.get(obj.pk))
        ]
        # Attempts, answers and versions are never deleted through the admin: refused above, or (versions
        # nobody answered) deleted with the assessment by delete_queryset.
        kept = {str(m._meta.verbose_name) for m in (Attempt, Answer, AssessmentVersion)}
        return deleted, counts, {p for p in perms_needed if str(p) not in kept}, protected

    def delete_model(self, request, obj):
        self.delete_queryset(request, Assessment.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            if Attempt.objects.filter(assessment__in=queryset).exists():
                raise PermissionDenied(_("Learners have taken this assessment; it cannot be deleted."))
            AssessmentVersion.objects.filter(assessment__in=queryset).delete()
            queryset.delete()

    # --- actions -------------------------------------------------------------------------------------------

    @admin.action(description=_("Copy selected templates onto an activity"), permissions=["change"])
    def copy_onto_activity(self, request, queryset):
        def act(templates: list[Assessment], data: dict[str, Any]) -> None:
            copies = []
            for template in templates:
                try:
                    copies.append(
                        authoring.copy_assessment(
                            source=template, activity=data["activity"], by=audit.actor_of(request)
                        )
                    )
                except authoring.AuthoringError as refused:
                    self.message_user(request, f"{template.title}: {refused.message}", messages.ERROR)
            for copy in copies:
                self.message_user(request, _("Copied: %(copy)s.") % {"copy": copy}, messages.SUCCESS)

        return self.confirm_then(
            request,
            queryset,
            action="copy_onto_activity",
            title=_("Copy templates onto an activity"),
            act=act,
            refusal=lambda obj: None if obj.is_template else _("it is an activity's, not a library template"),
            form_class=CopyOntoActivityForm.for_user(request.user),
        )

    @admin.action(description=_("Make a pre-test from the selected post-tests"), permissions=["change"])
    def pre_test_from_post_test(self, request, queryset):
        for post_test in queryset:
            try:
                pre = authoring.create_pre_test_from_post_test(
                    post_test=post_test, by=audit.actor_of(request)
                )
            except authoring.AuthoringError as refused:
                self.message_user(request, f"{post_test}: {refused.message}", messages.ERROR)
            else:
                self.message_user(request, _("Made %(pre)s.") % {"pre": pre}, messages.SUCCESS)
