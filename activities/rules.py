"""Accreditation rules on an activity's schedule and credit amounts: plain functions, no Django.

The listing parser and the models' validation both call these, so a rule is written once.
"""

import calendar
from datetime import date, datetime
from decimal import Decimal

from activities.vocabulary import ACTIVITY_TYPE_BY_CODE, ENDURING, RSS

ENDURING_MAX_YEARS = 3  # ACCME: an enduring material is reviewed at least every 3 years
RSS_MAX_MONTHS = 12  # ACCME: a regularly scheduled series covers at most 12 months


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later; the 31st becomes the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _limit(moment: datetime, months: int) -> datetime:
    """``add_months``, or the latest representable moment when that falls after year 9999."""
    try:
        return add_months(moment, months)
    except ValueError:
        return datetime.max.replace(tzinfo=moment.tzinfo)


def enduring_expiry(release: datetime) -> datetime:
    """The latest expiry of an enduring material released (or last reviewed) at ``release``."""
    return add_months(release, 12 * ENDURING_MAX_YEARS)


def is_enduring(activity_type: str) -> bool:
    spec = ACTIVITY_TYPE_BY_CODE.get(activity_type)
    return spec is not None and spec.kind == ENDURING


def schedule_errors(
    *, activity_type: str, start: datetime, end: datetime, reviewed_on: date | None = None
) -> list[tuple[str, str]]:
    """Problems with an activity's dates, as ``("start" | "end", message)`` pairs; empty when fine."""
    if end < start:
        return [("end", "is before the start date")]
    errors = []
    if activity_type == RSS and end > _limit(start, RSS_MAX_MONTHS):
        errors.append(("end", f"a regularly scheduled series covers at most {RSS_MAX_MONTHS} months"))
    if is_enduring(activity_type):
        basis = start
        if reviewed_on is not None and reviewed_on > start.date():
            basis = start.replace(year=reviewed_on.year, month=reviewed_on.month, day=reviewed_on.day)
        if end > _limit(basis, 12 * ENDURING_MAX_YEARS):
            errors.append(
                (
                    "end",
                    f"an enduring material expires at most {ENDURING_MAX_YEARS} years after its release "
                    "or last review",
                )
            )
    return errors


def increment_error(amount: Decimal, increment: Decimal) -> str | None:
    """Why ``amount`` is not a whole number of ``increment`` steps, or None."""
    if amount % increment != 0:
        return f"{amount} is not a multiple of {increment}"
    return None


def series_span_error(*, activity_type: str, first: datetime, last: datetime) -> str | None:
    """Why sessions from ``first`` to ``last`` cannot all belong to one activity of ``activity_type``, or None:
    a regularly scheduled series' sessions fall within ``RSS_MAX_MONTHS`` of its first."""
    if activity_type == RSS and last > _limit(first, RSS_MAX_MONTHS):
        return f"a regularly scheduled series covers at most {RSS_MAX_MONTHS} months"
    return None
