from __future__ import annotations

from django import forms

from engine.features import FEATURES


class AnalysisStartForm(forms.Form):
    media_id = forms.UUIDField(widget=forms.HiddenInput)
    features = forms.MultipleChoiceField(
        choices=[(name, name) for name in FEATURES],
        initial=list(FEATURES),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means all.",
    )
