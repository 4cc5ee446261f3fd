from __future__ import annotations

from django import forms

from media.validation import EXTENSION_FORMATS

ACCEPT = ",".join(f".{extension}" for extension in EXTENSION_FORMATS)


class MediaUploadForm(forms.Form):
    """The upload page's form; the file itself is read by the upload handler, not the form."""

    file = forms.FileField(
        label="Audio file",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text="WAV, MP3, FLAC, Ogg/Opus, M4A/AAC or AIFF.",
    )
