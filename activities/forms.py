import datetime
import zoneinfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities import moc, vocabulary
from activities.models import MocApproval, validate_time_zone

MAX_UPLOAD_FILES = 1000


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f]
        if not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class ListingUploadForm(forms.Form):
    # The form's metaclass moves declared fields into base_fields, so this does not shadow Form.files
    # (the uploaded files); the stubs see a class attribute of the wrong type.
    files = MultipleFileField(  # type: ignore[assignment]
        label=_("Listing files"),
        help_text=_("One activity per .txt file, in the listing format. Up to %(n)d files at once.")
        % {"n": MAX_UPLOAD_FILES},
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > MAX_UPLOAD_FILES:
            raise forms.ValidationError(_("Upload at most %(n)d files at once.") % {"n": MAX_UPLOAD_FILES})
        return files


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class ScheduleForm(forms.Form):
    """ "Every <weekday> <start>–<end> from <first> to <last>", for ``activities.sessions.schedule_sessions``."""

    weekday = forms.TypedChoiceField(label=_("Every"), choices=WEEKDAYS, coerce=int)
    every_weeks = forms.IntegerField(label=_("Every how many weeks"), min_value=1, max_value=52, initial=1)
    start_time = forms.TimeField(label=_("From (time)"), help_text=_("e.g. 07:00"))
    end_time = forms.TimeField(label=_("To (time)"), help_text=_("e.g. 08:00"))
    first = forms.DateField(label=_("First date"), help_text=_("YYYY-MM-DD"))
    last = forms.DateField(label=_("Last date"), help_text=_("YYYY-MM-DD"))
    skip = forms.CharField(
        label=_("Skip dates"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Dates without a session, YYYY-MM-DD, separated by commas or lines."),
    )
    time_zone = forms.CharField(label=_("Time zone"), initial="America/Chicago", max_length=64)
    online = forms.BooleanField(label=_("Online"), required=False)
    venue = forms.CharField(label=_("Venue"), required=False, max_length=200)
    city = forms.CharField(label=_("City"), required=False, max_length=100)
    state = forms.CharField(label=_("State"), required=False, max_length=100)
    country = forms.CharField(label=_("Country"), required=False, max_length=100)
    track = forms.CharField(label=_("Track"), required=False, max_length=100)

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"]
        validate_time_zone(value)
        return value

    def clean_skip(self):
        dates = set()
        for part in self.cleaned_data["skip"].replace(",", " ").split():
            try:
                dates.add(datetime.date.fromisoformat(part))
            except ValueError:
                raise forms.ValidationError(
                    _("%(value)s is not a date (YYYY-MM-DD).") % {"value": part}
                ) from None
        return frozenset(dates)

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("must be after the start time."))
        first, last = data.get("first"), data.get("last")
        if first and last and last < first:
            self.add_error("last", _("is before the first date."))
        if not data.get("online") and not data.get("venue"):
            self.add_error("venue", _("An in-person session needs a venue (or tick online)."))
        return data


class SessionForm(forms.ModelForm):
    """A session's start and end are typed, and shown, as wall-clock times in the session's own time zone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.start and self.instance.end:
            for name in ("start", "end"):
                local = getattr(self.instance, f"local_{name}")
                self.initial[name] = local.replace(tzinfo=None)

    def clean(self):
        data = super().clean() or {}
        try:
            zone = zoneinfo.ZoneInfo(data.get("time_zone") or "")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None  # the field's validator reports it
        if zone is not None:
            for name in ("start", "end"):
                value = data.get(name)
                if value is not None:
                    # The field read the wall-clock time in the site's time zone; read it in the session's.
                    wall = timezone.localtime(value).replace(tzinfo=None)
                    data[name] = wall.replace(tzinfo=zone)
                    setattr(self.instance, name, data[name])
        return data


class MocApprovalForm(forms.ModelForm):
    """The MOC credit types each board awards are listed beside the field; ``MocApproval.clean`` refuses a
    pair the board does not award (the error shows on the credit type) and ABP points that are not whole."""

    class Meta:
        model = MocApproval
        fields = ["board", "credit_type", "points"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_type"].help_text = "; ".join(
            f"{vocabulary.board_abbreviation(board)}: "
            + ", ".join(vocabulary.moc_credit_type_label(kind) for kind in kinds)
            for board, kinds in moc.allowed_credit_types()
        )
