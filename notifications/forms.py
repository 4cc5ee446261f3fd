from __future__ import annotations

from django import forms


class NotificationStatusForm(forms.Form):
    after = forms.IntegerField(min_value=0, required=False)


class EmailPreferenceForm(forms.Form):
    email_on_job_end = forms.BooleanField(
        required=False, label="Email me when an analysis or stem separation finishes or fails"
    )
