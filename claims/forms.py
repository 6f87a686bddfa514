from django import forms

from claims.models import ClaimStatus, ClaimType


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "All statuses"), *ClaimStatus.choices])


class ClaimReportForm(forms.Form):
    claim_type = forms.ChoiceField(
        label="Type of claim", choices=[("", "Choose…"), *ClaimType.choices],
        error_messages={"required": "Choose the type of claim."})
    incident_date = forms.DateField(label="Date of the incident",
                                    widget=forms.DateInput(attrs={"type": "date"}))
    claim_amount = forms.DecimalField(label="Amount claimed", max_digits=14, decimal_places=2,
                                      widget=forms.NumberInput(attrs={"step": "0.01"}))
    description = forms.CharField(label="What happened", required=False, max_length=10_000,
                                  widget=forms.Textarea(attrs={"rows": 4}))


class ClaimNoteForm(forms.Form):
    """A broker's note on a claim: always shared with the claims team."""

    text = forms.CharField(label="Add a note for the claims team", max_length=10_000,
                           widget=forms.Textarea(attrs={"rows": 3}))
