"""The learner's check-in form: the code on the screen (or the fixed code staff read out)."""

from django import forms
from django.utils.translation import gettext_lazy as _

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
