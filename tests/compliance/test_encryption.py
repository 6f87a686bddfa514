"""Personal data encrypted at rest, several keys, re-encryption under the newest."""

import datetime
import os
import subprocess

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from compliance.models import AuditEntry
from customers import crypto
from customers.models import Customer
from tests.compliance.canary import CANARY, found_in_database
from tests.conftest import requires_postgres
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def _raw(customer, column="phone"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM customers_customer WHERE id = %s",
                       [customer.pk.hex if connection.vendor == "sqlite" else customer.pk])
        return cursor.fetchone()[0]


def test_a_dump_of_the_database_holds_no_plaintext_canary():
    CustomerFactory(last_name=CANARY["last_name"], phone=CANARY["phone"],
                    date_of_birth=CANARY["date_of_birth"], address=CANARY["address"])
    assert found_in_database(["5557771234", "1971-07-19", "canarywharf"]) == []
    # The dump does see the row: the name (not encrypted, it is searched on) is found.
    assert ("customers_customer", "quixoticus") in found_in_database(["quixoticus"])


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_pg_dump_of_the_database_holds_no_plaintext_canary():
    CustomerFactory(last_name=CANARY["last_name"], phone=CANARY["phone"],
                    date_of_birth=CANARY["date_of_birth"], address=CANARY["address"])
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    dump = subprocess.run(
        ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
         "-U", db["USER"], db["NAME"]],
        capture_output=True, text=True, env=env, check=True).stdout.lower()
    assert "quixoticus" in dump
    for canary in ("5557771234", "1971-07-19", "canarywharf"):
        assert canary not in dump


def test_values_are_authenticated_tokens_not_plaintext():
    customer = CustomerFactory(phone="+15550001111")
    token = _raw(customer)
    assert token.startswith(crypto.PREFIX) and "5550001111" not in token
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(tampered)


def test_several_keys_first_encrypts_all_decrypt(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    old = CustomerFactory(phone="+15550002222", date_of_birth=datetime.date(1960, 2, 29))
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    new = CustomerFactory(phone="+15550003333")
    assert Customer.objects.get(pk=old.pk).phone == "+15550002222"
    assert Customer.objects.get(pk=old.pk).date_of_birth == datetime.date(1960, 2, 29)
    new_token = _raw(new)[len(crypto.PREFIX):].encode()
    assert Fernet(NEW_KEY).decrypt(new_token) == b"+15550003333"
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(ImproperlyConfigured):
        Customer.objects.get(pk=old.pk)  # the old key is gone: its values cannot be read


def test_reencrypt_command_moves_every_value_to_the_newest_key(settings, capsys):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    customers = [CustomerFactory(phone=f"+1555000{i:04d}", address=f"{i} Old Key Road")
                 for i in range(3)]
    bare = CustomerFactory(phone=None, date_of_birth=None, address=None)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    entries = AuditEntry.objects.count()
    call_command("reencrypt_personal_data")
    assert "re-encrypted 9 values" in capsys.readouterr().out
    # One entry records the run; the records themselves did not change.
    assert AuditEntry.objects.count() == entries + 1
    assert AuditEntry.objects.order_by("-seq").first().additional_data["values_reencrypted"] == 9
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key can now be dropped
    for i, customer in enumerate(customers):
        fresh = Customer.objects.get(pk=customer.pk)
        assert fresh.phone == f"+1555000{i:04d}" and fresh.address == f"{i} Old Key Road"
        assert fresh.date_of_birth == datetime.date(1980, 5, 17)
    assert Customer.objects.get(pk=bare.pk).phone is None
    call_command("reencrypt_personal_data")
    assert "re-encrypted 0 values" in capsys.readouterr().out
    assert AuditEntry.objects.count() == entries + 1
