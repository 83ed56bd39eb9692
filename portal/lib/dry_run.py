"""Previews that cannot drift from what they preview: run the real service in a transaction, keep what it
returns, and roll everything back (on-commit work such as emails is discarded with it)."""

from collections.abc import Callable
from typing import TypeVar

from django.db import transaction

T = TypeVar("T")


class _RolledBack(Exception):
    pass


def dry_run(action: Callable[[], T]) -> T:
    """What ``action()`` returns, with nothing it wrote kept. Exceptions it raises propagate (and roll back)."""
    holder: list[T] = []
    try:
        with transaction.atomic():
            holder.append(action())
            raise _RolledBack
    except _RolledBack:
        pass
    return holder[0]
