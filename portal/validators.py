from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from portal.lib.csv import starts_like_formula


def validate_not_formula(value: str) -> None:
    """Legal names and activity titles go into registry files exactly as typed, and those files are opened in
    spreadsheets: a value that begins like a formula would run as one there (OWASP, "CSV Injection")."""
    if value and starts_like_formula(value):
        raise ValidationError(
            _("This cannot begin with =, +, -, @, a tab or a line break."), code="formula_start"
        )
