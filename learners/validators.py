import calendar
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{0,31}$")


def npi_is_valid(npi: str) -> bool:
    """The NPI check digit: Luhn over the number prefixed with the health-industry code 80840."""
    if not re.fullmatch(r"[0-9]{10}", npi):
        return False
    digits = [int(d) for d in "80840" + npi]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return total % 10 == 0


def validate_npi(value: str) -> None:
    if not re.fullmatch(r"[0-9]{10}", value or ""):
        raise ValidationError(_("An NPI is 10 digits."), code="npi_format")
    if not npi_is_valid(value):
        raise ValidationError(
            _("This NPI's check digit is wrong; please check the number."), code="npi_check"
        )


def validate_eprofile_id(value: str) -> None:
    if not re.fullmatch(r"[0-9]{6,7}", value or ""):
        raise ValidationError(_("An NABP e-Profile ID is 6 or 7 digits."), code="eprofile")


def validate_identifier(value: str) -> None:
    if not _IDENTIFIER.fullmatch(value or ""):
        raise ValidationError(
            _("Use letters, digits, spaces, dots, slashes or dashes (at most 32)."), code="identifier"
        )


def month_day_error(month: int | None, day: int | None) -> str | None:
    """Why a birth month and day is not a real date (29 February is), or None."""
    if month is None and day is None:
        return None
    if month is None or day is None:
        return _("Give both the month and the day, or neither.")
    if not 1 <= month <= 12:
        return _("The month must be 1 to 12.")
    if not 1 <= day <= calendar.monthrange(2000, month)[1]:
        return _("%(month)s has no day %(day)d.") % {"month": calendar.month_name[month], "day": day}
    return None
