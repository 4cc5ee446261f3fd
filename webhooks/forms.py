from __future__ import annotations

from typing import Any

from django import forms

from webhooks.events import event_types


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(label="URL", max_length=2000)
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = [(name, name) for name in event_types()]  # type: ignore[attr-defined]
