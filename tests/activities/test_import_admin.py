"""The admin's "Import listings" page, as provider staff and accreditation staff use it: what the report says,
and what the database then holds."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from activities.models import Activity, Specialty
from portal.models import AuditEntry
from tests.conftest import SEED
from tests.factories import SpecialtyFactory

pytestmark = pytest.mark.django_db

SEED_TEXT = SEED.read_text(encoding="utf-8")
SEED_SPECIALTIES = [
    "All Practice Areas (e.g. ethics)",
    "General Surgery",
    "Pain Medicine",
    "Surgery of the Spine",
]
IMPORT = "admin:activities_activity_import"


def listing(n: int, *, provider: str = "Provider A", **replace: str) -> bytes:
    """The seed as provider ``provider``'s listing number ``n``, with each ``old=new`` replacement."""
    text = SEED_TEXT.replace("Provider:StatPearls, LLC", f"Provider:{provider}").replace(
        "viewarticle/23719", f"viewarticle/{n}"
    )
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def upload(client, **files: bytes):
    return client.post(
        reverse(IMPORT),
        {
            "files": [
                SimpleUploadedFile(name, content, content_type="text/plain")
                for name, content in files.items()
            ]
        },
    )


@pytest.fixture
def catalog_specialties(db):
    """The seed's specialties, as accreditation staff keep them in the catalog."""
    return [SpecialtyFactory(name=name) for name in SEED_SPECIALTIES]


@pytest.fixture
def as_staff_a(client, staff_a, catalog_specialties):
    client.force_login(staff_a)
    return client


# --- titles that begin like a spreadsheet formula ------------------------------------------------------------


@pytest.mark.parametrize("title", ['=HYPERLINK("https://example.org","x")', "+1 day", "-5 mg", "@SUM(A1)"])
def test_provider_upload_with_a_formula_title_is_refused_and_the_good_file_lands(as_staff_a, title):
    bad = listing(1, **{"- Provider:": f"- Title:   {title}\n- Provider:"})

    response = upload(as_staff_a, **{"bad.txt": bad, "good.txt": listing(2)})

    assert (
        escape(f"bad.txt: Title: {title} begins with '{title[0]}': a title may not begin with")
        in response.text
    )
    assert "2 files: 1 created, 0 updated, 0 unchanged, 1 failed" in response.text
    assert list(Activity.objects.values_list("activity_link", flat=True)) == [
        "https://www.statpearls.com/ArticleLibrary/viewarticle/2"
    ]
    assert not Activity.objects.filter(title=title).exists()


def test_upload_re_titling_an_activity_with_a_formula_leaves_it_as_it_was(as_staff_a):
    upload(as_staff_a, **{"first.txt": listing(1, **{"- Provider:": "- Title: Intrathecal\n- Provider:"})})
    before = Activity.objects.get()

    response = upload(
        as_staff_a, **{"again.txt": listing(1, **{"- Provider:": "- Title: =Intrathecal\n- Provider:"})}
    )

    assert "again.txt: Title: =Intrathecal begins with" in response.text
    after = Activity.objects.get()
    assert (after.title, after.modified) == ("Intrathecal", before.modified)
    assert AuditEntry.objects.filter(action="activity.updated").count() == 0


def test_title_with_leading_spaces_before_an_ordinary_word_is_imported_without_them(as_staff_a):
    response = upload(
        as_staff_a, **{"own.txt": listing(1, **{"- Provider:": "- Title: \t  Intrathecal\n- Provider:"})}
    )

    assert "1 file: 1 created" in response.text
    assert Activity.objects.get().title == "Intrathecal"


@pytest.mark.parametrize("start", ["=HYPERLINK(1) ", "- ", "@@ + "])
def test_title_derived_from_a_summary_that_begins_like_a_formula_does_not(as_staff_a, start):
    response = upload(as_staff_a, **{"own.txt": listing(1, **{"Chronic pain is": f"{start}Chronic pain is"})})

    assert "1 file: 1 created" in response.text
    activity = Activity.objects.get()
    assert activity.title.startswith(("HYPERLINK(1) Chronic pain", "Chronic pain is a complex condition"))
    assert activity.needs_review is True
    assert activity.summary.startswith(start.strip())


# --- specialties are the catalog's, kept by accreditation staff ---------------------------------------------

UNKNOWN = "Underwater Medicine"


def with_unknown_specialty(n: int, provider: str = "Provider A") -> bytes:
    return listing(n, provider=provider, **{"Pain Medicine,": f"Pain Medicine, {UNKNOWN},"})


def test_provider_upload_naming_an_unknown_specialty_is_refused_and_adds_nothing(as_staff_a):
    specialties_before = set(Specialty.objects.values_list("name", flat=True))

    response = upload(as_staff_a, **{"own.txt": with_unknown_specialty(1)})

    assert (
        f"own.txt: Specialty: {UNKNOWN} is not one of the catalog&#x27;s specialties "
        "(accreditation staff may add specialties)"
    ) in response.text
    assert "1 file: 0 created, 0 updated, 0 unchanged, 1 failed" in response.text
    assert set(Specialty.objects.values_list("name", flat=True)) == specialties_before
    assert not Specialty.objects.filter(name__iexact=UNKNOWN).exists()
    assert not Activity.objects.exists()
    assert not AuditEntry.objects.filter(action="activity.imported").exists()


def test_provider_upload_with_an_unknown_specialty_still_imports_the_good_files(as_staff_a):
    response = upload(as_staff_a, **{"bad.txt": with_unknown_specialty(1), "good.txt": listing(2)})

    assert f"bad.txt: Specialty: {UNKNOWN} is not one of the catalog" in response.text
    assert "2 files: 1 created, 0 updated, 0 unchanged, 1 failed" in response.text
    activity = Activity.objects.get()
    assert activity.activity_link.endswith("/2")
    assert sorted(activity.specialties.values_list("name", flat=True)) == SEED_SPECIALTIES
    assert Specialty.objects.count() == len(SEED_SPECIALTIES)


def test_provider_upload_cannot_add_a_specialty_to_an_existing_activity(as_staff_a):
    upload(as_staff_a, **{"first.txt": listing(1)})

    response = upload(as_staff_a, **{"again.txt": with_unknown_specialty(1)})

    assert f"again.txt: Specialty: {UNKNOWN} is not one of the catalog" in response.text
    assert sorted(Activity.objects.get().specialties.values_list("name", flat=True)) == SEED_SPECIALTIES
    assert not Specialty.objects.filter(name=UNKNOWN).exists()


def test_provider_upload_matches_the_catalogs_specialties_in_any_case(as_staff_a):
    response = upload(as_staff_a, **{"own.txt": listing(1, **{"Pain Medicine": "PAIN medicine"})})

    assert "1 file: 1 created" in response.text
    assert "Pain Medicine" in Activity.objects.get().specialties.values_list("name", flat=True)
    assert Specialty.objects.count() == len(SEED_SPECIALTIES)


def test_accreditation_staff_upload_naming_a_new_specialty_adds_it(client, accreditor, catalog_specialties):
    client.force_login(accreditor)

    response = upload(client, **{"own.txt": with_unknown_specialty(1, provider="StatPearls, LLC")})

    assert "1 file: 1 created" in response.text
    specialty = Specialty.objects.get(name=UNKNOWN)
    assert specialty in Activity.objects.get().specialties.all()
    assert Specialty.objects.count() == len(SEED_SPECIALTIES) + 1


def test_accreditation_staff_upload_into_an_empty_catalog_adds_the_seeds_specialties(client, accreditor):
    client.force_login(accreditor)

    response = upload(client, **{"seed.txt": SEED.read_bytes()})

    assert "1 file: 1 created" in response.text
    assert sorted(Specialty.objects.values_list("name", flat=True)) == SEED_SPECIALTIES
