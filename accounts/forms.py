from django import forms

from core.exceptions import DomainError


class LoginForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        strip=False, max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def add_domain_error(form: forms.Form, exc: DomainError, *, aliases: dict | None = None) -> None:
    """Show a service's error beside the form field it names (else above the form)."""
    field = (aliases or {}).get(exc.field, exc.field)
    if field not in form.fields:
        field = None
    form.errors  # noqa: B018 - validates a bound form; gives an unbound one an error list
    if not hasattr(form, "cleaned_data"):  # unbound: the request body was refused unread
        form.cleaned_data = {}
    form.add_error(field, exc.message)
