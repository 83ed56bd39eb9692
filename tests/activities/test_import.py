"""The import service and the import_activities command, against the database."""

import dataclasses
import subprocess
import sys
from decimal import Decimal

import pytest
from django.core.management import call_command

from activities.listing import parse_listing
from activities.models import Activity, CreditDesignation, MocApproval, Provider, Specialty
from activities.services import ListingError, import_listing, import_listings
from portal.models import AuditEntry
from tests.conftest import ROOT, SEED
from tests.factories import SpecialtyFactory

pytestmark = pytest.mark.django_db


def variant(seed: bytes, *pairs: tuple[str, str]) -> bytes:
    text = seed.decode("utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def run_command(*paths, **kwargs) -> tuple[int, str]:
    """Run import_activities in-process; return (exit code, stdout)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("import_activities", *map(str, paths), stdout=out, **kwargs)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


def counts():
    return (
        Activity.objects.count(),
        CreditDesignation.objects.count(),
        MocApproval.objects.count(),
        Activity.specialties.through.objects.count(),
        Provider.objects.count(),
    )


def test_seed_imports_as_a_published_activity_flagged_for_review(seed_text):
    result = import_listing(listing=parse_listing(seed_text), source="seed.txt")

    activity = Activity.objects.get()
    assert result.status == "created" and result.activity == activity
    assert activity.status == Activity.Status.PUBLISHED
    assert activity.needs_review is True  # the title was derived from the summary
    assert activity.provider.name == "StatPearls, LLC"
    assert activity.end.year == 2026 and activity.end.month == 9  # release + 3 years
    assert {(d.credit_type_id, d.max_amount) for d in activity.credits.all()} == {
        ("ipce", Decimal("1.50")),
        ("ama_pra_1", Decimal("1.50")),
        ("nursing", Decimal("1.50")),
        ("pharmacy", Decimal("1.50")),
    }
    assert activity.moc.count() == 5
    assert sorted(activity.specialties.values_list("name", flat=True)) == [
        "All Practice Areas (e.g. ethics)",
        "General Surgery",
        "Pain Medicine",
        "Surgery of the Spine",
    ]
    assert activity.measured_outcomes == ["learner_knowledge", "learner_competence"]
    assert activity.slug.startswith("chronic-pain-is-a-complex-condition")
    entry = AuditEntry.objects.get()
    assert entry.action == "activity.imported" and entry.provider == activity.provider


def test_reimport_is_idempotent(seed_text):
    import_listing(listing=parse_listing(seed_text))
    before = counts()
    modified = Activity.objects.get().modified

    result = import_listing(listing=parse_listing(seed_text))

    assert result.status == "unchanged"
    assert counts() == before
    assert Activity.objects.get().modified == modified
    assert AuditEntry.objects.count() == 1  # nothing changed, nothing audited


def test_updated_listing_updates_in_place(seed_text):
    import_listing(listing=parse_listing(seed_text))
    original = Activity.objects.get()
    changed = variant(
        seed_text,
        ("Nursing: 1.5 hours\n", ""),
        ("AMA PRA Category 1 Credit™️: 1.5 hours", "AMA PRA Category 1 Credit™️: 1.25 hours\nDental: 2 hours"),
        ("ABA - 1.5 Point; Credit Type(s): Lifelong Learning (ABA)\n", ""),
        ("Surgery of the Spine", "Neurology"),
        ("Fee to Participate: Variable", "Fee to Participate: $40"),
        ("- Provider:StatPearls, LLC", "- Title: Intrathecal Drug Delivery\n- Provider:StatPearls, LLC"),
    )

    result = import_listing(listing=parse_listing(changed))

    activity = Activity.objects.get()
    assert result.status == "updated"
    assert activity.pk == original.pk and activity.slug == original.slug
    assert activity.title == "Intrathecal Drug Delivery"
    assert activity.fee_kind == "fixed" and activity.fee_amount == Decimal("40.00")
    assert {(d.credit_type_id, d.max_amount) for d in activity.credits.all()} == {
        ("ipce", Decimal("1.50")),
        ("ama_pra_1", Decimal("1.25")),
        ("pharmacy", Decimal("1.50")),
        ("dental", Decimal("2.00")),
    }
    assert not activity.moc.filter(board="ABA").exists() and activity.moc.count() == 4
    assert "Neurology" in activity.specialties.values_list("name", flat=True)
    assert "Surgery of the Spine" not in activity.specialties.values_list("name", flat=True)
    assert "fee_amount" in result.changes
    assert AuditEntry.objects.filter(action="activity.updated", object_id=str(activity.pk)).exists()


def test_derived_title_does_not_overwrite_a_corrected_title(seed_text):
    import_listing(listing=parse_listing(seed_text))
    Activity.objects.update(title="Intrathecal Drug Delivery Systems", needs_review=False)

    import_listing(
        listing=parse_listing(variant(seed_text, ("Registration: Open to all", "Registration: Limited")))
    )

    activity = Activity.objects.get()
    assert activity.title == "Intrathecal Drug Delivery Systems" and activity.needs_review is False
    assert activity.registration == "limited"


def test_reimport_keeps_an_unpublished_activity_unpublished(seed_text):
    import_listing(listing=parse_listing(seed_text))
    Activity.objects.update(status=Activity.Status.DRAFT)
    import_listing(
        listing=parse_listing(
            variant(seed_text, ("Fee to Participate: Variable", "Fee to Participate: Free"))
        )
    )
    assert Activity.objects.get().status == Activity.Status.DRAFT


def test_provider_matched_case_insensitively(seed_text):
    Provider.objects.create(name="STATPEARLS, LLC", slug="statpearls")
    import_listing(listing=parse_listing(seed_text))
    assert Provider.objects.count() == 1
    assert Activity.objects.get().provider.slug == "statpearls"


def test_scoped_import_refuses_another_providers_listing(seed_text, provider_a):
    with pytest.raises(ListingError) as caught:
        import_listing(listing=parse_listing(seed_text), provider_ids=frozenset({provider_a.pk}))
    assert caught.value.errors[0].field == "Provider"
    assert counts()[:4] == (0, 0, 0, 0)
    assert not Provider.objects.filter(name="StatPearls, LLC").exists()  # and no provider was created


def test_link_of_another_providers_activity_is_refused(seed_text, provider_a):
    import_listing(listing=parse_listing(seed_text))
    hijack = variant(seed_text, ("- Provider:StatPearls, LLC", "- Provider:Provider A"))

    with pytest.raises(ListingError) as caught:
        import_listing(listing=parse_listing(hijack))

    assert caught.value.errors[0].field == "Activity Link"
    assert Activity.objects.get().provider.name == "StatPearls, LLC"


def test_a_failing_file_leaves_nothing_and_good_files_still_import(tmp_path, seed_text, provider_a):
    good = tmp_path / "good.txt"
    good.write_bytes(seed_text)
    second = tmp_path / "nested" / "second.txt"
    second.parent.mkdir()
    second.write_bytes(
        variant(
            seed_text, ("viewarticle/23719", "viewarticle/1"), ("Provider:StatPearls, LLC", "Provider:New Co")
        )
    )
    bad = tmp_path / "bad.txt"
    bad.write_bytes(
        variant(
            seed_text,
            ("viewarticle/23719", "viewarticle/2"),
            ("Provider:StatPearls, LLC", "Provider:Never Created Inc"),
            ("End Date: 2023-09-01 05:00:00", "End Date: 2023-13-45 05:00:00"),
        )
    )
    (tmp_path / "ignored.md").write_text("not a listing")

    code, out = run_command(tmp_path)

    assert code == 1
    assert f"{bad}: End Date: 2023-13-45 05:00:00 is not a date" in out
    assert "3 files: 2 created, 0 updated, 0 unchanged, 1 failed" in out
    assert Activity.objects.count() == 2
    assert not Provider.objects.filter(name="Never Created Inc").exists()
    assert Provider.objects.filter(name="New Co").exists()


def test_database_failure_in_one_file_rolls_back_only_that_file(seed_text, monkeypatch):
    """A file that fails in the database (here: its slug is taken) leaves no rows; its neighbours land."""
    from activities import services

    sources = []
    for n in range(5):
        sources.append((f"{n}.txt", variant(seed_text, ("viewarticle/23719", f"viewarticle/{n}"))))
    taken = services._slug(parse_listing(sources[2][1]).title, parse_listing(sources[2][1]).activity_link)
    other = Provider.objects.create(name="Other", slug="other")
    Activity.objects.create(
        provider=other,
        title="Squatter",
        slug=taken,
        summary="-",
        activity_link="https://other.example.com/1",
        activity_type="course",
        format="in_person",
        start="2024-01-01T00:00:00Z",
        end="2024-01-01T00:00:00Z",
    )

    report = import_listings(sources=sources, chunk_size=5)

    assert [r.status for r in report.results] == ["created", "created", "failed", "created", "created"]
    assert report.results[2].errors[0].field == "File"
    assert Activity.objects.filter(provider__name="StatPearls, LLC").count() == 4
    assert CreditDesignation.objects.count() == 16 and MocApproval.objects.count() == 20


def test_same_link_twice_in_one_run_ends_with_the_later_file(seed_text):
    later = variant(seed_text, ("Fee to Participate: Variable", "Fee to Participate: Free"))
    report = import_listings(sources=[("a.txt", seed_text), ("b.txt", later)])
    assert [r.status for r in report.results] == ["created", "updated"]
    assert Activity.objects.get().fee_kind == "free"


def test_warnings_are_printed_and_do_not_fail(tmp_path, seed_text):
    path = tmp_path / "warn.txt"
    path.write_bytes(variant(seed_text, ("- Registration:", "- Audience: clinicians\n- Registration:")))
    code, out = run_command(path)
    assert code == 0
    assert f"{path}: warning: Audience: unknown field, ignored" in out
    assert Activity.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "File: is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "File: is not a text file"),
        (b"\xff\xfe\xfa not utf-8", "File: is not UTF-8 text"),
        (b"just a sentence with no fields", "Provider: is required"),
    ],
)
def test_hostile_files_are_reported_without_a_traceback(tmp_path, content, message):
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    code, out = run_command(path)
    assert code == 1
    assert f"{path}: {message}" in out
    assert "Traceback" not in out


def test_missing_path_is_reported(tmp_path):
    code, out = run_command(tmp_path / "nope.txt")
    assert code == 1 and f"{tmp_path / 'nope.txt'}: File: does not exist" in out


def test_command_exits_zero_and_prints_the_summary_for_the_seed():
    code, out = run_command(SEED)
    assert code == 0
    assert "1 file: 1 created, 0 updated, 0 unchanged, 0 failed" in out


def test_command_in_a_fresh_process_reports_failures_on_stdout_and_exit_status(tmp_path):
    """The real command line: exit status 1 and no traceback for a bad file, in its own process."""
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01")
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "manage.py", "import_activities", str(bad), "--no-progress"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert f"{bad}: File: is not a text file" in done.stdout
    assert "Traceback" not in done.stderr


def test_new_specialties_are_created_once(seed_text):
    import_listings(
        sources=[
            (
                f"{n}.txt",
                variant(
                    seed_text, ("viewarticle/23719", f"viewarticle/{n}"), ("Pain Medicine", "Pain medicine")
                ),
            )
            for n in range(3)
        ]
    )
    assert Specialty.objects.filter(name__iexact="pain medicine").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_imports_of_the_same_new_listing_make_one_activity(seed_text):
    import threading

    from django.db import connection

    barrier = threading.Barrier(4)
    statuses = []

    def run():
        try:
            barrier.wait()
            report = import_listings(sources=[("seed.txt", seed_text)])
            statuses.extend(r.status for r in report.results)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == ["created", "unchanged", "unchanged", "unchanged"]
    assert Activity.objects.count() == 1 and CreditDesignation.objects.count() == 4
    assert Provider.objects.filter(name="StatPearls, LLC").count() == 1


def test_progress_bar_shows_on_a_terminal_for_many_files(tmp_path, seed_text):
    """Run the command on a pseudo-terminal, as a person at a shell would, and look for the bar."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    for n in range(25):
        (tmp_path / f"{n:02d}.txt").write_bytes(variant(seed_text, ("viewarticle/23719", f"viewarticle/{n}")))
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, timeout=120, check=False
    )
    assert migrate.returncode == 0
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_activities", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=120) == 0
    text = output.decode("utf-8", "replace")
    assert "100%" in text and "25/25" in text
    assert "25 files: 25 created" in text


# --- titles that begin like a spreadsheet formula ------------------------------------------------------------


@pytest.mark.parametrize("title", ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "\tIndented", "\rReturn"])
def test_a_listing_whose_title_begins_like_a_formula_is_never_written(seed_text, title):
    """The parser refuses such titles; a ``Listing`` built some other way is refused by the service too."""
    listing = dataclasses.replace(parse_listing(seed_text), title=title, title_derived=False)

    with pytest.raises(ListingError) as caught:
        import_listing(listing=listing)

    assert [error.field for error in caught.value.errors] == ["Title"]
    assert counts() == (0, 0, 0, 0, 0)


def test_a_formula_title_in_a_batch_fails_only_its_file(seed_text):
    bad = variant(
        seed_text, ("viewarticle/23719", "viewarticle/1"), ("- Provider:", "- Title: =1+1\n- Provider:")
    )

    report = import_listings(sources=[("bad.txt", bad), ("good.txt", seed_text)])

    assert [(r.source, r.status) for r in report.results] == [("bad.txt", "failed"), ("good.txt", "created")]
    assert "bad.txt: Title: =1+1 begins with '='" in "\n".join(report.lines())
    assert Activity.objects.get().activity_link.endswith("/23719")


# --- specialties: provider imports use the catalog's, accreditation staff and the command may add -----------

SEED_SPECIALTIES = [
    "All Practice Areas (e.g. ethics)",
    "General Surgery",
    "Pain Medicine",
    "Surgery of the Spine",
]


@pytest.fixture
def catalog_specialties(db):
    return [SpecialtyFactory(name=name) for name in SEED_SPECIALTIES]


def own_listing(seed_text: bytes, n: int, *extra: tuple[str, str]) -> bytes:
    return variant(
        seed_text,
        ("viewarticle/23719", f"viewarticle/{n}"),
        ("Provider:StatPearls, LLC", "Provider:Provider A"),
        *extra,
    )


def test_scoped_import_refuses_an_unknown_specialty_by_name(seed_text, provider_a, catalog_specialties):
    unknown = own_listing(
        seed_text, 1, ("Pain Medicine,", "Pain Medicine, Wilderness Medicine, Space Medicine,")
    )

    with pytest.raises(ListingError) as caught:
        import_listing(listing=parse_listing(unknown), provider_ids=frozenset({provider_a.pk}))

    assert [(e.field, e.message) for e in caught.value.errors] == [
        (
            "Specialty",
            f"{name} is not one of the catalog's specialties (accreditation staff may add specialties)",
        )
        for name in ["Wilderness Medicine", "Space Medicine"]
    ]
    assert counts()[:4] == (0, 0, 0, 0)
    assert sorted(Specialty.objects.values_list("name", flat=True)) == SEED_SPECIALTIES


def test_scoped_import_of_many_files_refuses_only_those_with_unknown_specialties(
    seed_text, provider_a, catalog_specialties
):
    sources = [(f"{n}.txt", own_listing(seed_text, n)) for n in range(6)]
    sources[2] = ("2.txt", own_listing(seed_text, 2, ("Pain Medicine", "Wilderness Medicine")))
    sources[4] = (
        "4.txt",
        own_listing(seed_text, 4, ("Pain Medicine", "pain MEDICINE")),
    )  # known, in any case

    report = import_listings(sources=sources, provider_ids=frozenset({provider_a.pk}), chunk_size=4)

    assert {r.source: r.status for r in report.results} == {
        "0.txt": "created",
        "1.txt": "created",
        "2.txt": "failed",
        "3.txt": "created",
        "4.txt": "created",
        "5.txt": "created",
    }
    assert "2.txt: Specialty: Wilderness Medicine is not one of the catalog's specialties" in "\n".join(
        report.lines()
    )
    assert Activity.objects.count() == 5
    assert not Activity.objects.filter(activity_link__endswith="/2").exists()
    assert sorted(Specialty.objects.values_list("name", flat=True)) == SEED_SPECIALTIES


def test_refusing_a_file_for_its_specialty_or_provider_keeps_the_chunk_in_bulk(
    seed_text, provider_a, catalog_specialties
):
    """The refused files are set aside before writing: the rest of the chunk costs what it would alone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    scope = frozenset({provider_a.pk})
    with CaptureQueriesContext(connection) as alone:
        import_listings(
            sources=[(f"{n}.txt", own_listing(seed_text, n)) for n in range(10)], provider_ids=scope
        )
    sources = [(f"{n}.txt", own_listing(seed_text, n)) for n in range(10, 20)]
    sources += [
        ("unknown.txt", own_listing(seed_text, 98, ("Pain Medicine", "Wilderness Medicine"))),
        ("statpearls.txt", variant(seed_text, ("viewarticle/23719", "viewarticle/99"))),
    ]
    with CaptureQueriesContext(connection) as mixed:
        report = import_listings(sources=sources, provider_ids=scope)

    assert report.count("created") == 10 and report.failed == 2
    assert len(mixed.captured_queries) == len(alone.captured_queries)
    statpearls = next(r for r in report.results if r.source == "statpearls.txt")
    assert [e.field for e in statpearls.errors] == ["Provider"]  # the seed's specialties are all known


def test_unscoped_import_creates_a_new_specialty(seed_text, catalog_specialties):
    import_listing(listing=parse_listing(variant(seed_text, ("Pain Medicine", "Wilderness Medicine"))))

    assert Specialty.objects.filter(name="Wilderness Medicine").exists()
    assert "Wilderness Medicine" in Activity.objects.get().specialties.values_list("name", flat=True)


def test_command_on_an_empty_catalog_creates_the_seeds_specialties():
    code, out = run_command(SEED)

    assert code == 0, out
    assert sorted(Specialty.objects.values_list("name", flat=True)) == SEED_SPECIALTIES
    assert sorted(Activity.objects.get().specialties.values_list("name", flat=True)) == SEED_SPECIALTIES
