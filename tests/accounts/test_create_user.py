import pytest
from django.core.management import CommandError, call_command

from accounts.models import Agency, Role, User

pytestmark = pytest.mark.django_db

GOOD = "Sturdy!Passw0rd"


def test_creates_broker_and_agency(capsys):
    call_command("create_user", "--email", "Jo@Broker.test", "--password", GOOD,
                 "--role", "broker", "--broker", "Acme Brokers")
    user = User.objects.get(email="jo@broker.test")
    assert user.role == Role.BROKER
    assert user.agency.name == "Acme Brokers"
    assert user.check_password(GOOD)
    assert GOOD not in capsys.readouterr().out


def test_reuses_existing_agency_case_insensitively():
    call_command("create_user", "--email", "a@x.test", "--password", GOOD, "--role", "broker",
                 "--broker", "Acme")
    call_command("create_user", "--email", "b@x.test", "--password", GOOD, "--role", "broker",
                 "--broker", "ACME")
    assert Agency.objects.count() == 1


def test_staff_user_can_use_admin():
    call_command("create_user", "--email", "s@x.test", "--password", GOOD, "--role", "staff")
    user = User.objects.get(email="s@x.test")
    assert user.is_staff and user.has_perm("claims.change_claim")


def test_integrator_has_no_permissions_by_default():
    call_command("create_user", "--email", "i@x.test", "--password", GOOD,
                 "--role", "integrator")
    user = User.objects.get(email="i@x.test")
    assert not user.is_staff and not user.has_perm("claims.view_claim")


@pytest.mark.parametrize("password", [
    "Short!1a", "alllowercase!123", "ALLUPPERCASE!123", "NoDigitsHere!!", "NoSpecial1234Ab",
])
def test_password_policy(password):
    with pytest.raises(CommandError):
        call_command("create_user", "--email", "p@x.test", "--password", password,
                     "--role", "staff")
    assert not User.objects.exists()


def test_broker_needs_agency():
    with pytest.raises(CommandError, match="agency"):
        call_command("create_user", "--email", "p@x.test", "--password", GOOD, "--role", "broker")


def test_duplicate_email_refused():
    call_command("create_user", "--email", "d@x.test", "--password", GOOD, "--role", "staff")
    with pytest.raises(CommandError, match="exists"):
        call_command("create_user", "--email", "D@x.test", "--password", GOOD, "--role", "staff")


def test_bad_email_refused():
    with pytest.raises(CommandError):
        call_command("create_user", "--email", "not-an-email", "--password", GOOD,
                     "--role", "staff")
