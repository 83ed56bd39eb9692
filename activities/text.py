"""How an activity's dates and fee read, for cards, pages and certificates alike."""

from django.utils.translation import gettext as _


def _day(moment) -> str:
    return f"{moment:%b} {moment.day}, {moment.year}"


def activity_dates_text(activity) -> str:
    start, end = activity.start, activity.end
    if activity.is_enduring:
        # JA and ACCME: learners are told an enduring material's release, latest review and termination
        # dates ("ACCME/ACPE/ANCC Policies for Jointly Accredited Providers", 2e-g).
        reviewed = getattr(activity, "reviewed_on", None)  # catalog cards carry no review date
        if reviewed:
            return _("Released %(start)s, last reviewed %(reviewed)s, credit until %(end)s") % {
                "start": _day(start),
                "reviewed": _day(reviewed),
                "end": _day(end),
            }
        return _("Released %(start)s, credit until %(end)s") % {"start": _day(start), "end": _day(end)}
    if start.date() == end.date():
        return f"{_day(start)}, {start:%H:%M}–{end:%H:%M} UTC"
    return f"{_day(start)} – {_day(end)}"


def fee_text(activity) -> str:
    if activity.fee_kind == "fixed":
        return f"${activity.fee_amount:,.2f}"
    return activity.get_fee_kind_display()
