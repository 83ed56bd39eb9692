"""The admin seen from the outside: provider staff reach only their providers' data, however they ask."""

import html
import json
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from activities.models import Activity, CreditDesignation, Membership, Provider
from portal.models import AuditEntry
from tests.factories import ActivityFactory, UserFactory

pytestmark = pytest.mark.django_db


CHANGELIST = reverse("admin:activities_activity_changelist")


def listed(response) -> list[str]:
    """The titles in the activity changelist's rows, as the page shows them."""
    assert response.status_code == 200
    cells = re.findall(r'<th class="field-title"><a [^>]*>(.*?)</a></th>', response.content.decode())
    return [html.unescape(cell) for cell in cells]


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def activity_form(activity, **overrides):
    """The activity change form's POST data, as a browser would send it."""
    data = {
        "provider": activity.provider_id,
        "title": activity.title,
        "slug": activity.slug,
        "summary": activity.summary,
        "activity_link": activity.activity_link,
        "status": activity.status,
        "activity_type": activity.activity_type,
        "format": activity.format,
        "start_0": activity.start.strftime("%Y-%m-%d"),
        "start_1": activity.start.strftime("%H:%M:%S"),
        "end_0": activity.end.strftime("%Y-%m-%d"),
        "end_1": activity.end.strftime("%H:%M:%S"),
        "fee_kind": activity.fee_kind,
        "registration": activity.registration,
        "providership": activity.providership,
        "measured_outcomes": json.dumps(activity.measured_outcomes),
        "credits-TOTAL_FORMS": "0",
        "credits-INITIAL_FORMS": "0",
        "moc-TOTAL_FORMS": "0",
        "moc-INITIAL_FORMS": "0",
        "joint_providers-TOTAL_FORMS": "0",
        "joint_providers-INITIAL_FORMS": "0",
        "commercial_supporters-TOTAL_FORMS": "0",
        "commercial_supporters-INITIAL_FORMS": "0",
        "sessions-TOTAL_FORMS": "0",
        "sessions-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_changelist_shows_only_own_providers_activities(as_staff_a, activity_a, activity_b):
    response = as_staff_a.get(reverse("admin:activities_activity_changelist"))
    assert response.status_code == 200
    assert activity_a.title in response.text
    assert activity_b.title not in response.text


def test_other_providers_change_delete_and_history_pages_are_404(as_staff_a, activity_b):
    url = change_url(activity_b)
    assert as_staff_a.get(url).status_code == 404
    assert as_staff_a.get(url.replace("/change/", "/delete/")).status_code == 404
    assert as_staff_a.get(url.replace("/change/", "/history/")).status_code == 404


def test_crafted_post_to_other_providers_activity_changes_nothing(as_staff_a, activity_b):
    response = as_staff_a.post(change_url(activity_b), activity_form(activity_b, title="Hijacked"))
    assert response.status_code == 404
    activity_b.refresh_from_db()
    assert activity_b.title == "Provider B activity"


def test_crafted_delete_post_is_404(as_staff_a, activity_b):
    response = as_staff_a.post(change_url(activity_b).replace("/change/", "/delete/"), {"post": "yes"})
    assert response.status_code == 404
    assert Activity.objects.filter(pk=activity_b.pk).exists()


@pytest.mark.parametrize("action", ["unpublish", "delete_selected"])
def test_actions_never_reach_other_providers_rows(as_staff_a, activity_a, activity_b, action):
    response = as_staff_a.post(
        reverse("admin:activities_activity_changelist"),
        {"action": action, "_selected_action": [activity_a.pk, activity_b.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    activity_b.refresh_from_db()
    assert activity_b.status == Activity.Status.PUBLISHED
    if action == "unpublish":
        activity_a.refresh_from_db()
        assert activity_a.status == Activity.Status.DRAFT


def test_unpublish_and_publish_actions_report_counts_and_audit(as_staff_a, activity_a):
    url = reverse("admin:activities_activity_changelist")
    response = as_staff_a.post(url, {"action": "unpublish", "_selected_action": [activity_a.pk]}, follow=True)
    assert "1 activity unpublished." in response.text
    response = as_staff_a.post(url, {"action": "publish", "_selected_action": [activity_a.pk]}, follow=True)
    assert "1 activity published." in response.text
    actions = list(AuditEntry.objects.filter(object_id=str(activity_a.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["activity.published", "activity.unpublished"]


def test_provider_choices_and_filters_offer_only_own_provider(as_staff_a, activity_a, activity_b):
    add = as_staff_a.get(reverse("admin:activities_activity_add"))
    assert add.status_code == 200
    choices = list(add.context["adminform"].form.fields["provider"].queryset)
    assert choices == [activity_a.provider]
    changelist = as_staff_a.get(reverse("admin:activities_activity_changelist"))
    assert "Provider B" not in changelist.text
    autocomplete = as_staff_a.get(
        reverse("admin:autocomplete"),
        {"app_label": "activities", "model_name": "activity", "field_name": "provider", "term": "Provider"},
    )
    assert [item["text"] for item in autocomplete.json()["results"]] == ["Provider A"]


def test_filtering_by_the_other_provider_lists_only_own_rows_unfiltered(as_staff_a, activity_a, activity_b):
    """Staff of one provider have no provider filter (a filter with one choice is not shown), and Django drops
    the parameter of a filter it does not show: the list stays their own, and claims no filter."""
    response = as_staff_a.get(CHANGELIST, {"provider__id__exact": activity_b.provider_id})
    assert listed(response) == [activity_a.title] == listed(as_staff_a.get(CHANGELIST))
    assert "1 activity" in response.text
    assert "By provider" not in response.text and "Clear all filters" not in response.text


def test_the_provider_filter_lists_that_providers_rows_for_staff_of_both(
    client, mixed_role, activity_a, activity_b
):
    """The control for the test above: where the filter is shown, the same parameter does filter."""
    client.force_login(mixed_role)
    assert sorted(listed(client.get(CHANGELIST))) == [activity_a.title, activity_b.title]
    response = client.get(CHANGELIST, {"provider__id__exact": activity_b.provider_id})
    assert listed(response) == [activity_b.title]
    assert "By provider" in response.text and "Clear all filters" in response.text


def test_add_for_other_provider_is_refused(as_staff_a, provider_b, activity_a):
    template = ActivityFactory.build(
        provider=provider_b, activity_link="https://b.example.com/new", slug="new-b"
    )
    response = as_staff_a.post(
        reverse("admin:activities_activity_add"), activity_form(template, title="Smuggled")
    )
    assert response.status_code == 200
    assert "provider" in response.context["adminform"].form.errors
    assert not Activity.objects.filter(title="Smuggled").exists()


def test_staff_edit_own_activity_with_inlines_and_the_audit_trail_records_it(as_staff_a, activity_a):
    designation = activity_a.credits.get()
    data = activity_form(
        activity_a,
        title="Renamed",
        **{
            "credits-TOTAL_FORMS": "2",
            "credits-INITIAL_FORMS": "1",
            "credits-0-id": designation.pk,
            "credits-0-activity": activity_a.pk,
            "credits-0-credit_type": "ama_pra_1",
            "credits-0-max_amount": "1.25",
            "credits-1-activity": activity_a.pk,
            "credits-1-credit_type": "nursing",
            "credits-1-max_amount": "1.25",
        },
    )
    response = as_staff_a.post(change_url(activity_a), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    activity_a.refresh_from_db()
    assert activity_a.title == "Renamed"
    assert dict(activity_a.credits.values_list("credit_type_id", "max_amount")) == {
        "ama_pra_1": pytest.approx(1.25),
        "nursing": pytest.approx(1.25),
    }
    entry = AuditEntry.objects.get(action="activity.changed")
    assert entry.actor.email == "staff-a@example.com" and entry.provider_id == activity_a.provider_id


def test_off_increment_ama_credit_is_refused_in_the_admin(as_staff_a, activity_a):
    designation = activity_a.credits.get()
    data = activity_form(
        activity_a,
        **{
            "credits-TOTAL_FORMS": "1",
            "credits-INITIAL_FORMS": "1",
            "credits-0-id": designation.pk,
            "credits-0-activity": activity_a.pk,
            "credits-0-credit_type": "ama_pra_1",
            "credits-0-max_amount": "1.30",
        },
    )
    response = as_staff_a.post(change_url(activity_a), data)
    assert response.status_code == 200
    assert "not a multiple of 0.25" in response.text
    assert CreditDesignation.objects.get(pk=designation.pk).max_amount == designation.max_amount


def test_viewer_reads_but_cannot_change(client, viewer_a, staff_a, activity_a):
    client.force_login(viewer_a)
    assert client.get(change_url(activity_a)).status_code == 200
    response = client.post(change_url(activity_a), activity_form(activity_a, title="Changed by viewer"))
    assert response.status_code == 403
    changelist = client.get(CHANGELIST)
    assert listed(changelist) == [activity_a.title]  # the viewer reads the list...
    assert "unpublish" not in changelist.text  # ...without the actions an editor has on it
    assert client.get(reverse("admin:activities_activity_import")).status_code == 403
    client.force_login(staff_a)
    assert '<option value="unpublish">' in client.get(CHANGELIST).text


def test_staff_cannot_edit_providers_credit_types_or_memberships(as_staff_a, provider_a, provider_b, staff_a):
    # Editors keep their provider's statements (tests/certificates/test_provider_statements.py), never its
    # name, slug or accreditations.
    assert as_staff_a.get(change_url(provider_a)).status_code == 200
    as_staff_a.post(
        change_url(provider_a), {"name": "Renamed", "slug": "renamed", "joint_accreditation": "on"}
    )
    provider_a.refresh_from_db()
    assert (provider_a.name, provider_a.slug, provider_a.joint_accreditation) == (
        "Provider A",
        "provider-a",
        False,
    )
    assert as_staff_a.get(change_url(provider_b)).status_code == 404
    providers = as_staff_a.get(reverse("admin:activities_provider_changelist"))
    assert "Provider A" in providers.text and "Provider B" not in providers.text
    assert as_staff_a.get(reverse("admin:activities_provider_add")).status_code == 403
    assert as_staff_a.get(reverse("admin:activities_membership_add")).status_code == 403
    membership = Membership.objects.get(user=staff_a)
    assert as_staff_a.post(change_url(membership), {"role": "editor"}).status_code == 403
    assert as_staff_a.get(reverse("admin:activities_credittype_add")).status_code == 403
    response = as_staff_a.post(
        reverse("admin:activities_credittype_change", args=["ama_pra_1"]), {"name": "x"}
    )
    assert response.status_code == 403
    assert as_staff_a.get(reverse("admin:portal_user_changelist")).status_code == 403


def test_staff_without_membership_sees_nothing(client, activity_a):
    loner = UserFactory(is_staff=True)
    client.force_login(loner)
    assert client.get(reverse("admin:activities_activity_changelist")).status_code == 403
    assert client.get(change_url(activity_a)).status_code in (403, 404)


def test_audit_entries_are_scoped(as_staff_a, activity_a, activity_b, accreditor, client):
    from portal import audit

    audit.record(
        actor=accreditor, action="activity.changed", obj=activity_a, provider_id=activity_a.provider_id
    )
    audit.record(
        actor=accreditor, action="activity.changed", obj=activity_b, provider_id=activity_b.provider_id
    )
    response = as_staff_a.get(reverse("admin:portal_auditentry_changelist"))
    assert "Provider A activity" in response.text and "Provider B activity" not in response.text


def test_accreditation_staff_see_and_manage_everything(client, accreditor, activity_a, activity_b):
    client.force_login(accreditor)
    changelist = client.get(reverse("admin:activities_activity_changelist"))
    assert activity_a.title in changelist.text and activity_b.title in changelist.text
    response = client.post(
        change_url(activity_b.provider),
        {
            "name": "Provider B Renamed",
            "slug": activity_b.provider.slug,
            "contact_hour_increment": "0.10",
            "accme_accredited": "on",
            "accme_statement": activity_b.provider.accme_statement,
        },
    )
    assert response.status_code == 302
    assert Provider.objects.filter(name="Provider B Renamed", contact_hour_increment=Decimal("0.10")).exists()
    assert client.get(reverse("admin:activities_membership_add")).status_code == 200


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def test_import_page_refuses_another_providers_listing(as_staff_a, seed_text, provider_a, seed_specialties):
    own = seed_text.replace(b"Provider:StatPearls, LLC", b"Provider:Provider A").replace(b"23719", b"1")
    response = as_staff_a.post(
        reverse("admin:activities_activity_import"),
        {"files": [upload("statpearls.txt", seed_text), upload("own.txt", own)]},
    )
    assert response.status_code == 200
    assert "statpearls.txt: Provider: StatPearls, LLC is not one of your providers" in response.text
    assert "2 files: 1 created, 0 updated, 0 unchanged, 1 failed" in response.text
    assert list(Activity.objects.values_list("provider__name", flat=True)) == ["Provider A"]
    assert not Provider.objects.filter(name="StatPearls, LLC").exists()


def test_import_page_for_accreditation_staff_creates_providers(client, accreditor, seed_text):
    client.force_login(accreditor)
    bad = seed_text.replace(b"Commercial Support: No", b"Commercial Support: Maybe").replace(b"23719", b"2")
    response = client.post(
        reverse("admin:activities_activity_import"),
        {"files": [upload("seed.txt", seed_text), upload("bad.txt", bad)]},
    )
    assert "bad.txt: Commercial Support: Maybe is not Yes or No" in response.text
    assert Activity.objects.get().provider.name == "StatPearls, LLC"
    changelist = client.get(reverse("admin:activities_activity_changelist"))
    assert "Import listings" in changelist.text


def test_needs_review_filter(client, accreditor, seed_text, provider_a):
    from activities.listing import parse_listing
    from activities.services import import_listing

    import_listing(listing=parse_listing(seed_text))
    ActivityFactory(provider=provider_a, title="Reviewed one")
    client.force_login(accreditor)
    response = client.get(reverse("admin:activities_activity_changelist"), {"needs_review__exact": "1"})
    assert "Chronic pain is a complex condition" in response.text
    assert "Reviewed one" not in response.text


def test_an_inline_claiming_a_million_forms_is_a_form_error_and_nothing_is_written(as_staff_a, activity_a):
    """Django would build max_num + 1000 forms for such a POST; the admin builds at most a hundred."""
    before = list(activity_a.credits.values())
    data = activity_form(activity_a, title="Renamed", **{"credits-TOTAL_FORMS": "1000000"})
    response = as_staff_a.post(change_url(activity_a), data)
    assert response.status_code == 200
    formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "credits")
    assert len(formset.formset.forms) <= 100
    assert "Please submit at most" in " ".join(formset.formset.non_form_errors())
    activity_a.refresh_from_db()
    assert activity_a.title != "Renamed"
    assert list(activity_a.credits.values()) == before
