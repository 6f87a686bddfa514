from django import forms


class NotificationSettingsForm(forms.Form):
    claim_decision_emails = forms.BooleanField(
        required=False, label="Email me when a claim of my agency is approved, denied or paid",
        help_text="Sent to your sign-in address. The email names the claim, never the customer.")
