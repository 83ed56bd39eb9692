from datetime import date
from typing import TYPE_CHECKING, cast

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from activities import vocabulary
from activities.models import CreditType
from learners import validators
from learners.models import US_STATES, LearnerProfile
from learners.services import profiles
from learners.services.claims import ClaimOptions
from portal.forms import BoundedDateField, ModelChoiceField
from portal.validators import validate_not_formula

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MONTHS = [("", "—")] + [(str(n), date(2000, n, 1).strftime("%B")) for n in range(1, 13)]
DAYS = [("", "—")] + [(str(n), str(n)) for n in range(1, 32)]


class SignupForm(forms.Form):
    """Extra sign-up fields (allauth calls ``signup`` once the account exists)."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        help_text=_("Your legal first name, as it should print on certificates."),
        validators=[validate_not_formula],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        help_text=_("Your legal last name, as it should print on certificates."),
        validators=[validate_not_formula],
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    profession = forms.ChoiceField(label=_("Profession"), choices=[("", "—"), *vocabulary.PROFESSION_CHOICES])

    def signup(self, request, user):
        from learners.services import create_profile

        create_profile(
            user=user,
            first_name=self.cleaned_data["first_name"],
            last_name=self.cleaned_data["last_name"],
            profession=self.cleaned_data["profession"],
        )


class ProfileForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        help_text=_("As it prints on certificates."),
        validators=[validate_not_formula],
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        help_text=_("As it prints on certificates."),
        validators=[validate_not_formula],
    )
    profession = forms.ChoiceField(label=_("Profession"), choices=vocabulary.PROFESSION_CHOICES)
    degree = forms.ChoiceField(
        label=_("Degree"), choices=[("", "—"), *LearnerProfile.Degree.choices], required=False
    )
    npi = forms.CharField(
        label=_("NPI"),
        required=False,
        max_length=10,
        validators=[validators.validate_npi],
        help_text=_("National Provider Identifier, 10 digits."),
    )
    nabp_eprofile_id = forms.CharField(
        label=_("NABP e-Profile ID"),
        required=False,
        max_length=7,
        validators=[validators.validate_eprofile_id],
        help_text=_("Pharmacists and pharmacy technicians: needed to report your credit to CPE Monitor."),
    )
    birth_month = forms.TypedChoiceField(
        label=_("Birth month"), choices=MONTHS, coerce=int, empty_value=None, required=False
    )
    birth_day = forms.TypedChoiceField(
        label=_("Birth day"), choices=DAYS, coerce=int, empty_value=None, required=False
    )
    reporting_consent = forms.BooleanField(
        label=_(
            "I agree that the providers of activities I complete may report my completed credit, with the "
            "details this needs, to the accreditor (ACCME PARS), my certifying boards and CPE Monitor."
        ),
        required=False,
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        problem = validators.month_day_error(cleaned.get("birth_month"), cleaned.get("birth_day"))
        if problem:
            self.add_error("birth_day", problem)
        if "profession" in cleaned and "degree" in cleaned:
            try:
                profiles.check_degree(profession=cleaned["profession"], degree=cleaned["degree"])
            except profiles.ProfileError as exc:
                self.add_error(exc.field, str(exc))
        return cleaned


class LicenseForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=[("", "—"), *US_STATES], required=False)
    number = forms.CharField(
        label=_("License number"), max_length=32, required=False, validators=[validators.validate_identifier]
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if bool(cleaned.get("state")) != bool(cleaned.get("number")) and not self.errors:
            raise forms.ValidationError(_("Give both the state and the license number."))
        return cleaned


class BoardIdForm(forms.Form):
    board = forms.ChoiceField(
        label=_("Board"), choices=[("", "—"), *vocabulary.MOC_BOARD_CHOICES], required=False
    )
    board_id = forms.CharField(
        label=_("Board ID"), max_length=32, required=False, validators=[validators.validate_identifier]
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if bool(cleaned.get("board")) != bool(cleaned.get("board_id")) and not self.errors:
            raise forms.ValidationError(_("Give both the board and your ID with it."))
        return cleaned


class _UniqueFormSet(forms.BaseFormSet):
    key: str
    duplicate_message: "StrOrPromise"

    def clean(self):
        seen = set()
        for form in self.forms:
            value = form.cleaned_data.get(self.key) if form.is_valid() else None
            if value and value in seen:
                raise forms.ValidationError(self.duplicate_message)
            seen.add(value)

    def pairs(self) -> list[tuple[str, str]]:
        fields = list(self.forms[0].fields) if self.forms else []
        return [
            (form.cleaned_data[fields[0]], form.cleaned_data[fields[1]])
            for form in self.forms
            if form.cleaned_data.get(fields[0])
        ]


class LicenseFormSetBase(_UniqueFormSet):
    key = "state"
    duplicate_message = _("Each state can have only one license listed.")


class BoardIdFormSetBase(_UniqueFormSet):
    key = "board"
    duplicate_message = _("Each board can be listed only once.")


# absolute_max: a POST that claims more forms gets an error, not thousands of forms built and rendered.
# formset_factory subclasses the formset it is given; the stubs type the result as a plain BaseFormSet.
LicenseFormSet = cast(
    type[LicenseFormSetBase],
    formset_factory(
        LicenseForm, formset=LicenseFormSetBase, extra=1, max_num=60, absolute_max=60, validate_max=True
    ),
)
BoardIdFormSet = cast(
    type[BoardIdFormSetBase],
    formset_factory(
        BoardIdForm, formset=BoardIdFormSetBase, extra=1, max_num=30, absolute_max=30, validate_max=True
    ),
)


class ClaimForm(forms.Form):
    """One amount per credit type the learner may claim, the attestation, and MOC opt-ins."""

    attested = forms.BooleanField(
        label=_(
            "I attest that I am claiming only the credit commensurate with the extent of my participation "
            "in this activity."
        ),
        required=False,
    )

    def __init__(self, *args, options: ClaimOptions, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        if len(options.chosen) > 1:  # one session is simply the session claimed
            self.fields["sessions"] = forms.TypedMultipleChoiceField(
                label=_("Sessions you attended"),
                choices=[(s.session.pk, s.describe()) for s in options.chosen],
                coerce=int,
                initial=[s.session.pk for s in options.chosen],
                widget=forms.CheckboxSelectMultiple,
                error_messages={"required": _("Choose the sessions you claim credit for.")},
            )
        live = options.standings is not None
        for option in options.claimable:
            designation = option.designation
            credit_type: CreditType = designation.credit_type
            step = designation.increment
            help_text = (
                _("Up to %(max)s %(unit)s for the sessions you claim, in steps of %(step)s.")
                if live
                else _("Up to %(max)s %(unit)s, in steps of %(step)s: enter what your participation earned.")
            )
            self.fields[option.field] = forms.DecimalField(
                label=credit_type.label,
                max_digits=6,
                decimal_places=2,
                required=False,
                initial=option.cap if options.prefilled else None,
                help_text=help_text % {"max": option.cap, "unit": credit_type.unit, "step": step.normalize()}
                + " "
                + _("Leave it empty to not claim it."),
                widget=forms.NumberInput(attrs={"step": str(step), "min": "0", "max": str(option.cap)}),
            )
        for moc in options.moc:
            if moc.reason is None:
                self.fields[moc.field] = forms.BooleanField(
                    label=_("Report my MOC points to %(board)s (board ID %(id)s)")
                    % {"board": moc.abbreviation, "id": moc.board_id},
                    required=False,
                    initial=True,
                )

    @property
    def credit_fields(self):
        return [self[option.field] for option in self.options.claimable]

    @property
    def moc_fields(self):
        return [self[option.field] for option in self.options.moc if option.field in self.fields]

    def certificate_notes(self) -> list[tuple[str, str]]:
        """What the certificate will be and state, for each choice of credit types the learner can make, as
        ``(certificate kind, sentence)`` (``vocabulary.certificate_kind`` decides the title from the credit
        types claimed)."""
        claimable = [option.designation.credit_type for option in self.options.claimable]
        titles = vocabulary.CERTIFICATE_TITLES
        if not claimable:
            kind = vocabulary.certificate_kind([])
            sentence = _(
                "Your certificate will be a %(title)s stating the credit this activity is designated for."
            )
            return [(kind, sentence % {"title": titles[kind]})]
        others = [c for c in claimable if c.code != vocabulary.AMA_PRA_1]
        notes: list[tuple[str, str]] = []
        if len(others) < len(claimable):
            kind = vocabulary.certificate_kind([vocabulary.AMA_PRA_1])
            sentence = (
                _(
                    "If you claim AMA PRA Category 1 Credit™, your certificate will be a %(title)s stating the credit you claim."
                )
                if others
                else _("Your certificate will be a %(title)s stating the credit you claim.")
            )
            notes.append((kind, sentence % {"title": titles[kind]}))
        if others:
            kind = vocabulary.certificate_kind(c.code for c in others)
            sentence = (
                _(
                    "If you claim only %(names)s, your certificate will be a %(title)s stating the %(units)s you claim."
                )
                if len(others) < len(claimable)
                else _("Your certificate will be a %(title)s stating the %(units)s you claim (%(names)s).")
            )
            units = " and ".join(dict.fromkeys(c.unit for c in others))
            names = ", ".join(c.label for c in others)
            notes.append((kind, sentence % {"names": names, "title": titles[kind], "units": units}))
        return notes

    def amounts(self) -> dict:
        return {
            option.designation.credit_type_id: self.cleaned_data.get(option.field)
            for option in self.options.claimable
        }

    def moc_boards(self) -> list[str]:
        return [option.board for option in self.options.moc if self.cleaned_data.get(option.field)]

    def sessions(self) -> list[int] | None:
        """The sessions the learner claims (None for an activity without sessions)."""
        return self.cleaned_data.get("sessions") if "sessions" in self.fields else None


class TranscriptForm(forms.Form):
    start = BoundedDateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = BoundedDateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    credit_type = ModelChoiceField(
        label=_("Credit type"), queryset=CreditType.objects.all(), required=False, empty_label=_("All")
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", _("The end date is before the start date."))
        return cleaned
