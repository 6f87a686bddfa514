from dataclasses import dataclass

from django.contrib.auth import authenticate, password_validation, user_logged_in
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from rest_framework import status
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import lockout, sockets
from accounts.models import Agency, Role, User
from core.exceptions import DomainError
from core.proxy import client_ip


class LoginLocked(DomainError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "locked"

    def __init__(self, retry_after: int):
        super().__init__(
            "Too many failed login attempts. Try again later.",
            extra={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class BadCredentials(DomainError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "authentication_failed"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


def agency_get_or_create(*, name: str) -> Agency:
    name = name.strip()
    if not name:
        raise DomainError("An agency name is required.", field="broker")
    agency = Agency.objects.annotate(lname=Lower("name")).filter(lname=name.lower()).first()
    if agency:
        return agency
    try:
        with transaction.atomic():
            return Agency.objects.create(name=name)
    except IntegrityError:
        return Agency.objects.annotate(lname=Lower("name")).get(lname=name.lower())


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    role: str,
    agency_name: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> User:
    email = (email or "").strip().lower()
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}; use one of {', '.join(Role.values)}.",
                          field="role")
    if role == Role.BROKER and not agency_name:
        raise DomainError("A broker user needs an agency (--broker).", field="broker")
    user = User(
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
        is_staff=(role == Role.STAFF),
    )
    try:
        user.full_clean(exclude=["password", "agency"])
    except ValidationError as exc:
        raise DomainError("; ".join(exc.messages), field="email") from exc
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError("A user with this email already exists.", field="email")
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="password") from exc
    if agency_name:
        user.agency = agency_get_or_create(name=agency_name)
    user.set_password(password)
    user.save()
    return user


def _token_pair(refresh: RefreshToken) -> TokenPair:
    lifetime = jwt_settings.ACCESS_TOKEN_LIFETIME
    return TokenPair(
        access_token=str(refresh.access_token),
        refresh_token=str(refresh),
        token_type="bearer",
        expires_in=int(lifetime.total_seconds()),
    )


def auth_check_credentials(*, request, email: str, password: str) -> User:
    """Authenticate under the lockout; shared by the API, the portal and the admin."""
    email = (email or "").strip()
    ip = client_ip(request) if request is not None else ""
    locked = lockout.seconds_locked(email, ip)
    if locked:
        raise LoginLocked(locked)
    user = authenticate(request, username=email, password=password)
    if user is None:
        lockout.record_failure(email, ip)
        raise BadCredentials("Invalid email or password.")
    lockout.clear_email(email)
    return user


def auth_login(*, request, email: str, password: str) -> TokenPair:
    user = auth_check_credentials(request=request, email=email, password=password)
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return _token_pair(RefreshToken.for_user(user))


def auth_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: the old refresh token is blacklisted, a new pair is returned."""
    try:
        old = RefreshToken(refresh_token)
        user = User.objects.filter(pk=old.get("user_id"), is_active=True).first()
        if user is None:
            raise BadCredentials("The refresh token's user is no longer active.")
        old.blacklist()
    except TokenError as exc:
        raise BadCredentials("The refresh token is invalid, expired or revoked.") from exc
    return _token_pair(RefreshToken.for_user(user))


@transaction.atomic
def auth_logout(*, refresh_token: str) -> None:
    """Revoke the refresh token and close the user's live sockets."""
    try:
        token = RefreshToken(refresh_token)
        token.blacklist()
    except TokenError as exc:
        raise BadCredentials("The refresh token is invalid, expired or revoked.") from exc
    sockets.close_user_sockets(user_id=token.get(jwt_settings.USER_ID_CLAIM))

