"""Model fields whose values are stored encrypted (see customers.crypto)."""

import datetime

from django.db import models

from customers import crypto


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token. Cannot be filtered on."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))


class EncryptedDateField(models.TextField):
    """A date stored as a Fernet token of its ISO form."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return None
        return datetime.date.fromisoformat(crypto.decrypt(value))

    def to_python(self, value):
        if value is None or isinstance(value, datetime.date):
            return value
        return datetime.date.fromisoformat(str(value))

    def get_prep_value(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, str):
            value = datetime.date.fromisoformat(value)
        return crypto.encrypt(value.isoformat())

    def formfield(self, **kwargs):
        from django import forms

        return models.Field.formfield(self, form_class=forms.DateField, **kwargs)
