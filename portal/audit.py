"""Writing audit entries. Call inside the transaction that makes the change."""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from portal.models import AuditEntry


def _entry(
    *, actor, action: str, obj: models.Model, provider_id: int | None, data: dict | None
) -> AuditEntry:
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry(
        actor=user,
        actor_repr=str(user) if user is not None else "",
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        provider_id=provider_id,
        data=data or {},
    )


def record(
    *, actor, action: str, obj: models.Model, provider_id: int | None = None, data: dict | None = None
):
    """One audit entry; ``actor`` None (or anonymous) means the system did it."""
    return _entry(actor=actor, action=action, obj=obj, provider_id=provider_id, data=data).save()


def record_many(*, actor, entries: Iterable[tuple[str, models.Model, int | None, dict | None]]) -> None:
    """Audit entries for a batch of changes, in one insert: ``(action, obj, provider_id, data)`` each."""
    AuditEntry.objects.bulk_create(
        [
            _entry(actor=actor, action=action, obj=obj, provider_id=provider_id, data=data)
            for action, obj, provider_id, data in entries
        ],
        batch_size=1000,
    )
