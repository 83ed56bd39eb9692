"""MOC approvals name a credit type the board awards (and whole points for ABP): in the model, the admin's
MOC inline by persona, and the listing import; and contact hours follow the provider's step at import."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from activities import demo_data, moc
from activities.models import Activity, CreditDesignation, MocApproval
from tests.activities.test_admin import activity_form
from tests.activities.test_import import run_command, variant
from tests.conftest import SEED

pytestmark = pytest.mark.django_db


def change_url(activity: Activity) -> str:
    return reverse("admin:activities_activity_change", args=[activity.pk])


def with_approval(activity: Activity, board: str, credit_type: str, points: str) -> dict:
    """The activity change form adding one MOC approval through the inline."""
    return activity_form(
        activity,
        **{
            "moc-TOTAL_FORMS": "1",
            "moc-INITIAL_FORMS": "0",
            "moc-0-board": board,
            "moc-0-credit_type": credit_type,
            "moc-0-points": points,
        },
    )


def approvals(activity: Activity) -> list[tuple[str, str, Decimal]]:
    return list(activity.moc.values_list("board", "credit_type", "points"))


def inline_error(response) -> str:
    """The errors Django's admin shows for the MOC inline's first form, as text."""
    formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "moc")
    return " ".join(str(e) for errors in formset.formset.forms[0].errors.values() for e in errors)


# The model


@pytest.mark.parametrize(
    ("board", "credit_type", "points", "field"),
    [
        ("ABIM", "lifelong_learning", "1.00", "credit_type"),
        ("ABA", "medical_knowledge", "1.00", "credit_type"),
        ("ABS", "patient_safety", "1.00", "credit_type"),
        ("ABP", "self_assessment", "1.00", "credit_type"),
        ("ABP", "lifelong_learning", "1.50", "points"),
    ],
)
def test_a_pair_the_board_does_not_award_is_refused_on_its_field(
    activity_a, board, credit_type, points, field
):
    approval = MocApproval(activity=activity_a, board=board, credit_type=credit_type, points=Decimal(points))

    with pytest.raises(ValidationError) as caught:
        approval.full_clean()

    assert list(caught.value.message_dict) == [field]


@pytest.mark.parametrize(
    ("board", "credit_type", "points"),
    [
        ("ABIM", "medical_knowledge", "1.25"),
        ("ABIM", "practice_assessment", "1.25"),
        ("ABIM", "patient_safety", "1.25"),
        ("ABA", "lifelong_learning", "1.25"),
        ("ABA", "patient_safety", "0.50"),
        ("ABS", "accredited_cme", "1.50"),
        ("ABS", "self_assessment", "1.50"),
        ("ABP", "lifelong_learning", "2.00"),
        ("ABFM", "improvement_in_medical_practice", "1.25"),  # a board not reported through PARS: any type
    ],
)
def test_a_pair_the_board_awards_is_accepted(activity_a, board, credit_type, points):
    MocApproval(
        activity=activity_a, board=board, credit_type=credit_type, points=Decimal(points)
    ).full_clean()


# The admin's MOC inline, by persona


def test_an_editor_adds_an_approval_the_board_awards(client, staff_a, activity_a):
    client.force_login(staff_a)

    response = client.post(
        change_url(activity_a), with_approval(activity_a, "ABIM", "medical_knowledge", "1.5")
    )

    assert response.status_code == 302
    assert approvals(activity_a) == [("ABIM", "medical_knowledge", Decimal("1.50"))]


def test_an_editor_is_told_which_types_the_board_awards_and_nothing_is_written(client, staff_a, activity_a):
    client.force_login(staff_a)
    before = Activity.objects.values().get(pk=activity_a.pk)

    response = client.post(
        change_url(activity_a), with_approval(activity_a, "ABIM", "lifelong_learning", "1.5")
    )

    assert response.status_code == 200  # the change form again, with the error
    assert inline_error(response) == (
        "ABIM does not award Lifelong Learning MOC points; it awards Medical Knowledge, Practice Assessment, "
        "Patient Safety."
    )
    assert approvals(activity_a) == []
    assert Activity.objects.values().get(pk=activity_a.pk) == before


def test_an_editor_is_refused_fractional_abp_points(client, staff_a, activity_a):
    client.force_login(staff_a)

    response = client.post(
        change_url(activity_a), with_approval(activity_a, "ABP", "lifelong_learning", "1.5")
    )

    assert response.status_code == 200
    assert "ABP MOC points are whole numbers" in inline_error(response)
    assert approvals(activity_a) == []


def test_the_inline_lists_the_credit_types_each_board_awards(client, staff_a, activity_a):
    client.force_login(staff_a)

    response = client.get(change_url(activity_a))

    assert "ABIM: Medical Knowledge, Practice Assessment, Patient Safety" in response.text
    assert "ABA: Lifelong Learning, Patient Safety" in response.text


def test_a_viewer_cannot_add_an_approval(client, viewer_a, activity_a):
    client.force_login(viewer_a)

    response = client.post(
        change_url(activity_a), with_approval(activity_a, "ABIM", "medical_knowledge", "1.5")
    )

    assert response.status_code == 403
    assert approvals(activity_a) == []


def test_another_providers_editor_gets_404(client, staff_b, activity_a):
    client.force_login(staff_b)

    response = client.post(
        change_url(activity_a), with_approval(activity_a, "ABIM", "medical_knowledge", "1.5")
    )

    assert response.status_code == 404
    assert approvals(activity_a) == []


@pytest.mark.parametrize("credit_type", ["medical_knowledge", "lifelong_learning"])
def test_the_mixed_role_user_cannot_write_to_the_provider_they_only_view(
    client, mixed_role, activity_b, credit_type
):
    client.force_login(mixed_role)
    before = Activity.objects.values().get(pk=activity_b.pk)

    response = client.post(change_url(activity_b), with_approval(activity_b, "ABIM", credit_type, "1.5"))

    assert response.status_code == 403
    assert approvals(activity_b) == []
    assert Activity.objects.values().get(pk=activity_b.pk) == before


def test_the_mixed_role_user_writes_to_the_provider_they_edit(client, mixed_role, activity_a):
    client.force_login(mixed_role)

    response = client.post(change_url(activity_a), with_approval(activity_a, "ABA", "patient_safety", "0.5"))

    assert response.status_code == 302
    assert approvals(activity_a) == [("ABA", "patient_safety", Decimal("0.50"))]


def test_accreditation_staff_add_approvals_anywhere_and_get_the_same_errors(client, accreditor, activity_b):
    client.force_login(accreditor)

    refused = client.post(change_url(activity_b), with_approval(activity_b, "ABS", "medical_knowledge", "1"))
    added = client.post(change_url(activity_b), with_approval(activity_b, "ABS", "self_assessment", "1"))

    assert refused.status_code == 200 and "ABS does not award Medical Knowledge" in inline_error(refused)
    assert added.status_code == 302
    assert approvals(activity_b) == [("ABS", "self_assessment", Decimal("1.00"))]


# The listing import


def test_the_seed_listing_still_imports_with_its_moc():
    code, _out = run_command(SEED)

    assert code == 0
    activity = Activity.objects.get()
    assert sorted(approvals(activity)) == [
        ("ABA", "lifelong_learning", Decimal("1.50")),
        ("ABOS", "accredited_cme", Decimal("1.50")),
        ("ABPATH", "lifelong_learning", Decimal("1.50")),
        ("ABS", "accredited_cme", Decimal("1.50")),
        ("ABS", "self_assessment", Decimal("1.50")),
    ]


def test_an_import_names_the_file_and_the_field_of_a_wrong_pair(tmp_path):
    bad = tmp_path / "wrong-pair.txt"
    bad.write_bytes(variant(SEED.read_bytes(), ("Lifelong Learning (ABA)", "Medical Knowledge (ABA)")))

    code, out = run_command(bad)

    assert code == 1
    assert (
        f"{bad}: MOC Credit Details: ABA does not award Medical Knowledge MOC points; it awards Lifelong "
        "Learning, Patient Safety."
    ) in out
    assert not Activity.objects.exists()


def test_an_import_refuses_fractional_abp_points(tmp_path):
    bad = tmp_path / "abp.txt"
    bad.write_bytes(
        variant(
            SEED.read_bytes(),
            (
                "ABA - 1.5 Point; Credit Type(s): Lifelong Learning (ABA)",
                "ABP - 1.5 Point; Credit Type(s): Lifelong Learning (ABP)",
            ),
        )
    )

    code, out = run_command(bad)

    assert code == 1
    assert f"{bad}: MOC Credit Details: ABP MOC points are whole numbers" in out
    assert not Activity.objects.exists()


def test_contact_hours_at_import_follow_the_providers_step(tmp_path, provider_a):
    provider_a.name = "StatPearls, LLC"
    provider_a.save()
    listing = tmp_path / "tenths.txt"
    listing.write_bytes(variant(SEED.read_bytes(), ("Nursing: 1.5 hours", "Nursing: 1.3 hours")))

    code, out = run_command(listing)

    assert code == 1
    assert f"{listing}: Credit Details: Nursing: 1.30 is not a multiple of 0.25, StatPearls, LLC's" in out
    assert not Activity.objects.exists()

    provider_a.contact_hour_increment = Decimal("0.10")
    provider_a.save()
    code, out = run_command(listing)

    assert code == 0
    assert CreditDesignation.objects.get(credit_type_id="nursing").max_amount == Decimal("1.30")


def test_demo_activities_carry_only_pairs_their_boards_award():
    found = [
        row for activity in demo_data.activities(400, seed=7, now=timezone.now()) for row in activity.moc
    ]

    assert found  # the demo has MOC approvals to check
    for board, credit_type, points in found:
        assert moc.approval_problem(board, credit_type, points) is None, (board, credit_type, points)


@pytest.mark.parametrize(("step", "written"), [("0.25", False), ("0.10", True)])
def test_a_new_activitys_contact_hours_follow_the_providers_step_in_the_admin(
    client, staff_a, activity_a, step, written
):
    activity_a.provider.contact_hour_increment = Decimal(step)
    activity_a.provider.save()
    client.force_login(staff_a)
    data = activity_form(
        activity_a,
        title="Wound care update",
        slug="wound-care-update",
        activity_link="https://example.org/wound-care",
        **{
            "credits-TOTAL_FORMS": "1",
            "credits-0-credit_type": "nursing",
            "credits-0-max_amount": "1.30",
        },
    )

    response = client.post(reverse("admin:activities_activity_add"), data)

    assert Activity.objects.filter(slug="wound-care-update").exists() is written
    if written:
        assert response.status_code == 302
        assert CreditDesignation.objects.get(activity__slug="wound-care-update").max_amount == Decimal("1.30")
    else:
        assert response.status_code == 200
        assert "is not a multiple of 0.25" in response.text
