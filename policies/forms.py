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
    effective_date = forms.DateField(
        required=False, label="Cancel from", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Blank: today (or the start, for a policy not started yet). Between the "
                  "start and today.")


# --- Underwriting ------------------------------------------------------------------

_MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": 0,
          "widget": forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"})}
_YES_NO = [("false", "No"), ("true", "Yes")]


def risk_form_fields(*, required: bool) -> dict[str, forms.Field]:
    """One form field per risk answer of any product (policies.risk.FIELDS)."""
    return {
        "vehicle_value": forms.DecimalField(label="Vehicle value", required=required, **_MONEY),
        "annual_mileage": forms.IntegerField(label="Annual mileage", min_value=0,
                                             required=required),
        "prior_claims": forms.IntegerField(label="Claims in the last 5 years", min_value=0,
                                           required=required),
        "rebuild_value": forms.DecimalField(label="Rebuild value", required=required, **_MONEY),
        "construction": forms.ChoiceField(
            label="Construction", required=required,
            choices=([] if required else [("", "(unchanged)")])
            + [("masonry", "Masonry"), ("timber", "Timber")]),
        "flood_zone": forms.ChoiceField(label="In a flood zone", required=required,
                                        choices=([] if required else [("", "(unchanged)")])
                                        + _YES_NO),
        "smoker": forms.ChoiceField(label="Smoker", required=required,
                                    choices=([] if required else [("", "(unchanged)")])
                                    + _YES_NO),
        "deductible": forms.DecimalField(label="Deductible", required=required, **_MONEY),
    }


def risk_of(form: forms.Form, policy_type: str) -> dict:
    """The chosen product's answers the form holds (blank ones left out)."""
    from policies.risk import FIELDS

    data = getattr(form, "cleaned_data", {}) or {}
    return {key: data[key] for key in FIELDS.get(policy_type, {})
            if data.get(key) not in (None, "")}


class QuoteForm(forms.Form):
    """A quote request. Only the chosen product's risk answers are read; the
    service checks they are all there (so the form does not require them)."""

    policy_type = forms.ChoiceField(choices=PolicyType.choices)
    coverage_amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0,
                                         widget=forms.NumberInput(attrs={"step": "0.01"}))
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="Today or later.")
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text="Blank: one year less a day.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(risk_form_fields(required=False))

    def product_fields(self, policy_type: str):
        from policies.risk import FIELDS

        return [self[key] for key in FIELDS.get(policy_type, {})]

    def products(self):
        return [(value, label, self.product_fields(value)) for value, label in
                PolicyType.choices]


class EndorsementForm(forms.Form):
    effective_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text="Today or later, within the policy's term.")
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    coverage_amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0,
                                         required=False, help_text="Blank: unchanged.",
                                         widget=forms.NumberInput(attrs={"step": "0.01"}))
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text="Blank: unchanged.")

    def __init__(self, *args, policy_type: str, **kwargs):
        from policies.risk import FIELDS

        super().__init__(*args, **kwargs)
        self.policy_type = policy_type
        for key, field in risk_form_fields(required=False).items():
            if key in FIELDS.get(policy_type, {}):
                field.help_text = "Blank: unchanged."
                self.fields[key] = field

    def risk_fields(self):
        from policies.risk import FIELDS

        return [self[key] for key in FIELDS.get(self.policy_type, {})]
