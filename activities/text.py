"""How an activity's dates and fee read, for cards, pages and certificates alike."""

from django.utils.translation import gettext as _


def _day(moment) -> str:
    return f"{moment:%b} {moment.day}, {moment.year}"


def activity_dates_text(activity) -> str:
    start, end = activity.start, activity.end
    if activity.is_enduring:
        return _("Released %(start)s, credit until %(end)s") % {"start": _day(start), "end": _day(end)}
    if start.date() == end.date():
        return f"{_day(start)}, {start:%H:%M}–{end:%H:%M} UTC"
    return f"{_day(start)} – {_day(end)}"


def fee_text(activity) -> str:
    if activity.fee_kind == "fixed":
        return f"${activity.fee_amount:,.2f}"
    return activity.get_fee_kind_display()
