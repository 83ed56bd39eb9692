"""The learner's check-in form (the code on the screen, or the fixed code staff read out), and the staff forms
that fix attendance records and claims. They collect input; the services decide."""

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from activities.models import Activity, Session
from attendance.services import records
from portal.forms import BoundedDateField, ModelMultipleChoiceField

MAX_SHEET_BYTES = 512 * 1024
SHEET_SALT = "attendance.roster"
REASON_HELP = _("Kept with the change on the record; accreditors may ask.")


def reason_field(label=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"), max_length=records.MAX_REASON, help_text=REASON_HELP, strip=True
    )


class SessionLabel(ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return records.describe(obj)


class ReasonForm(forms.Form):
    reason = reason_field()


class FixedCodeForm(forms.Form):
    fixed_code = forms.CharField(
        label=_("Fixed code"),
        max_length=12,
        required=False,
        help_text=_(
            "4 to 12 letters or digits, read out or written up in the room. Leave empty to close it."
        ),
    )


class AddAttendeesForm(forms.Form):
    email = forms.EmailField(
        label=_("Learner's email"),
        help_text=_(
            "A learner with an account gets the attendance at once; anyone else is emailed an invitation "
            "and finds it on signing up with this address."
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    sessions = SessionLabel(
        queryset=Session.objects.none(), label=_("Sessions"), widget=forms.CheckboxSelectMultiple
    )
    reason = reason_field()

    def __init__(self, *args, activity: Activity, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["sessions"]
        assert isinstance(field, SessionLabel)
        field.queryset = activity.sessions.order_by("start", "track", "pk")


class RosterForm(forms.Form):
    sheet = forms.FileField(
        label=_("Sign-in sheet (CSV)"),
        required=False,
        help_text=_(
            "UTF-8 CSV with the header email,name,sessions. sessions names one or more of this activity's "
            "sessions, separated by ';', each by its date in the session's time zone (2026-03-03); when a "
            "day has several sessions, by date and start time (2026-03-03 13:00) or date and track "
            "(2026-03-03 Track A). Every error is listed by line and column, and nothing is recorded "
            "unless every line is right. Lines already on record or repeated are counted, not errors."
        ),
    )
    content = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = reason_field(_("Where the sheet comes from"))

    def clean_content(self) -> str:
        signed = self.cleaned_data.get("content") or ""
        if not signed:
            return ""
        try:
            return signing.loads(signed, salt=SHEET_SALT, max_age=3600)
        except signing.BadSignature:
            raise forms.ValidationError(_("Upload the sheet again.")) from None

    def clean(self):
        cleaned = super().clean() or {}
        upload = cleaned.get("sheet")
        if upload is not None:
            if upload.size > MAX_SHEET_BYTES:
                self.add_error("sheet", _("At most 512 KB."))
                return cleaned
            try:
                cleaned["content"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("sheet", _("Save the sheet as UTF-8 CSV."))
                return cleaned
        if not cleaned.get("content") and "content" not in self.errors and "sheet" not in self.errors:
            self.add_error("sheet", _("Choose the sheet to upload."))
        return cleaned

    @staticmethod
    def sign(content: str) -> str:
        return signing.dumps(content, salt=SHEET_SALT, compress=True)


class ExtendWindowForm(forms.Form):
    until = BoundedDateField(
        label=_("Claims allowed until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The day included; later than the current deadline."),
    )
    reason = reason_field()


class ClaimForm(forms.Form):
    """Amounts per credit type (and, for a live activity, sessions) with a reason: staff recording credit on
    a learner's behalf, or correcting a claim."""

    reason = reason_field()

    def __init__(self, *args, activity: Activity, initial_amounts=None, sessions=None, **kwargs):
        super().__init__(*args, **kwargs)
        initial_amounts = initial_amounts or {}
        for designation in activity.credits.select_related("credit_type").order_by("credit_type__position"):
            code = designation.credit_type_id
            self.fields[f"credit_{code}"] = forms.DecimalField(
                label=designation.credit_type.label,
                required=False,
                min_value=0,
                max_digits=6,
                decimal_places=2,
                initial=initial_amounts.get(code),
                help_text=_("At most %(max)s; leave empty for none.") % {"max": designation.max_amount},
            )
        if activity.is_live:
            self.fields["sessions"] = SessionLabel(
                queryset=activity.sessions.order_by("start", "track", "pk"),
                label=_("Sessions"),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=sessions,
            )
        self.order_fields([name for name in self.fields if name != "reason"] + ["reason"])

    def amounts(self) -> dict:
        return {
            name.removeprefix("credit_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("credit_") and value is not None
        }

    def session_ids(self) -> list[int] | None:
        if "sessions" not in self.fields:
            return None
        return [session.pk for session in self.cleaned_data.get("sessions") or []]


MAX_CODE_LENGTH = 12  # SessionCheckin.fixed_code's length; screen codes have codes.DIGITS


def normalised_code(value: str) -> str:
    """``value`` without spaces and dashes ("123 456", "123-456"); ``""`` unless what is left is 1 to
    ``MAX_CODE_LENGTH`` ASCII letters and digits."""
    typed = "".join(value.split()).replace("-", "")
    if 0 < len(typed) <= MAX_CODE_LENGTH and typed.isascii() and typed.isalnum():
        return typed
    return ""


WRONG_FORMAT = _("Type the code shown on the screen: 6 digits.")


class CheckinForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        error_messages={"required": WRONG_FORMAT, "max_length": WRONG_FORMAT},
        max_length=40,  # room for spaces and dashes; clean_code says what counts
        help_text=_("The 6 digits on the screen, or the code the organizers gave you."),
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "autocapitalize": "off",
                "autocorrect": "off",
                "spellcheck": "false",
                "enterkeyhint": "go",
                "class": "code-input",
            }
        ),
    )

    def clean_code(self) -> str:
        code = normalised_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(WRONG_FORMAT)
        return code
