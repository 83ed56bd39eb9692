"""A provider's accreditation statements: kept by its editors, and required before an activity is published.

By persona: the provider's editor (writes), its viewer (refused), the other provider's editor (404), the
mixed-role user (editor at A, viewer at B) writing to B (refused, nothing changed), accreditation staff
(anywhere).
"""

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.urls import reverse

from activities import services
from activities.models import Activity, Provider
from portal.models import AuditEntry
from tests.activities.test_admin import activity_form
from tests.factories import ActivityFactory, ProviderFactory
from tests.helpers import messages_of

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:activities_activity_changelist")
ANCC_MISSING = (
    "Needs nursing was not published: ANCC Nursing Contact Hours needs the provider's ANCC accreditation "
    "(or Joint Accreditation)."
)


def provider_url(provider) -> str:
    return reverse("admin:activities_provider_change", args=[provider.pk])


def draft(provider, title, credits):
    return ActivityFactory(provider=provider, title=title, credits=credits, status=Activity.Status.DRAFT)


def publish(client, *activities):
    return client.post(
        CHANGELIST, {"action": "publish", "_selected_action": [a.pk for a in activities]}, follow=True
    )


def status_of(activity) -> str:
    return Activity.objects.get(pk=activity.pk).status


# --- publishing --------------------------------------------------------------------------------------------


def test_editor_is_refused_publishing_without_the_statements_and_told_what_is_missing(
    client, staff_a, provider_a
):
    activity = draft(provider_a, "Needs nursing", {"ama_pra_1": "1.00", "nursing": "1.00"})
    client.force_login(staff_a)
    response = publish(client, activity)
    assert ANCC_MISSING in messages_of(response)
    assert "0 activities published." in messages_of(response)
    assert status_of(activity) == "draft"
    assert not AuditEntry.objects.filter(object_id=str(activity.pk), action="activity.published").exists()


def test_editor_publishes_once_the_provider_holds_what_it_needs(client, staff_a, provider_a):
    activity = draft(provider_a, "Needs nursing", {"ama_pra_1": "1.00", "nursing": "1.00"})
    Provider.objects.filter(pk=provider_a.pk).update(ancc_accredited=True)
    client.force_login(staff_a)
    assert "1 activity published." in messages_of(publish(client, activity))
    assert status_of(activity) == "published"


def test_viewer_cannot_publish(client, viewer_a, provider_a):
    activity = draft(provider_a, "Complete", {"ama_pra_1": "1.00"})
    client.force_login(viewer_a)
    response = client.post(CHANGELIST, {"action": "publish", "_selected_action": [activity.pk]})
    assert response.status_code in (200, 302, 403)
    assert status_of(activity) == "draft"


def test_the_other_providers_editor_cannot_publish(client, staff_b, provider_a):
    activity = draft(provider_a, "Complete", {"ama_pra_1": "1.00"})
    client.force_login(staff_b)
    publish(client, activity)
    assert status_of(activity) == "draft"
    assert client.get(reverse("admin:activities_activity_change", args=[activity.pk])).status_code == 404


def test_mixed_role_user_cannot_publish_at_the_provider_they_only_view(client, mixed_role, provider_b):
    activity = draft(provider_b, "B complete", {"ama_pra_1": "1.00"})
    client.force_login(mixed_role)
    publish(client, activity)
    assert status_of(activity) == "draft"
    assert not AuditEntry.objects.filter(object_id=str(activity.pk)).exists()


def test_accreditation_staff_publish_anywhere_and_the_rule_still_holds(client, accreditor, provider_b):
    complete = draft(provider_b, "B complete", {"ama_pra_1": "1.00"})
    lacking = draft(provider_b, "B IPCE", {"ipce": "1.00"})
    client.force_login(accreditor)
    messages = messages_of(publish(client, complete, lacking))
    assert "1 activity published." in messages
    assert (
        "B IPCE was not published: IPCE credit is awarded only by jointly accredited providers." in messages
    )
    assert (status_of(complete), status_of(lacking)) == ("published", "draft")


def test_the_change_form_does_not_publish(client, staff_a, provider_a):
    activity = draft(provider_a, "Needs nursing", {"nursing": "1.00"})
    client.force_login(staff_a)
    url = reverse("admin:activities_activity_change", args=[activity.pk])
    client.post(url, activity_form(activity, status="published", title="Renamed"))
    activity.refresh_from_db()
    assert (activity.title, activity.status) == ("Renamed", "draft")


@pytest.mark.parametrize(
    ("setup", "credits", "problem"),
    [
        ({}, {"ipce": "1.00"}, "IPCE credit is awarded only by jointly accredited providers"),
        ({"joint_accreditation": True}, {"ipce": "1.00"}, None),
        ({"joint_accreditation": True, "ja_statement": ""}, {"ama_pra_1": "1.00"}, "Joint Accreditation statement is empty"),
        ({"accme_accredited": False}, {"ama_pra_1": "1.00"}, "needs the provider's ACCME accreditation"),
        ({"accme_statement": "  "}, {"ama_pra_1": "1.00"}, "ACCME accreditation statement is empty"),
        ({"acpe_accredited": True}, {"pharmacy": "1.00"}, "Universal Activity Number (UAN)"),
        ({}, {"aapa": "1.00"}, "AAPA authorization or the AAPA reference number"),
        ({"aapa_authorized": True}, {"aapa": "1.00"}, None),
        ({"accme_accredited": False}, {"social_work": "1.00"}, None),
    ],
)  # fmt: skip
def test_what_each_credit_type_needs_before_publishing(provider_a, staff_a, setup, credits, problem):
    Provider.objects.filter(pk=provider_a.pk).update(**setup)
    activity = draft(Provider.objects.get(pk=provider_a.pk), "Checked", credits)
    report = services.set_published(
        activities=Activity.objects.filter(pk=activity.pk), published=True, actor=staff_a
    )
    if problem is None:
        assert (report.changed, report.refused) == (1, [])
    else:
        assert report.changed == 0
        ((refused, problems),) = report.refused
        assert refused == activity and any(problem in p for p in problems), problems
    assert status_of(activity) == ("published" if problem is None else "draft")


def test_a_jointly_provided_activity_names_its_partner_and_an_aapa_review_its_dates(provider_a, staff_a):
    joint = ActivityFactory(provider=provider_a, providership="joint", joint_provider="", status="draft")
    reviewed = draft(provider_a, "Reviewed", {"aapa": "1.00"})
    reviewed.credits.update(aapa_reference="CME-1", aapa_valid_from=date(2026, 1, 1))
    report = services.set_published(
        activities=Activity.objects.filter(pk__in=[joint.pk, reviewed.pk]), published=True, actor=staff_a
    )
    problems = {activity.pk: problems for activity, problems in report.refused}
    assert problems == {
        joint.pk: ["a jointly provided activity must name its joint provider"],
        reviewed.pk: ["an AAPA-reviewed designation needs its approval dates"],
    }


# --- the provider's statements -----------------------------------------------------------------------------


def statements_form(provider, **changes):
    data = {
        name: getattr(provider, name)
        for name in (
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
    }
    data.update(changes)
    return data


ANCC_EDITED = "{provider} is accredited as a provider of nursing continuing professional development by ANCC."


def test_editor_edits_their_providers_statements(client, staff_a, provider_a):
    client.force_login(staff_a)
    response = client.post(provider_url(provider_a), statements_form(provider_a, ancc_statement=ANCC_EDITED))
    assert response.status_code == 302
    provider_a.refresh_from_db()
    assert provider_a.ancc_statement == ANCC_EDITED
    assert (
        provider_a.name == "Provider A" and not provider_a.ancc_accredited
    )  # the accreditation is not theirs


def test_a_statement_with_an_unknown_placeholder_is_refused_by_field(client, staff_a, provider_a):
    client.force_login(staff_a)
    before = Provider.objects.get(pk=provider_a.pk).acpe_statement
    response = client.post(
        provider_url(provider_a),
        statements_form(provider_a, acpe_statement="{name} is accredited by ACPE.", address="New address"),
    )
    assert response.status_code == 200
    assert (
        "Only {provider} is filled in; remove {name}."
        in response.context["adminform"].form.errors["acpe_statement"]
    )
    provider_a.refresh_from_db()
    assert (provider_a.acpe_statement, provider_a.address) == (before, "")


def test_a_held_accreditation_needs_its_statement(client, staff_a, provider_a):
    client.force_login(staff_a)
    response = client.post(provider_url(provider_a), statements_form(provider_a, accme_statement=""))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["accme_statement"] == [
        "An accreditation the provider holds needs its statement."
    ]
    assert Provider.objects.get(pk=provider_a.pk).accme_statement.startswith("{provider} is accredited")


def test_viewer_cannot_edit_the_statements(client, viewer_a, provider_a):
    client.force_login(viewer_a)
    response = client.post(provider_url(provider_a), statements_form(provider_a, ancc_statement=ANCC_EDITED))
    assert response.status_code == 403
    assert Provider.objects.get(pk=provider_a.pk).ancc_statement != ANCC_EDITED


def test_the_other_providers_editor_gets_404(client, staff_b, provider_a):
    client.force_login(staff_b)
    assert client.get(provider_url(provider_a)).status_code == 404
    response = client.post(provider_url(provider_a), statements_form(provider_a, ancc_statement=ANCC_EDITED))
    assert response.status_code == 404
    assert Provider.objects.get(pk=provider_a.pk).ancc_statement != ANCC_EDITED


def test_mixed_role_user_cannot_edit_the_provider_they_only_view(client, mixed_role, provider_a, provider_b):
    client.force_login(mixed_role)
    before = {
        f.name: getattr(provider_b, f.name) for f in Provider._meta.concrete_fields if f.name != "modified"
    }
    response = client.post(provider_url(provider_b), statements_form(provider_b, ancc_statement=ANCC_EDITED))
    assert response.status_code == 403
    provider_b.refresh_from_db()
    assert {name: getattr(provider_b, name) for name in before} == before
    # and writes at A, where they are an editor
    assert (
        client.post(
            provider_url(provider_a), statements_form(provider_a, ancc_statement=ANCC_EDITED)
        ).status_code
        == 302
    )


def test_accreditation_staff_set_accreditations_and_statements_anywhere(client, accreditor, provider_b):
    client.force_login(accreditor)
    data = statements_form(
        provider_b, name="Provider B", slug="provider-b", joint_accreditation="on", accme_accredited="on"
    )
    response = client.post(provider_url(provider_b), data)
    assert response.status_code == 302
    provider_b.refresh_from_db()
    assert provider_b.joint_accreditation and provider_b.ja_statement.startswith("In support of improving")


# --- the old single statement, moved to the accreditation it names -----------------------------------------


def test_the_old_statement_moves_to_the_accreditation_it_names():
    migration = importlib.import_module("activities.migrations.0013_certificate_statements")
    ja = ProviderFactory(
        name="Metro Health CME",
        accme_accredited=False,
        accreditation_statement=(
            "In support of improving patient care, Metro Health CME is jointly accredited by the Accreditation "
            "Council for Continuing Medical Education (ACCME), the Accreditation Council for Pharmacy "
            "Education (ACPE), and the American Nurses Credentialing Center (ANCC), to provide continuing "
            "education for the healthcare team."
        ),
    )
    accme = ProviderFactory(
        name="Lakeside",
        accme_accredited=False,
        accreditation_statement="Lakeside is accredited by the ACCME to provide continuing medical education.",
    )
    state = ProviderFactory(
        name="County Society",
        accme_accredited=False,
        accreditation_statement="County Society is accredited by the Ohio State Medical Association.",
    )
    migration.split_statements(apps, None)
    ja, accme, state = (Provider.objects.get(pk=p.pk) for p in (ja, accme, state))
    assert ja.joint_accreditation and ja.ja_statement.startswith(
        "In support of improving patient care, {provider}"
    )
    assert ja.accreditation_statement == ""
    assert accme.accme_accredited and not accme.joint_accreditation
    assert (
        accme.accme_statement
        == "{provider} is accredited by the ACCME to provide continuing medical education."
    )
    assert (state.accreditation_statement, state.accme_accredited) == (
        "County Society is accredited by the Ohio State Medical Association.",
        False,
    )
