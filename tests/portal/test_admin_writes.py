"""Every admin write needs the editor role at the object's own provider, and no admin URL reaches an object
outside the user's providers.

The world: providers A and B, each with an activity that learners completed through the services (claims,
certificates, certificate emails, ledger rows ready, exported and rejected, an export batch). The personas:
the mixed-role user (editor at A, viewer at B), and staff of A with no role at B. The tests walk the admin
site's registry, so a model admin or an action added later is covered, or fails here until it is.
"""

import datetime

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import reverse

from activities.models import Activity, Membership, Provider, Session, SessionCredit
from assessments.models import Assessment
from attendance.models import Attendance, Invitation
from learners.models import (
    Certificate,
    CreditClaim,
    Destination,
    Enrollment,
    ExportBatch,
    OutboxMessage,
    ReportingEntry,
)
from learners.services import certificates, enroll
from learners.services.reporting import exports, ledger
from portal.admin import ProviderScopedAdmin, provider_path
from portal.models import AuditEntry
from tests.factories import ActivityFactory, MembershipFactory, UserFactory, make_assessment
from tests.helpers import attempt, complete, make_learner, page_text

pytestmark = pytest.mark.django_db


class World:
    """One provider's share of the world."""

    def __init__(self, provider, capture, accreditor):
        self.provider = provider
        provider.accme_provider_id = f"{provider.pk:07d}"  # registry files quote it
        provider.save(update_fields=["accme_provider_id"])
        MembershipFactory(provider=provider, role=Membership.Role.VIEWER)
        self.activity = ActivityFactory(
            provider=provider,
            title=f"{provider.name} activity",
            accreditor_activity_id=f"{provider.pk:09d}",
            credits={"ama_pra_1": "1.50"},
            moc=[("ABIM", "medical_knowledge", "1.50")],
        )
        self.session = Session.objects.create(
            activity=self.activity,
            start=self.activity.start,
            end=self.activity.start + datetime.timedelta(hours=1),
            venue=f"{provider.name} hall",
        )
        SessionCredit.objects.create(session=self.session, credit_type_id="ama_pra_1", hours="1.50")
        learners = [
            make_learner(
                first_name=name,
                last_name=provider.name.split()[-1],
                birth_month=7,
                birth_day=14,
                board_ids=[("ABIM", f"ABIM-{provider.pk}{index}")],
                consent=True,
            )
            for index, name in enumerate(["Exported", "Rejected", "Ready"])
        ]
        enrollments = [complete(learner, self.activity, moc_boards=["ABIM"]) for learner in learners]
        with capture(execute=True):
            self.certificates = [certificates.issue_certificate(enrollment=e) for e in enrollments]
        for learner in learners[:2]:
            exports.export_entries(
                entries=ReportingEntry.objects.filter(learner=learner),
                destination=Destination.ACCREDITOR,
                by=accreditor,
                description="earlier export",
                provider=provider,
            )
        ledger.settle_entries(
            entries=ReportingEntry.objects.filter(learner=learners[1]),
            accepted=False,
            reason="Board ID unknown",
            by=accreditor,
        )
        # Attendance and an invitation, for the attendance admin.
        Attendance.objects.create(
            session=self.session,
            enrollment=enrollments[0],
            checked_in_at=self.session.start,
            source=Attendance.Source.STAFF,
            recorded_by=accreditor,
            reason="Signed the sheet",
        )
        invitation = Invitation.objects.create(
            activity=self.activity,
            email=f"invited@{provider.slug}.example.com",
            invited_by=accreditor,
            reason="Sheet",
        )
        invitation.sessions.add(self.session)
        self.rows = ReportingEntry.objects.filter(activity=self.activity)
        assert {row.state for row in self.rows} == {"exported", "rejected", "ready"}
        # Made after the claims, so it gates none of them; a post-test, for the admin's actions on it.
        self.assessment = make_assessment(self.activity, "post_test", questions=2, required_for="nothing")
        taking, _created = enroll(learner=make_learner(first_name="Taking"), activity=self.activity)
        attempt(taking, self.assessment, right=1)

    def objects_of(self, model):
        """This provider's objects of ``model`` (every scoped model admin's model has some)."""
        path = provider_path(model)
        return model._default_manager.filter(
            **{path: self.provider.pk} if path == "pk" else {path: self.provider}
        )

    def snapshot(self) -> dict:
        """Everything of this provider that an admin write could change."""
        models = [
            Provider,
            Membership,
            Activity,
            Enrollment,
            CreditClaim,
            Certificate,
            OutboxMessage,
            Assessment,
            Session,
            SessionCredit,
            Attendance,
            Invitation,
        ]
        state = {
            model.__name__: sorted(
                (tuple(sorted(model_to_dict(obj).items(), key=str)) for obj in self.objects_of(model)),
                key=str,
            )
            for model in models
        }
        state["ReportingEntry"] = sorted(self.rows.values_list("pk", "state", "reason", "batch_id"))
        state["ExportBatch"] = sorted(self.objects_of(ExportBatch).values_list("pk", flat=True))
        state["certificate versions"] = sorted(
            Certificate.objects.filter(enrollment__activity=self.activity).values_list(
                "versions__pk", flat=True
            )
        )
        return state


@pytest.fixture
def worlds(provider_a, provider_b, accreditor, django_capture_on_commit_callbacks, mailoutbox):
    return (
        World(provider_a, django_capture_on_commit_callbacks, accreditor),
        World(provider_b, django_capture_on_commit_callbacks, accreditor),
    )


def scoped_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ProviderScopedAdmin)
    ]


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def as_user(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def run_action(client, model, name, objects):
    """Run action ``name`` on ``objects`` as far as a user can: confirmed, with a reason where one is asked."""
    return client.post(
        changelist(model),
        {
            "action": name,
            "_selected_action": [obj.pk for obj in objects],
            "confirm": "yes",
            "post": "yes",  # delete_selected's confirmation
            "reason": "Not yours",
        },
        follow=True,
    )


def test_every_action_of_every_admin_leaves_the_viewed_providers_objects_alone(client, mixed_role, worlds):
    _world_a, world_b = worlds
    client.force_login(mixed_role)
    tried = []
    for model, model_admin in scoped_admins():
        for name in model_admin.get_actions(as_user(mixed_role)):
            before = world_b.snapshot()
            response = run_action(client, model, name, world_b.objects_of(model))
            assert response.status_code == 200, (model, name)
            assert world_b.snapshot() == before, f"{model.__name__} action {name} changed provider B's data"
            assert "not yours to change" in page_text(response).lower(), (model, name)
            tried.append(f"{model.__name__}.{name}")
    # The actions that write are all reached (a rename or a lost permission would skip them silently).
    assert {
        "Activity.publish",
        "Activity.unpublish",
        "Activity.delete_selected",
        "Certificate.revoke",
        "Certificate.reissue",
        "Certificate.resend",
        "ReportingEntry.mark_accepted",
        "ReportingEntry.mark_rejected",
        "ReportingEntry.requeue",
    } <= set(tried)


@pytest.mark.parametrize(
    ("model", "action", "changed"),
    [
        (Activity, "unpublish", lambda w: Activity.objects.get(pk=w.activity.pk).status == "draft"),
        (Activity, "delete_selected", lambda w: not Activity.objects.filter(pk=w.activity.pk).exists()),
        (
            Certificate,
            "revoke",
            lambda w: Certificate.objects.filter(pk=w.certificates[0].pk).get().is_revoked,
        ),
        (ReportingEntry, "requeue", lambda w: not w.rows.filter(state="rejected").exists()),
        (ReportingEntry, "mark_rejected", lambda w: not w.rows.filter(state="exported").exists()),
    ],
)
def test_the_same_action_still_changes_the_providers_where_the_user_edits(
    client, mixed_role, worlds, model, action, changed
):
    world_a, world_b = worlds
    client.force_login(mixed_role)
    selected = {
        Activity: [world_a.activity, world_b.activity],
        Certificate: [world_a.certificates[0], world_b.certificates[0]],
        ReportingEntry: [*world_a.rows, *world_b.rows],
    }[model]
    if action == "delete_selected":
        # Learners' records keep an activity from being deleted: delete a fresh one of each provider.
        selected = [ActivityFactory(provider=world_a.provider), ActivityFactory(provider=world_b.provider)]
        world_a.activity, world_b.activity = selected
    before = world_b.snapshot()
    response = run_action(client, model, action, selected)
    assert changed(world_a)
    assert world_b.snapshot() == before
    text = page_text(response)
    theirs = [obj for obj in selected if obj in world_b.objects_of(model)]
    assert f"{len(theirs)} selected item" in text
    assert "not yours to change and" in text
    assert all(str(obj) in text for obj in theirs)


def test_an_actions_preview_names_what_is_not_yours_to_change(client, mixed_role, worlds):
    world_a, world_b = worlds
    client.force_login(mixed_role)
    a, b = world_a.certificates[0], world_b.certificates[0]
    response = client.post(changelist(Certificate), {"action": "revoke", "_selected_action": [a.pk, b.pk]})
    text = page_text(response)
    assert "1 certificate would be affected" in text
    assert "Not yours to change 1 selected item belongs to a provider where you only view" in text
    will = text.split("Would be affected")[1].split("Not yours to change")[0]
    assert a.code in will and b.code not in will
    assert str(b) in text.split("Not yours to change")[1]


def test_bulk_delete_preview_names_what_is_not_yours(client, mixed_role, provider_a, provider_b):
    mine, theirs = ActivityFactory(provider=provider_a), ActivityFactory(provider=provider_b, title="B's own")
    client.force_login(mixed_role)
    response = client.post(
        changelist(Activity), {"action": "delete_selected", "_selected_action": [mine.pk, theirs.pk]}
    )
    text = page_text(response)
    assert "Not yours to change" in text and "B's own" in text
    assert Activity.objects.filter(pk=theirs.pk).exists()


def test_change_and_delete_forms_of_the_viewed_provider_are_read_only(client, mixed_role, worlds):
    _world_a, world_b = worlds
    client.force_login(mixed_role)
    before = world_b.snapshot()
    for model, _model_admin in scoped_admins():
        obj = world_b.objects_of(model).first()
        assert obj is not None, f"no object of provider B for {model.__name__}: add one to World"
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        page = client.get(url)
        assert page.status_code == 200, model  # a viewer reads...
        assert 'name="_save"' not in page.text, model  # ...without a save button
        assert client.post(url, {"title": "Hijacked", "name": "Hijacked"}).status_code == 403, model
        delete = url.replace("/change/", "/delete/")
        assert client.post(delete, {"post": "yes"}).status_code == 403, model
    assert world_b.snapshot() == before


def test_adding_an_activity_for_the_viewed_provider_is_refused(client, mixed_role, provider_b):
    client.force_login(mixed_role)
    response = client.post(
        reverse("admin:activities_activity_add"),
        {
            "provider": provider_b.pk,
            "title": "Planted",
            "slug": "planted",
            "activity_link": "https://x.example",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in page_text(response)
    assert not Activity.objects.filter(title="Planted").exists()


def test_exporting_takes_only_rows_of_providers_the_user_edits(client, mixed_role, worlds):
    world_a, world_b = worlds
    client.force_login(mixed_role)
    before = world_b.snapshot()
    response = client.post(
        reverse("admin:learners_reportingentry_export"), {"custom": "1", "destination": "accreditor"}
    )
    assert response.status_code == 200
    batch = ExportBatch.objects.get(made_by=mixed_role)  # one file, of provider A's rows only
    assert batch.provider == world_a.provider
    assert f"{batch.filename} (Provider A): {batch.row_count} row" in page_text(response)
    assert not world_a.rows.filter(state="ready").exists()
    assert world_b.snapshot() == before


def test_a_returned_file_naming_the_viewed_providers_rows_changes_nothing(client, mixed_role, worlds):
    _world_a, world_b = worlds
    client.force_login(mixed_role)
    before = world_b.snapshot()
    lines = "".join(f"{row.pk},accepted,\r\n" for row in world_b.rows)
    upload = SimpleUploadedFile("returned.csv", f"row_id,status,reason\r\n{lines}".encode())
    response = client.post(reverse("admin:learners_reportingentry_returned"), {"file": upload})
    assert "0 accepted, 0 rejected, 3 lines not applied" in page_text(response)
    assert world_b.snapshot() == before


def test_importing_a_listing_for_the_viewed_provider_is_refused(
    client, mixed_role, provider_b, seed_text, seed_specialties
):
    client.force_login(mixed_role)
    listing = seed_text.replace(b"- Provider:StatPearls, LLC", f"- Provider:{provider_b.name}".encode())
    upload = SimpleUploadedFile("b.txt", listing)
    response = client.post(reverse("admin:activities_activity_import"), {"files": [upload]})
    assert response.status_code == 200
    assert f"b.txt: Provider: {provider_b.name} is not one of your providers" in page_text(response)
    assert "1 failed" in page_text(response)
    assert not Activity.objects.filter(provider=provider_b).exists()


# --- no admin URL resolves another provider's object --------------------------------------------------


def object_urls(model_admin, obj) -> list[str]:
    """Every URL of ``model_admin`` that takes an object id, for ``obj``."""
    urls = []
    for pattern in model_admin.get_urls():
        if "object_id" in pattern.pattern.converters and pattern.name:
            urls.append(reverse(f"admin:{pattern.name}", kwargs={"object_id": str(obj.pk)}))
    return urls


def test_every_object_url_of_every_admin_is_404_for_another_providers_object(client, staff_a, worlds):
    _world_a, world_b = worlds
    client.force_login(staff_a)
    checked = set()
    for model, model_admin in scoped_admins():
        obj = world_b.objects_of(model).first()
        assert obj is not None, f"no object of provider B for {model.__name__}: add one to World"
        for url in object_urls(model_admin, obj):
            assert client.get(url).status_code == 404, url
            checked.add(url.rsplit("/", 2)[-2])
    assert {"change", "delete", "history", "download"} <= checked


def test_view_on_site_reaches_only_objects_in_the_users_scope(client, staff_a, mixed_role, worlds):
    world_a, world_b = worlds
    pairs = [
        (world_a.activity, world_b.activity),
        (world_a.certificates[0], world_b.certificates[0]),
    ]
    for mine, theirs in pairs:
        content_type = ContentType.objects.get_for_model(mine)
        client.force_login(staff_a)
        assert client.get(reverse("admin:view_on_site", args=[content_type.pk, theirs.pk])).status_code == 404
        assert client.get(reverse("admin:view_on_site", args=[content_type.pk, "²"])).status_code == 404
        response = client.get(reverse("admin:view_on_site", args=[content_type.pk, mine.pk]))
        assert response.status_code == 302 and response.url.endswith(mine.get_absolute_url())
        client.force_login(mixed_role)  # a viewer at B may open B's public page
        assert client.get(reverse("admin:view_on_site", args=[content_type.pk, theirs.pk])).status_code == 302
    # Models without a model admin (a certificate's versions) are for accreditation staff only.
    version = world_b.certificates[0].versions.get()
    content_type = ContentType.objects.get_for_model(version)
    client.force_login(staff_a)
    assert client.get(reverse("admin:view_on_site", args=[content_type.pk, version.pk])).status_code == 404


def test_audit_entries_of_another_provider_are_out_of_reach(client, staff_a, worlds):
    _world_a, world_b = worlds
    entry = AuditEntry.objects.filter(provider=world_b.provider).first()
    assert entry is not None
    client.force_login(staff_a)
    assert client.get(reverse("admin:portal_auditentry_change", args=[entry.pk])).status_code == 404


def test_a_user_with_no_provider_role_reaches_no_admin_object(client, worlds):
    outsider = UserFactory(is_staff=True)
    client.force_login(outsider)
    for model, _model_admin in scoped_admins():
        obj = worlds[1].objects_of(model).first()
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code in (403, 404), url
