"""The registry data staff keep on an activity in the admin: the PARS activity ID, joint providers, commercial
supporters with what each gave, the outcome measurement, and pharmacy's UANs and ACPE activity type. Each
is checked as typed (an error naming the field, nothing saved), and written only by an editor of the
activity's provider or accreditation staff."""

import html

import pytest
from django.urls import reverse

from activities.models import Activity, CommercialSupport, CreditDesignation, JointProvider
from tests.activities.test_admin import activity_form, change_url
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db

UAN_P = "0129-0000-26-001-L01-P"
UAN_T = "0129-0000-26-001-L01-T"


def registry_form(activity, *, joint=(), supporters=(), credits=(), **overrides):
    """The change form with the activity's joint providers, supporters and credit rows as given."""
    data = activity_form(activity, **overrides)
    data["joint_providers-TOTAL_FORMS"] = str(len(joint))
    for n, name in enumerate(joint):
        data[f"joint_providers-{n}-name"] = name
        data[f"joint_providers-{n}-position"] = str(n)
    data["commercial_supporters-TOTAL_FORMS"] = str(len(supporters))
    for n, (supporter, amount, in_kind) in enumerate(supporters):
        data[f"commercial_supporters-{n}-supporter"] = supporter
        data[f"commercial_supporters-{n}-monetary_amount"] = amount
        data[f"commercial_supporters-{n}-in_kind"] = in_kind
    data["credits-TOTAL_FORMS"] = str(len(credits))
    for n, row in enumerate(credits):
        for key, value in row.items():
            data[f"credits-{n}-{key}"] = value
    return data


def form_errors(response) -> str:
    """Every error the change form shows: the main form's and each inline's."""
    assert response.status_code == 200, response
    context = response.context
    parts = [str(context["adminform"].form.errors)]
    for formset in context["inline_admin_formsets"]:
        parts.append(str(formset.formset.non_form_errors()))
        parts.extend(str(form.errors) for form in formset.formset.forms)
    return html.unescape(" ".join(parts))


def registry_state(activity) -> tuple:
    activity.refresh_from_db()
    return (
        activity.accreditor_activity_id,
        activity.providership,
        activity.commercial_support,
        activity.outcome_measurement,
        list(activity.joint_providers.values_list("name", flat=True)),
        list(activity.commercial_supporters.values_list("supporter", "monetary_amount", "in_kind")),
        list(
            activity.credits.filter(credit_type="pharmacy").values_list(
                "credit_type", "activity_number", "technician_activity_number"
            )
        ),
    )


WRITE = {
    "providership": "joint",
    "commercial_support": "on",
    "accreditor_activity_id": "260001234",
    "outcome_measurement": "objective",
}


def full_write(activity):
    return registry_form(
        activity,
        joint=["Springfield Pain Society", "County Nurses"],
        supporters=[
            ("Acme Devices", "5000.00", "Demonstration pumps"),
            ("Beta Pharma", "", "Printed syllabus"),
        ],
        credits=[
            {
                "credit_type": "pharmacy",
                "max_amount": "1.50",
                "activity_number": UAN_P,
                "technician_activity_number": UAN_T,
                "acpe_activity_type": "knowledge",
            }
        ],
        **WRITE,
    )


# --- who may write ---------------------------------------------------------------------------------------


def test_an_editor_records_the_registry_data(as_staff_a, activity_a):
    response = as_staff_a.post(change_url(activity_a), full_write(activity_a))
    assert response.status_code == 302, form_errors(response)

    assert registry_state(activity_a) == (
        "260001234",
        "joint",
        True,
        "objective",
        ["Springfield Pain Society", "County Nurses"],
        [
            ("Acme Devices", pytest.approx(5000), "Demonstration pumps"),
            ("Beta Pharma", None, "Printed syllabus"),
        ],
        [("pharmacy", UAN_P, UAN_T)],
    )
    assert activity_a.joint_provider_names() == ["Springfield Pain Society", "County Nurses"]
    assert activity_a.credits.get(credit_type="pharmacy").acpe_activity_type == "knowledge"


def test_a_viewer_is_refused_and_nothing_changes(client, viewer_a, activity_a):
    before = registry_state(activity_a)
    client.force_login(viewer_a)
    assert client.post(change_url(activity_a), full_write(activity_a)).status_code == 403
    assert registry_state(activity_a) == before


def test_another_providers_editor_gets_404_and_nothing_changes(client, staff_b, activity_a):
    before = registry_state(activity_a)
    client.force_login(staff_b)
    assert client.post(change_url(activity_a), full_write(activity_a)).status_code == 404
    assert registry_state(activity_a) == before


def test_the_mixed_role_user_cannot_write_to_the_provider_they_only_view(client, mixed_role, activity_b):
    before = registry_state(activity_b)
    client.force_login(mixed_role)
    assert client.post(change_url(activity_b), full_write(activity_b)).status_code == 403
    assert registry_state(activity_b) == before
    assert not JointProvider.objects.exists() and not CommercialSupport.objects.exists()


def test_the_mixed_role_user_writes_where_they_edit(client, mixed_role, activity_a):
    client.force_login(mixed_role)
    assert client.post(change_url(activity_a), full_write(activity_a)).status_code == 302
    assert registry_state(activity_a)[4] == ["Springfield Pain Society", "County Nurses"]


def test_accreditation_staff_write_anywhere(client, accreditor, activity_b):
    client.force_login(accreditor)
    response = client.post(change_url(activity_b), full_write(activity_b))
    assert response.status_code == 302, form_errors(response)
    assert registry_state(activity_b)[0] == "260001234"


# --- what is refused, by field -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["26000123", "2600012345", "PARS-2026", "26000123x"])
def test_the_pars_activity_id_is_nine_digits(as_staff_a, activity_a, value):
    response = as_staff_a.post(
        change_url(activity_a), activity_form(activity_a, accreditor_activity_id=value)
    )
    assert "The PARS activity ID is the 9 digits ACCME issued." in str(
        response.context["adminform"].form.errors["accreditor_activity_id"]
    )
    assert Activity.objects.get(pk=activity_a.pk).accreditor_activity_id == ""


def test_a_jointly_provided_activity_names_a_joint_provider(as_staff_a, activity_a):
    response = as_staff_a.post(change_url(activity_a), registry_form(activity_a, providership="joint"))
    assert "A jointly provided activity names at least one joint provider." in form_errors(response)
    assert Activity.objects.get(pk=activity_a.pk).providership == "direct"

    response = as_staff_a.post(change_url(activity_a), registry_form(activity_a, joint=["Someone"]))
    assert "A directly provided activity has no joint providers." in form_errors(response)
    assert not JointProvider.objects.exists()


def test_commercial_support_and_its_supporters_agree(as_staff_a, activity_a):
    response = as_staff_a.post(change_url(activity_a), registry_form(activity_a, commercial_support="on"))
    assert "Commercial support is ticked: list each supporter" in form_errors(response)

    listed = registry_form(activity_a, supporters=[("Acme", "100", "")])
    assert "Supporters are listed: tick commercial support" in form_errors(
        as_staff_a.post(change_url(activity_a), listed)
    )

    nothing_given = registry_form(activity_a, commercial_support="on", supporters=[("Acme", "", "")])
    assert "Give the monetary amount, the in-kind support, or both." in form_errors(
        as_staff_a.post(change_url(activity_a), nothing_given)
    )
    assert registry_state(activity_a)[2:6:3] == (False, [])
    assert not CommercialSupport.objects.exists()


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"activity_number": ""}, "activity_number", "needs its ACPE Universal Activity Number"),
        ({"activity_number": "0129-26-001"}, "activity_number", "is not a Universal Activity Number"),
        ({"activity_number": "0129-0000-26-001-X01-P"}, "activity_number", "is not a Universal Activity"),
        ({"activity_number": "0129-0000-26-001-L01-Q"}, "activity_number", "is not a Universal Activity"),
        (
            {"technician_activity_number": UAN_P},
            "technician_activity_number",
            "The technicians' UAN ends in T.",
        ),
        (
            {"activity_number": UAN_T, "technician_activity_number": UAN_T},
            "activity_number",
            "this one is the P UAN",
        ),
        ({"acpe_activity_type": ""}, "acpe_activity_type", "needs its ACPE activity type"),
    ],
)
def test_pharmacy_credit_needs_a_valid_uan_and_activity_type(as_staff_a, activity_a, row, field, message):
    credit = {
        "credit_type": "pharmacy",
        "max_amount": "1.50",
        "activity_number": UAN_P,
        "acpe_activity_type": "application",
        **row,
    }
    response = as_staff_a.post(change_url(activity_a), registry_form(activity_a, credits=[credit]))
    credits = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "credits")
    assert message in " ".join(credits.formset.forms[0].errors[field])
    assert not CreditDesignation.objects.filter(activity=activity_a, credit_type="pharmacy").exists()


def test_the_uans_provider_part_is_the_providers_acpe_number(as_staff_a, activity_a, provider_a):
    provider_a.acpe_provider_number = "0421"
    provider_a.save()
    credit = {"credit_type": "pharmacy", "max_amount": "1.50", "activity_number": UAN_P}
    credit["acpe_activity_type"] = "knowledge"
    response = as_staff_a.post(change_url(activity_a), registry_form(activity_a, credits=[credit]))
    assert "provider number 0129 is not the provider's ACPE number 0421" in form_errors(response)

    credit["activity_number"] = "0421-0000-26-001-L01-P"
    assert (
        as_staff_a.post(change_url(activity_a), registry_form(activity_a, credits=[credit])).status_code
        == 302
    )
    assert activity_a.credits.get(credit_type="pharmacy").activity_number == "0421-0000-26-001-L01-P"


def test_a_jointly_accredited_providers_uan_starts_with_ja(as_staff_a, activity_a, provider_a):
    provider_a.acpe_provider_number = "JA0000421"
    provider_a.save()
    credit = {
        "credit_type": "pharmacy",
        "max_amount": "1.50",
        "activity_number": "ja0000421-9999-26-101-b08-p ",  # typed in lower case, with a space
        "acpe_activity_type": "certificate_program",
    }
    response = as_staff_a.post(change_url(activity_a), registry_form(activity_a, credits=[credit]))
    assert response.status_code == 302, form_errors(response)
    assert activity_a.credits.get(credit_type="pharmacy").activity_number == "JA0000421-9999-26-101-B08-P"


def test_the_provider_opts_into_state_board_reporting_by_accreditation_staff(
    client, accreditor, staff_a, provider_a
):
    url = reverse("admin:activities_provider_change", args=[provider_a.pk])
    data = {
        "name": provider_a.name,
        "slug": provider_a.slug,
        "contact_hour_increment": provider_a.contact_hour_increment,
        "accme_accredited": "on",
        "accme_statement": provider_a.accme_statement,
        "state_board_reporting": "on",
    }
    client.force_login(staff_a)
    # The provider's editors keep its statements and contact details; taking part is set with the ACCME.
    client.post(url, data)
    provider_a.refresh_from_db()
    assert provider_a.state_board_reporting is False  # off unless the provider takes part
    client.force_login(accreditor)
    assert client.post(url, data).status_code == 302
    provider_a.refresh_from_db()
    assert provider_a.state_board_reporting is True


# --- joint providers from listings and from the old text field ------------------------------------------


def test_importing_a_jointly_provided_listing_adds_its_joint_provider_once(db):
    from activities.listing import parse_listing
    from activities.services import import_listing
    from tests.activities.test_listing import with_field

    text = with_field("Provider Ship", "Jointly Provided by Acme Medical Society")
    activity = import_listing(listing=parse_listing(text)).activity
    import_listing(listing=parse_listing(text))  # again: nothing added twice

    assert activity.joint_provider_names() == ["Acme Medical Society"]
    assert activity.joint_provider == "Acme Medical Society"


def test_the_migration_moves_each_joint_provider_name_into_a_row(provider_a):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("activities.migrations.0013_registry_fields")
    joint = ActivityFactory(
        provider=provider_a, providership="joint", joint_provider=" Springfield Society ", joint_providers=[]
    )
    ActivityFactory(provider=provider_a)

    migration.joint_providers_from_text(apps, None)

    assert list(JointProvider.objects.values_list("activity", "name", "position")) == [
        (joint.pk, "Springfield Society", 0)
    ]
