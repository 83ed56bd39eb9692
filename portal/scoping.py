"""Who sees what: accreditation staff and superusers see every provider; provider staff see their own."""

from django.apps import apps

ACCREDITATION_STAFF_GROUP = "Accreditation staff"


def sees_everything(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_sees_everything", None)
    if cached is None:
        cached = user.is_staff and user.groups.filter(name=ACCREDITATION_STAFF_GROUP).exists()
        user._sees_everything = cached
    return cached


def provider_roles(user) -> dict[int, str]:
    """``{provider_id: role}`` for the user's staff memberships (cached on the user object)."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return {}
    cached = getattr(user, "_provider_roles", None)
    if cached is None:
        membership = apps.get_model("activities", "Membership")
        cached = dict(membership.objects.filter(user=user).values_list("provider_id", "role"))
        user._provider_roles = cached
    return cached


def provider_ids(user) -> frozenset[int]:
    return frozenset(provider_roles(user))


def editable_provider_ids(user) -> frozenset[int]:
    editor = apps.get_model("activities", "Membership").Role.EDITOR
    return frozenset(pid for pid, role in provider_roles(user).items() if role == editor)
