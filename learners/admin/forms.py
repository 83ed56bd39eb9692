"""Forms of the learners admin: reasons for an action, export choices, activity picks, activity reports and
registry results."""

from typing import cast

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.models import Activity, Provider
from learners.models import Destination, ReportingEntry
from portal.admin import AutocompleteSelect
from portal.forms import ModelChoiceField

MAX_RETURNED_FILE_BYTES = 5 * 1024 * 1024
MIN_YEAR, MAX_YEAR = 1990, 9998  # as the dashboards' year


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class ActivityAutocomplete(AutocompleteSelect):
    """The admin's activity autocomplete with a placeholder: select2 names its combobox by the text it
    shows, so without one a screen reader announces an unnamed field."""

    def __init__(self, admin_site, *, placeholder, attrs=None):
        super().__init__(ReportingEntry._meta.get_field("activity"), admin_site, attrs=attrs)
        self.placeholder = placeholder

    def build_attrs(self, base_attrs, extra_attrs=None):
        return {**super().build_attrs(base_attrs, extra_attrs), "data-placeholder": self.placeholder}


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why the registry rejected it"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExportForm(forms.Form):
    destination = forms.ChoiceField(label=gettext_lazy("File for"), choices=Destination.choices)
    activity = ModelChoiceField(
        label=gettext_lazy("Activity"),
        queryset=Activity.objects.none(),
        required=False,
        help_text=gettext_lazy("Leave empty for every activity."),
    )
    completed_from = forms.DateField(
        label=gettext_lazy("Completed from"), required=False, widget=AdminDateWidget
    )
    completed_to = forms.DateField(label=gettext_lazy("Completed to"), required=False, widget=AdminDateWidget)

    def __init__(self, *args, activities, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(ModelChoiceField, self.fields["activity"])  # as declared; the stubs say only Field
        field.widget = ActivityAutocomplete(admin_site, placeholder=_("Every activity"))
        field.queryset = activities  # after the widget: setting it hands the widget its choices

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("completed_from"), data.get("completed_to")
        if start and end and start > end:
            self.add_error("completed_to", _("The end of the range comes before its start."))
        return data


class ActivityPickForm(forms.Form):
    activity = ModelChoiceField(label=gettext_lazy("Activity"), queryset=Activity.objects.none())

    def __init__(self, *args, activities, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(ModelChoiceField, self.fields["activity"])  # as declared; the stubs say only Field
        field.widget = ActivityAutocomplete(
            admin_site, placeholder=_("Choose an activity"), attrs={"id": "id_csv_activity"}
        )
        field.queryset = activities


class ActivityReportForm(forms.Form):
    """Which provider's activity report (JA-PARS or PARS, by the provider's accreditation), for which year."""

    provider = ModelChoiceField(label=gettext_lazy("Provider"), queryset=Provider.objects.none())
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=MIN_YEAR, max_value=MAX_YEAR)

    def __init__(self, *args, providers, **kwargs):
        super().__init__(*args, **kwargs)
        cast(ModelChoiceField, self.fields["provider"]).queryset = providers


class ReturnedFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Results CSV"),
        help_text=gettext_lazy(
            "Our own format, not a registry's: a CSV with the columns row_id, status (accepted or rejected) "
            "and reason (needed for rejections)."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_RETURNED_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text; save it as CSV (UTF-8).")) from None
