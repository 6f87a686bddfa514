from django import forms
from django.conf import settings

from core.formatting import money
from policies.models import PolicyType


def _minimums() -> str:
    floors = settings.MIN_PREMIUM
    return ", ".join(f"{label.lower()} {money(floors[value])}"
                     for value, label in PolicyType.choices)


class PolicyForm(forms.Form):
    policy_type = forms.ChoiceField(
        choices=[("", "Choose…"), *PolicyType.choices],
        error_messages={"required": "Choose the type of policy."})
    premium_amount = forms.DecimalField(max_digits=12, decimal_places=2,
                                        widget=forms.NumberInput(attrs={"step": "0.01"}))
    coverage_amount = forms.DecimalField(max_digits=14, decimal_places=2,
                                         widget=forms.NumberInput(attrs={"step": "0.01"}))
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}),
                               help_text="Must be after the start date.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["premium_amount"].help_text = f"Minimum by type: {_minimums()}."


class PolicyCancelForm(forms.Form):
    reason = forms.CharField(label="Reason for cancelling", max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
