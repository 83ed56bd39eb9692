from io import StringIO

import pytest
from django.core.management import CommandError, call_command

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

    call_command("generate_demo_data", activities=300, seed=3, stdout=StringIO())  # the same seed replaces
    assert Activity.objects.count() == 300
    assert snapshot()[1] == first[1]
    assert [row[:6] for row in snapshot()[0]] == [row[:6] for row in first[0]]

    call_command("generate_demo_data", activities=50, seed=4, stdout=StringIO())  # another seed adds
    assert Activity.objects.count() == 350


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
