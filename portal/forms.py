"""Form fields every app's forms share."""

import json
import math
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

# Dates people filter by: far enough either way for any record the portal keeps, near enough that a day
# added to either end (the last day of a range counts in full) is a real date.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


class BoundedDateField(forms.DateField):
    """A date between ``EARLIEST_DATE`` and ``LATEST_DATE``; anything outside is a form error on the field."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        message = _("Enter a date between %(earliest)s and %(latest)s.") % {
            "earliest": EARLIEST_DATE.isoformat(),
            "latest": LATEST_DATE.isoformat(),
        }
        self.validators += [
            MinValueValidator(EARLIEST_DATE, message=message),
            MaxValueValidator(LATEST_DATE, message=message),
        ]
        if getattr(self.widget, "input_type", None) == "date":  # the browser's date picker keeps to it too
            self.widget.attrs.setdefault("min", EARLIEST_DATE.isoformat())
            self.widget.attrs.setdefault("max", LATEST_DATE.isoformat())


# The widest integer either database stores (a 64-bit signed BIGINT; SQLite's INTEGER is the same).
_BIGINT = range(-(2**63), 2**63)


def is_key_of(field, value) -> bool:
    """Whether ``value`` (as posted) could be a value of the model ``field`` it names a row by, so that a
    lookup with it asks the database a question rather than raising: a number for an integer key, and one
    the database can store (SQLite raises OverflowError beyond 64 bits, where PostgreSQL finds nothing)."""
    try:
        value = field.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return False
    return not isinstance(value, int) or value in _BIGINT


def keys_of(field, values) -> list:
    return [value for value in values if is_key_of(field, value)]


def _key_field(queryset, to_field_name):
    return queryset.model._meta.get_field(to_field_name) if to_field_name else queryset.model._meta.pk


class ModelChoiceField(forms.ModelChoiceField):
    """Django's, with a posted value that cannot be a key (``x``, a 40-digit number) refused as an invalid
    choice like any other unknown one, instead of reaching the database."""

    def to_python(self, value):
        assert self.queryset is not None  # set by the form field's owner before any value is cleaned
        if value not in self.empty_values and not isinstance(value, self.queryset.model):
            self.validate_no_null_characters(value)
            if not is_key_of(_key_field(self.queryset, self.to_field_name), value):
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
                )
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's, with the same refusal of values that cannot be keys."""

    def _check_values(self, value):
        field = _key_field(self.queryset, self.to_field_name)
        for pk in value if isinstance(value, (list, tuple, set, frozenset)) else ():
            self.validate_no_null_characters(pk)
            if not is_key_of(field, pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)  # type: ignore[misc]  # private to Django, not in the stubs


class _FiniteJSONDecoder(json.JSONDecoder):
    """JSON as the databases store it: no NaN or Infinity and no number too large for a float, which
    Python's decoder accepts but neither SQLite's ``JSON_VALID`` nor PostgreSQL's ``jsonb`` does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, parse_constant=self._refuse, parse_float=self._finite, **kwargs)

    @staticmethod
    def _refuse(name):
        raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)

    @staticmethod
    def _finite(text):
        number = float(text)
        if not math.isfinite(number):
            raise json.JSONDecodeError(f"{text} is too large a number", text, 0)
        return number


class JSONField(forms.JSONField):
    """Django's JSON form field refusing, as "Enter a valid JSON.", what the database would refuse (NaN,
    Infinity) and what Python cannot read without failing (an integer of thousands of digits, arrays nested
    past the interpreter's recursion limit). For a model JSONField: ``formfield_overrides`` with
    ``{"form_class": JSONField}``."""

    def __init__(self, *, decoder=None, **kwargs):
        super().__init__(decoder=decoder or _FiniteJSONDecoder, **kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except (RecursionError, ValueError) as error:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from error

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except (RecursionError, ValueError):
            return forms.fields.InvalidJSONInput(data)
