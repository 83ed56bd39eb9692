"""Writing audit entries. Call inside the transaction that makes the change.

Actions are ``AuditAction`` members; ``record`` and ``record_many`` refuse any other. A view or an admin
passes ``actor_of(request)`` as the service's ``actor`` or ``by``."""

from collections.abc import Iterable
from typing import TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from portal.models import AuditAction, AuditEntry, User

__all__ = ["Actor", "AuditAction", "actor_of", "record", "record_many"]

# Who made a change: a user, or None (or an anonymous user) when the system did it.
Actor: TypeAlias = AbstractBaseUser | AnonymousUser | None


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def actor_of(request: HttpRequest) -> User | None:
    """Who acts in ``request``: its signed-in user, or None (the system) when nobody is signed in."""
    return _user(getattr(request, "user", None))


def _action(action: str) -> AuditAction:
    try:
        return AuditAction(action)
    except ValueError:
        raise ValueError(f"{action!r} is not an audit action; add it to portal.models.AuditAction") from None


def _entry(
    *, actor, action: str, obj: models.Model, provider_id: int | None, data: dict | None
) -> AuditEntry:
    user = _user(actor)
    return AuditEntry(
        actor=user,
        actor_repr=str(user) if user is not None else "",
        action=_action(action),
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        provider_id=provider_id,
        data=data or {},
    )


def record(
    *, actor, action: str, obj: models.Model, provider_id: int | None = None, data: dict | None = None
):
    """One audit entry; ``actor`` None (or anonymous) means the system did it. A ValueError, and nothing
    written, for an ``action`` that is not an ``AuditAction``."""
    return _entry(actor=actor, action=action, obj=obj, provider_id=provider_id, data=data).save()


def record_many(*, actor, entries: Iterable[tuple[str, models.Model, int | None, dict | None]]) -> None:
    """Audit entries for a batch of changes, in one insert: ``(action, obj, provider_id, data)`` each. A
    ValueError, and nothing written, if any ``action`` is not an ``AuditAction``."""
    AuditEntry.objects.bulk_create(
        [
            _entry(actor=actor, action=action, obj=obj, provider_id=provider_id, data=data)
            for action, obj, provider_id, data in entries
        ],
        batch_size=1000,
    )
