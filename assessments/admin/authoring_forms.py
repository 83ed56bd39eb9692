"""The authoring admin's forms: an assessment started from a template, a question with its answers in one
text box, and the activity a template is copied onto."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from activities.models import Activity
from activities.vocabulary import MOC_BOARD_CHOICES
from assessments.models import Assessment, Question
from assessments.services import authoring
from portal import scoping
from portal.admin import scope_queryset
from portal.forms import ModelChoiceField

STARTER = "starter"


def library_templates(user) -> list[Assessment]:
    """The library templates the user may start from: those of the providers where they are an editor."""
    queryset = Assessment.objects.filter(activity__isnull=True).select_related("provider")
    return list(
        scope_queryset(queryset, user, scoping.editable_provider_ids(user)).order_by(
            "provider__name", "title"
        )
    )


def editable_activities(user):
    return scope_queryset(Activity.objects.all(), user, scoping.editable_provider_ids(user)).order_by("title")


class AssessmentForm(forms.ModelForm):
    """The settings; on the add page, ``start_from`` fills them (and then the questions) from a template of
    the provider's library or the portal's starter evaluation. The model's ``clean`` checks the rules."""

    start_from = forms.ChoiceField(
        label=_("Start from"),
        required=False,
        choices=[("", _("Blank: write the questions here"))],
        help_text=_(
            "A template of your library, or the portal's starter evaluation: its kind, settings and questions "
            "are copied (you can change them all afterwards). The title is the template's unless you write one."
        ),
    )

    moc_boards = forms.MultipleChoiceField(
        label=_("MOC boards"),
        required=False,
        choices=MOC_BOARD_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "When required for MOC points only: the boards whose points need it (none ticked: every board)."
        ),
    )

    class Meta:
        model = Assessment
        fields = [
            "provider",
            "activity",
            "kind",
            "title",
            "instructions",
            "passing_score",
            "max_attempts",
            "shuffle_questions",
            "show_feedback",
            "required_for",
            "moc_boards",
        ]

    templates: dict[str, Assessment | None] = {}
    start_choices: list[tuple[str, Any]] = []

    @classmethod
    def for_user(cls, form_class: type[forms.ModelForm], user) -> type["AssessmentForm"]:
        templates: dict[str, Assessment | None] = {STARTER: None}
        choices: list[tuple[str, Any]] = [
            ("", _("Blank: write the questions here")),
            (STARTER, _("The portal's starter evaluation")),
        ]
        for template in library_templates(user):
            templates[str(template.pk)] = template
            choices.append(
                (str(template.pk), f"{template.get_kind_display()}: {template.title} ({template.provider})")
            )
        attrs = {"templates": templates, "start_choices": choices}
        return type(form_class.__name__, (form_class,), attrs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "start_from" in self.fields:
            self.fields["start_from"].choices = self.start_choices  # type: ignore[attr-defined]
            for name in ("kind", "title"):
                if name in self.fields:
                    self.fields[name].required = False  # the template's, when one is chosen

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        choice = data.get("start_from")
        if choice:
            source = self.templates.get(choice)
            provider = data.get("provider")
            if source is not None and provider is not None and source.provider_id != provider.pk:
                # Only accreditation staff are offered other providers' templates.
                self.add_error(
                    "start_from",
                    _("That template is %(owner)s’s; start %(provider)s’s assessment from one of its own.")
                    % {"owner": source.provider, "provider": provider},
                )
                return data
            settings = authoring.source_settings(source)
            if not data.get("title"):
                data["title"] = settings["title"]
            data.update({k: v for k, v in settings.items() if k in self.fields and k != "title"})
            self.source_chosen = (True, source)
        else:
            self.source_chosen = (False, None)
            for name in ("kind", "title"):
                if name in self.fields and not data.get(name):
                    self.add_error(name, forms.Field.default_error_messages["required"])
        return data


class QuestionForm(forms.ModelForm):
    """A question, its answers written one a line (the correct ones starting with *), parsed on clean."""

    choices_text = forms.CharField(
        label=_("Answers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        max_length=12000,
        help_text=_(
            "One answer per line; start the correct ones with *. True or false: write *True or *False. "
            "Likert and free-text questions take none."
        ),
    )

    class Meta:
        model = Question
        fields = ["position", "kind", "text", "choices_text", "explanation", "required"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["choices_text"].initial = authoring.choices_text(
                [(c.text, c.is_correct) for c in self.instance.choices.all()]
            )
        self.answers: list[tuple[str, bool]] | None = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        if kind:
            try:
                self.answers = authoring.parse_choices(data.get("choices_text") or "", kind)
            except authoring.AuthoringError as refused:
                self.add_error("choices_text", refused.message)
        return data


class CopyOntoActivityForm(forms.Form):
    """Which activity the selected templates are copied onto: one where the user is an editor."""

    activity = ModelChoiceField(label=_("Activity"), queryset=Activity.objects.none())

    user: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = editable_activities(self.user)  # type: ignore[attr-defined]

    @classmethod
    def for_user(cls, user) -> type["CopyOntoActivityForm"]:
        return type("CopyOntoActivityForm", (cls,), {"user": user})
