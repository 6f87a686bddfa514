"""Forms of the staff claim workspace (admin). They parse; the services decide."""

import uuid
from decimal import Decimal

from django import forms

from accounts.models import Role, User
from claims.models import NoteVisibility


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000,
                           label="Note")
    visibility = forms.ChoiceField(choices=NoteVisibility.choices,
                                   initial=NoteVisibility.INTERNAL, widget=forms.RadioSelect)


class ReserveForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0,
                                label="New reserve", help_text="The outstanding amount now "
                                "expected to be paid (not a change).")
    reason = forms.CharField(max_length=500)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    payee = forms.CharField(max_length=200)
    final = forms.BooleanField(required=False, label="Final payment (closes the claim)")
    # Made with the page: submitting the same form twice pays once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255,
                                      initial=lambda: f"admin-{uuid.uuid4()}")


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=User.objects.filter(role=Role.STAFF, is_active=True).order_by("email"),
        required=False, empty_label="Nobody (unassigned)", label="Handler")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].label_from_instance = lambda u: u.display_name
