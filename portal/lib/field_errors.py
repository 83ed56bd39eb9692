"""Refusals a service words by form field, and putting them on the form that asked."""

NON_FIELD = "__all__"  # Django's key for an error of the whole form


class FieldErrors(Exception):
    """A refused change: ``errors`` maps each form field (or ``__all__``) to why, in words for the user."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def add_to_form(form, error: FieldErrors) -> None:
    """Each of ``error``'s messages on its field of ``form``, or on the whole form when it has no such field."""
    for name, message in error.errors.items():
        form.add_error(name if name in form.fields else None, message)
