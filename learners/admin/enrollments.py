"""Enrollments and claims in the admin, read only as rows: they change through the learner's own pages and
the services. Staff pages, each previewed by running its service under ``dry_run`` and run on "Confirm",
let an editor at the activity's provider record credit on a learner's behalf, extend one learner's claim
window, and correct a claim (a new certificate version; the ledger corrected)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from attendance.forms import ClaimForm, ExtendWindowForm
from attendance.services import records
from learners.models import (
    ClaimedCredit,
    ClaimedMoc,
    CreditClaim,
    Enrollment,
)
from learners.services import claims, corrections
from portal.admin import PortalFormFields, ProviderScopedAdmin, ReadOnlyAdmin
from portal.lib.dry_run import dry_run
from portal.lib.field_errors import add_to_form


class OnBehalfForm(ClaimForm):
    attested = forms.BooleanField(
        label=gettext_lazy(
            "The learner attested to me that they claim only what matches their participation"
        ),
        required=False,
    )


def _amounts_text(amounts) -> str:
    return ", ".join(f"{amount:.2f} {code}" for code, amount in sorted(amounts.items())) or "—"


class _StaffPages(ReadOnlyAdmin, ProviderScopedAdmin, admin.ModelAdmin):
    def _load(self, request, object_id):
        obj = self.get_object(request, str(object_id))
        if obj is None:
            raise Http404
        if not self._may(request, obj, write=True):  # editors at the object's provider, accreditation staff
            raise PermissionDenied
        return obj

    def _page(self, request, *, title, form, preview, back_url, back_label, **extra):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "preview": preview,
            "back_url": back_url,
            "back_label": back_label,
            **extra,
        }
        return TemplateResponse(request, "admin/attendance/records_form.html", context)


class ClaimedCreditInline(ReadOnlyAdmin, PortalFormFields, admin.TabularInline):
    model = ClaimedCredit
    extra = 0
    can_delete = False
    readonly_fields = ["credit_type", "amount"]


class ClaimedMocInline(ReadOnlyAdmin, PortalFormFields, admin.TabularInline):
    model = ClaimedMoc
    extra = 0
    can_delete = False
    readonly_fields = ["board", "credit_type", "points", "board_id"]


@admin.register(CreditClaim)
class CreditClaimAdmin(_StaffPages):
    """What a learner attested is never edited; staff correct a claim through ``correct_claim``."""

    list_display = ["enrollment", "claimed_at", "profession"]
    list_filter = ["profession", ("enrollment__activity", RelatedOnlyFieldListFilter)]
    search_fields = ["enrollment__learner__email", "enrollment__activity__title"]
    list_select_related = ["enrollment__learner", "enrollment__activity"]
    readonly_fields = ["enrollment", "claimed_at", "attested", "profession", "staff_pages"]
    fields = tuple(readonly_fields)
    inlines = [ClaimedCreditInline, ClaimedMocInline]

    @admin.display(description=gettext_lazy("fix"))
    def staff_pages(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        url = reverse("admin:learners_creditclaim_correct", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Correct claim"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/correct/", view(self.correct_view), name="learners_creditclaim_correct"),
            *super().get_urls(),
        ]

    def correct_view(self, request, object_id):
        """Amounts per credit type, sessions and a reason; the preview shows before → after and what the
        ledger would get (rows replaced, or a delete and an add for rows already exported)."""
        claim = self._load(request, object_id)
        activity = claim.enrollment.activity
        now = {c.credit_type_id: c.amount for c in claim.credits.all()}
        sessions = (
            list(claim.claimed_sessions.values_list("session_id", flat=True)) if activity.is_live else None
        )
        form = ClaimForm(request.POST or None, activity=activity, initial_amounts=now, sessions=sessions)
        preview = None
        if request.method == "POST" and form.is_valid():

            def run() -> corrections.CorrectionResult:
                return corrections.correct_claim(
                    claim=claim,
                    amounts=form.amounts(),
                    sessions=form.session_ids(),
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )

            try:
                if "confirm" in request.POST:
                    result = run()
                    self.message_user(
                        request,
                        _("Claim corrected: %(summary)s.") % {"summary": result.summary()},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:learners_creditclaim_change", args=[claim.pk]))
                result = dry_run(run)
                ledger = result.ledger.as_dict()
                preview = _(
                    "%(summary)s; sessions %(before)s → %(after)s. The certificate would get a new version; "
                    "the ledger: %(replaced)d rows replaced, %(deleted)d deleted and %(added)d added."
                ) % {
                    "summary": result.summary(),
                    "before": len(result.sessions_before),
                    "after": len(result.sessions_after),
                    "replaced": ledger["replaced"],
                    "deleted": ledger["deleted"],
                    "added": ledger["added"],
                }
            except claims.ClaimError as exc:
                add_to_form(form, exc)
        return self._page(
            request,
            title=_("Correct claim"),
            form=form,
            preview=preview,
            before=_amounts_text(now),
            back_url=reverse("admin:learners_creditclaim_change", args=[claim.pk]),
            back_label=str(claim.enrollment),
        )


@admin.register(Enrollment)
class EnrollmentAdmin(_StaffPages):
    list_display = ["learner", "activity", "status", "created", "completed_at"]
    list_filter = ["status", ("activity", RelatedOnlyFieldListFilter)]
    search_fields = ["learner__email", "learner__last_name", "activity__title"]
    list_select_related = ["learner", "activity"]
    readonly_fields = ["public_id", "learner", "activity", "status", "created", "completed_at", "staff_pages"]
    fields = tuple(readonly_fields)

    @admin.display(description=gettext_lazy("fix"))
    def staff_pages(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        links = [
            (
                reverse("admin:learners_enrollment_record_credit", args=[obj.pk]),
                _("Record credit on the learner's behalf"),
            ),
            (reverse("admin:learners_enrollment_extend_window", args=[obj.pk]), _("Extend claim window")),
        ]
        claim = CreditClaim.objects.filter(enrollment=obj).first()
        if claim is not None:
            links.append((reverse("admin:learners_creditclaim_correct", args=[claim.pk]), _("Correct claim")))
        return format_html_join(mark_safe(" · "), '<a href="{}">{}</a>', links)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/record-credit/",
                view(self.record_credit_view),
                name="learners_enrollment_record_credit",
            ),
            path(
                "<path:object_id>/extend/", view(self.extend_view), name="learners_enrollment_extend_window"
            ),
            *super().get_urls(),
        ]

    def _back(self, enrollment):
        return reverse("admin:learners_enrollment_change", args=[enrollment.pk])

    def record_credit_view(self, request, object_id):
        """Credit claimed on the learner's behalf (the attestation given to staff, with a reason), through
        ``claim_credit(recorded_by=...)``: the same rules as the learner's own claim, without the window."""
        enrollment = self._load(request, object_id)
        form = OnBehalfForm(request.POST or None, activity=enrollment.activity)
        preview = None
        if request.method == "POST" and form.is_valid():
            amounts, sessions = form.amounts(), form.session_ids()

            def run():
                return claims.claim_credit(
                    enrollment=enrollment,
                    amounts=amounts,
                    attested=form.cleaned_data["attested"],
                    sessions=sessions or None,
                    recorded_by=request.user,
                    reason=form.cleaned_data["reason"],
                )

            try:
                if "confirm" in request.POST:
                    run()
                    self.message_user(
                        request, _("Credit recorded on the learner's behalf."), messages.SUCCESS
                    )
                    return HttpResponseRedirect(self._back(enrollment))
                dry_run(run)
                preview = _(
                    "%(learner)s would be credited %(amounts)s%(sessions)s, and emailed a certificate."
                ) % {
                    "learner": enrollment.learner.email,
                    "amounts": _amounts_text(amounts),
                    "sessions": _(" for %(n)d sessions") % {"n": len(sessions)} if sessions else "",
                }
            except claims.ClaimError as exc:
                add_to_form(form, exc)
        return self._page(
            request,
            title=_("Record credit on the learner's behalf"),
            form=form,
            preview=preview,
            back_url=self._back(enrollment),
            back_label=str(enrollment),
        )

    def extend_view(self, request, object_id):
        """One learner's claim window extended (a later day than the current deadline, with a reason)."""
        enrollment = self._load(request, object_id)
        deadline = records.current_deadline(enrollment)
        form = ExtendWindowForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():

            def run():
                return records.extend_claim_window(
                    enrollment=enrollment,
                    until=form.cleaned_data["until"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )

            try:
                if "confirm" in request.POST:
                    run()
                    self.message_user(request, _("Claim window extended."), messages.SUCCESS)
                    return HttpResponseRedirect(self._back(enrollment))
                dry_run(run)
                preview = _("%(learner)s could claim until %(until)s (now until %(deadline)s).") % {
                    "learner": enrollment.learner.email,
                    "until": form.cleaned_data["until"],
                    "deadline": deadline,
                }
            except records.RecordsError as exc:
                add_to_form(form, exc)
        return self._page(
            request,
            title=_("Extend claim window"),
            form=form,
            preview=preview,
            before=_("claims allowed until %(day)s") % {"day": deadline},
            back_url=self._back(enrollment),
            back_label=str(enrollment),
        )
