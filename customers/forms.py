from django import forms


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label="Search customers", required=False, max_length=100)


class CustomerForm(forms.Form):
    first_name = forms.CharField(max_length=150,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    last_name = forms.CharField(max_length=150,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    email = forms.EmailField(max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(
        max_length=32, required=False,
        help_text="As you would dial it, e.g. 07700 900123 or +44 7700 900123.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    date_of_birth = forms.DateField(required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    address = forms.CharField(max_length=1000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    # Required by the service, which names the rule; the form leaves it to it.
    gdpr_consent = forms.BooleanField(
        required=False,
        label="The customer consents to the processing of their personal data (GDPR)",
    )
