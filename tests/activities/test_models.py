"""Rules the database refuses to break, and the model validation for the rest."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from activities.models import Activity, CreditDesignation, CreditType, MocApproval, Provider, Specialty
from tests.factories import ActivityFactory, utc

pytestmark = pytest.mark.django_db


def refused(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_every_listing_credit_type_is_installed_with_its_rules():
    codes = set(CreditType.objects.values_list("code", flat=True))
    assert codes == {
        "ama_pra_1", "ipce", "nursing", "pharmacy", "aapa", "social_work",
        "psychology", "dietetics", "physical_therapy", "optometry", "dental",
    }  # fmt: skip
    ama = CreditType.objects.get(code="ama_pra_1")
    assert ama.increment == Decimal("0.25")
    assert ama.may_be_claimed_by("physician") and not ama.may_be_claimed_by("nurse")
    assert CreditType.objects.get(code="nursing").may_be_claimed_by("nurse")
    assert CreditType.objects.get(code="ipce").may_be_claimed_by("pharmacist")
    statement = ama.statement(provider="StatPearls, LLC", amount=Decimal("1.50"), format="enduring material")
    assert statement.startswith(
        "StatPearls, LLC designates this enduring material for a maximum of 1.50 AMA PRA"
    )


def test_designation_statement_names_the_activity_format(activity_a):
    designation = activity_a.credits.get()
    assert "designates this enduring material for a maximum of 1.50" in designation.statement()


def test_activity_link_is_unique(activity_a):
    refused(lambda: ActivityFactory(provider=activity_a.provider, activity_link=activity_a.activity_link))


def test_end_before_start_is_refused_by_the_database(provider_a):
    refused(lambda: ActivityFactory(provider=provider_a, start=utc(2025, 1, 2), end=utc(2025, 1, 1)))


def test_fee_amount_only_for_fixed_fees(provider_a):
    refused(lambda: ActivityFactory(provider=provider_a, fee_kind="fixed", fee_amount=None))
    refused(lambda: ActivityFactory(provider=provider_a, fee_kind="free", fee_amount=Decimal("10")))
    refused(lambda: ActivityFactory(provider=provider_a, fee_kind="fixed", fee_amount=Decimal("0")))
    assert ActivityFactory(provider=provider_a, fee_kind="fixed", fee_amount=Decimal("25")).pk


def test_credit_amount_must_be_positive(activity_a):
    refused(
        lambda: CreditDesignation.objects.create(activity=activity_a, credit_type_id="nursing", max_amount=0)
    )
    refused(
        lambda: CreditDesignation.objects.create(activity=activity_a, credit_type_id="nursing", max_amount=-1)
    )


def test_one_designation_per_credit_type(activity_a):
    refused(
        lambda: CreditDesignation.objects.create(
            activity=activity_a, credit_type_id="ama_pra_1", max_amount=1
        )
    )


def test_one_moc_row_per_board_and_credit_type(activity_a):
    MocApproval.objects.create(activity=activity_a, board="ABIM", credit_type="medical_knowledge", points=1)
    MocApproval.objects.create(activity=activity_a, board="ABIM", credit_type="patient_safety", points=1)
    refused(
        lambda: MocApproval.objects.create(
            activity=activity_a, board="ABIM", credit_type="medical_knowledge", points=2
        )
    )
    refused(
        lambda: MocApproval.objects.create(
            activity=activity_a, board="ABP", credit_type="accredited_cme", points=0
        )
    )


def test_provider_and_specialty_names_are_unique_ignoring_case(db):
    Provider.objects.create(name="Acme CME", slug="acme")
    refused(lambda: Provider.objects.create(name="ACME cme", slug="acme-2"))
    Specialty.objects.create(name="Cardiology", slug="cardiology")
    refused(lambda: Specialty.objects.create(name="cardiology", slug="cardiology-2"))


def test_ama_credit_moves_in_quarter_steps(activity_a):
    designation = activity_a.credits.get()
    designation.max_amount = Decimal("1.30")
    with pytest.raises(ValidationError) as caught:
        designation.full_clean()
    assert "max_amount" in caught.value.message_dict
    designation.max_amount = Decimal("1.75")
    designation.full_clean()


def test_contact_hours_move_in_the_providers_step(activity_a):
    nursing = CreditDesignation(activity=activity_a, credit_type_id="nursing", max_amount=Decimal("1.30"))
    with pytest.raises(ValidationError) as caught:
        nursing.full_clean()  # quarter hours unless the provider says otherwise
    assert "max_amount" in caught.value.message_dict
    nursing.max_amount = Decimal("1.25")
    nursing.full_clean()
    activity_a.provider.contact_hour_increment = Decimal("0.10")
    activity_a.provider.save()
    nursing.max_amount = Decimal("1.30")
    nursing.full_clean()
    ama = activity_a.credits.get()  # the provider's step is for contact hours only
    ama.max_amount = Decimal("1.30")
    with pytest.raises(ValidationError):
        ama.full_clean()


def test_regularly_scheduled_series_covers_at_most_twelve_months(provider_a):
    series = Activity(
        provider=provider_a, activity_type="rss", start=utc(2025, 1, 31), end=utc(2026, 1, 31, 0, 0, 1)
    )
    with pytest.raises(ValidationError) as caught:
        series.clean()
    assert "12 months" in caught.value.message_dict["end"][0]
    series.end = utc(2026, 1, 31)
    series.clean()


def test_enduring_material_expires_within_three_years_of_release_or_review(provider_a):
    material = Activity(
        provider=provider_a, activity_type="enduring", start=utc(2023, 9, 1), end=utc(2026, 9, 2)
    )
    with pytest.raises(ValidationError) as caught:
        material.clean()
    assert "3 years" in caught.value.message_dict["end"][0]
    material.reviewed_on = date(2024, 3, 1)  # a content review restarts the clock
    material.clean()
    material.end = utc(2027, 3, 2)
    with pytest.raises(ValidationError):
        material.clean()


def test_live_course_may_span_more_than_a_year(provider_a):
    course = Activity(provider=provider_a, activity_type="course", start=utc(2025, 1, 1), end=utc(2027, 1, 1))
    course.clean()


def test_fixed_fee_needs_amount_and_direct_activities_have_no_joint_provider(provider_a):
    activity = Activity(
        provider=provider_a,
        activity_type="course",
        start=utc(2025, 1, 1),
        end=utc(2025, 1, 1) + timedelta(hours=2),
        fee_kind="fixed",
        joint_provider="Someone",
    )
    with pytest.raises(ValidationError) as caught:
        activity.clean()
    assert set(caught.value.message_dict) == {"fee_amount", "joint_provider"}
