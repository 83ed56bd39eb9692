"""Form fields every app's forms share."""

from datetime import date

from django import forms
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
