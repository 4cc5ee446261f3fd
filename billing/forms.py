from __future__ import annotations

from typing import Any

from django import forms


class CreditMovementForm(forms.Form):
    """Staff grant or adjustment of one user's credits; the reason is kept on the transfer."""

    GRANT = "grant"
    ADJUST = "adjust"

    operation = forms.ChoiceField(
        choices=[(GRANT, "Grant credits"), (ADJUST, "Adjust balance (+/-)")],
        initial=GRANT,
    )
    amount = forms.IntegerField(
        help_text="A grant is positive; an adjustment may be negative to remove credits."
    )
    reason = forms.CharField(max_length=500, help_text="Required; recorded with your user.")
    expires_at = forms.DateTimeField(
        required=False, help_text="Grants only: when the credits expire (leave empty: never)."
    )

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        amount = cleaned.get("amount")
        operation = cleaned.get("operation")
        if amount is not None:
            if amount == 0:
                self.add_error("amount", "The amount cannot be zero.")
            elif operation == self.GRANT and amount < 0:
                self.add_error("amount", "A grant must be positive; use an adjustment to remove.")
        if operation == self.ADJUST and cleaned.get("expires_at") is not None:
            self.add_error("expires_at", "Only grants expire.")
        return cleaned
