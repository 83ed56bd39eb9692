from django import forms
from django.utils.translation import gettext_lazy as _

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
