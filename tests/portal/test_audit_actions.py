"""Audit actions are the members of ``AuditAction``: the code names them (no strings built at the call site),
``record`` refuses any other, every member is recorded by something, and the admin shows their labels.

The call sites are read from the source, so an audit call added later is checked here too."""

import ast
import html
import pathlib
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from activities import services as activity_services
from activities.models import Activity
from portal import audit
from portal.admin import ProviderScopedAdmin
from portal.audit import AuditAction
from portal.models import AuditEntry
from tests.factories import UserFactory

ROOT = pathlib.Path(__file__).resolve().parents[2]
APPS = ("activities", "assessments", "attendance", "learners", "portal")
ADMIN_VERBS = {"add": "added", "change": "changed", "delete": "deleted"}


def app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def _assigned(function: ast.AST, name: str) -> list[ast.expr]:
    return [
        node.value
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]


def _alternatives(expression: ast.expr, function: ast.AST) -> list[ast.expr]:
    """The expressions ``expression`` may stand for: both arms of a conditional, a local's assigned values."""
    if isinstance(expression, ast.IfExp):
        return _alternatives(expression.body, function) + _alternatives(expression.orelse, function)
    if isinstance(expression, ast.Name) and (values := _assigned(function, expression.id)):
        return [alt for value in values for alt in _alternatives(value, function)]
    return [expression]


def recorded_actions() -> list[tuple[str, ast.expr]]:
    """``(where, expression)`` for each action passed to ``audit.record`` or ``audit.record_many``."""
    found = []
    for path, tree in app_modules():
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for function in functions:
            for call in ast.walk(function):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "audit"
                    and call.func.attr in {"record", "record_many"}
                ):
                    continue
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                arguments = {k.arg: k.value for k in call.keywords}
                if call.func.attr == "record":
                    actions = [arguments["action"]]
                else:
                    entries = arguments["entries"]
                    items = entries.elts if isinstance(entries, ast.List) else [entries.elt]  # type: ignore[attr-defined]
                    actions = [item.elts[0] for item in items]  # type: ignore[attr-defined]
                found += [(where, alt) for action in actions for alt in _alternatives(action, function)]
    return found


def member_named(expression: ast.expr) -> str | None:
    """``X`` for ``AuditAction.X`` or ``audit.AuditAction.X``."""
    if isinstance(expression, ast.Attribute):
        owner = expression.value
        if (isinstance(owner, ast.Name) and owner.id == "AuditAction") or (
            isinstance(owner, ast.Attribute) and owner.attr == "AuditAction"
        ):
            return expression.attr
    return None


def is_admin_lookup(expression: ast.expr) -> bool:
    """``AuditAction.of_admin(...)``: the admin's lookup, which refuses a model without its members."""
    return isinstance(expression, ast.Call) and member_named(expression.func) == "of_admin"


def admin_actions() -> set[AuditAction]:
    """What the admin may record: for each provider-scoped model admin, each of add, change and delete that
    it grants a superuser."""
    request = RequestFactory().get("/admin/")
    request.user = UserFactory.build(is_staff=True, is_superuser=True)
    granted = set()
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, ProviderScopedAdmin):
            continue
        for permission, verb in ADMIN_VERBS.items():
            if getattr(model_admin, f"has_{permission}_permission")(request):
                granted.add(AuditAction(f"{model._meta.model_name}.{verb}"))
    return granted


def test_the_code_names_every_action_it_records_from_the_enum():
    actions = recorded_actions()
    assert len(actions) >= 20  # the reader finds the call sites
    unnamed = [
        f"{where}: {ast.unparse(expression)}"
        for where, expression in actions
        if member_named(expression) is None and not is_admin_lookup(expression)
    ]
    assert unnamed == []
    unknown = [name for _, e in actions if (name := member_named(e)) and name not in AuditAction.__members__]
    assert unknown == []


def test_every_action_in_the_enum_is_recorded_by_something():
    named = {member_named(e) for _, e in recorded_actions()}
    recorded = {AuditAction[name] for name in named if name} | admin_actions()
    assert set(AuditAction) - recorded == set()


def test_the_admin_records_an_action_of_the_enum_for_every_change_it_allows():
    # admin_actions() raises ValueError for a model admin whose add, change or delete has no member.
    assert {
        AuditAction.ACTIVITY_ADDED,
        AuditAction.ACTIVITY_CHANGED,
        AuditAction.ACTIVITY_DELETED,
        AuditAction.CERTIFICATE_CHANGED,
    } <= admin_actions()
    assert AuditAction.of_admin(Activity, "changed") == AuditAction.ACTIVITY_CHANGED
    with pytest.raises(ValueError):
        AuditAction.of_admin(AuditEntry, "deleted")


@pytest.mark.django_db
def test_record_refuses_an_unknown_action_and_writes_nothing(activity_a, staff_a):
    with pytest.raises(ValueError, match=r"'activity\.renamed' is not an audit action"):
        audit.record(actor=staff_a, action="activity.renamed", obj=activity_a)
    with pytest.raises(ValueError, match="not an audit action"):
        audit.record_many(
            actor=staff_a,
            entries=[
                (AuditAction.ACTIVITY_PUBLISHED, activity_a, activity_a.provider_id, {}),
                ("activity.archived", activity_a, activity_a.provider_id, {}),
            ],
        )
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_record_takes_a_member_or_its_value(activity_a, staff_a):
    audit.record(actor=staff_a, action=AuditAction.ACTIVITY_PUBLISHED, obj=activity_a)
    audit.record(actor=staff_a, action="activity.unpublished", obj=activity_a)
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "activity.published",
        "activity.unpublished",
    ]


@pytest.mark.django_db
def test_actor_of_a_request_is_its_signed_in_user_or_none(staff_a):
    request = RequestFactory().get("/")
    request.user = staff_a
    assert audit.actor_of(request) == staff_a
    request.user = AnonymousUser()
    assert audit.actor_of(request) is None
    assert audit.actor_of(RequestFactory().get("/")) is None  # no authentication middleware ran


@pytest.mark.django_db
def test_the_audit_list_shows_and_filters_by_human_labels(client, accreditor, activity_a, activity_b):
    activity_services.set_published(
        activities=Activity.objects.filter(pk=activity_a.pk), published=False, actor=accreditor
    )
    audit.record(actor=accreditor, action=AuditAction.ACTIVITY_CHANGED, obj=activity_b)
    client.force_login(accreditor)
    url = reverse("admin:portal_auditentry_changelist")

    page = html.unescape(client.get(url).content.decode())
    filter_links = dict(re.findall(r'<a href="\?action__exact=([^"&]+)"[^>]*>([^<]+)</a>', page))
    assert filter_links == {action.value: action.label for action in AuditAction}
    assert re.findall(r'<td class="field-action">([^<]+)</td>', page) == [
        "Activity changed in the admin",
        "Activity unpublished",
    ]

    filtered = html.unescape(client.get(url, {"action__exact": "activity.unpublished"}).content.decode())
    assert re.findall(r'<td class="field-action">([^<]+)</td>', filtered) == ["Activity unpublished"]
