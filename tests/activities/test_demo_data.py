from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import models

from activities.models import Activity, CreditDesignation, MocApproval, Provider

pytestmark = pytest.mark.django_db


def snapshot():
    return sorted(
        Activity.objects.values_list(
            "title", "activity_link", "activity_type", "format", "fee_kind", "provider__name", "status"
        )
    ), sorted(
        CreditDesignation.objects.values_list("activity__activity_link", "credit_type_id", "max_amount")
    )


def test_generated_catalog_is_realistic_and_reproducible_for_a_seed():
    out = StringIO()
    call_command("generate_demo_data", activities=300, seed=3, stdout=out)
    assert "Generated 300 activities" in out.getvalue()
    first = snapshot()
    activities = Activity.objects.all()
    assert activities.count() == 300
    assert activities.filter(status=Activity.Status.PUBLISHED).count() == 300
    assert Provider.objects.count() >= 25
    assert len({a.activity_type for a in activities}) >= 10 and len({a.format for a in activities}) == 4
    assert activities.filter(credits__credit_type="ama_pra_1").distinct().count() > 200
    assert MocApproval.objects.exists()
    assert all(a.specialties.exists() for a in activities[:50])
    assert {a.end >= a.start for a in activities} == {True}
    for activity in activities.filter(activity_type__in=["rss", "enduring", "internet_enduring"])[:50]:
        activity.clean()  # within the accreditation rules (series within 12 months, expiry within 3 years)

    out = StringIO()
    call_command("generate_demo_data", activities=300, seed=3, stdout=out)  # already there: nothing to do
    assert "already there" in out.getvalue()
    assert Activity.objects.count() == 300 and snapshot() == first

    call_command("generate_demo_data", activities=300, seed=4, stdout=StringIO())  # another seed adds
    assert Activity.objects.count() == 600
    call_command("generate_demo_data", activities=100, seed=4, stdout=StringIO())  # another count replaces
    assert Activity.objects.count() == 400
    call_command("generate_demo_data", activities=300, seed=4, stdout=StringIO())
    assert Activity.objects.count() == 600
    seed_four = sorted(
        Activity.objects.filter(activity_link__contains="/4/").values_list("title", "activity_type", "format")
    )
    call_command("generate_demo_data", activities=299, seed=4, stdout=StringIO())
    call_command("generate_demo_data", activities=300, seed=4, stdout=StringIO())  # regenerated: the same
    assert seed_four == sorted(
        Activity.objects.filter(activity_link__contains="/4/").values_list("title", "activity_type", "format")
    )


def test_activities_learners_enrolled_in_are_kept():
    from learners.models import Enrollment
    from tests.factories import UserFactory

    call_command("generate_demo_data", activities=20, seed=7, stdout=StringIO())
    Enrollment.objects.create(learner=UserFactory(), activity=Activity.objects.first())
    with pytest.raises(CommandError, match="Learners are enrolled"):
        call_command("generate_demo_data", activities=10, seed=7, stdout=StringIO())
    assert Activity.objects.count() == 20


def test_generated_activities_are_searchable():
    call_command("generate_demo_data", activities=200, seed=9, stdout=StringIO())
    from activities.filters import CatalogFilter
    from activities.selectors import catalog_search

    filterset = CatalogFilter({"q": "diabetes", "include_past": "1"})
    assert filterset.is_valid()
    page = catalog_search(params=filterset.form.cleaned_data, load=lambda ids: ids)
    expected = Activity.objects.filter(title__icontains="diabetes").count()
    assert expected and page.total >= expected


def test_count_must_be_positive():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("generate_demo_data", activities=0)


def test_the_bulk_copy_names_every_column_that_has_no_database_default():
    """PostgreSQL's COPY leaves out no column quietly: one the command does not name is NULL, and a NOT NULL
    column added later would break ``generate_demo_data`` on PostgreSQL only."""
    from activities.management.commands.generate_demo_data import ACTIVITY_COLUMNS, DESIGNATION_COLUMNS

    def required(model) -> set[str]:
        return {
            field.column
            for field in model._meta.concrete_fields
            if not field.null and not field.primary_key and field.db_default is models.NOT_PROVIDED
        }

    assert required(Activity) - set(ACTIVITY_COLUMNS) == set()
    assert required(CreditDesignation) - set(DESIGNATION_COLUMNS) == set()
