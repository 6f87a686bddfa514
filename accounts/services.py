import logging
import uuid
from dataclasses import dataclass

from django.contrib.auth import authenticate, password_validation, user_logged_in
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework import status
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import lockout, sockets
from accounts.models import Agency, Role, TokenFamily, User
from accounts.signals import refresh_token_reused
from accounts.tokens import FAMILY_CLAIM
from core.exceptions import DomainError
from core.proxy import client_ip

logger = logging.getLogger("insurance.auth")


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


def _issue(user: User, family: TokenFamily) -> TokenPair:
    """A new refresh token (and its access token) in `family`, now its current one."""
    refresh = RefreshToken.for_user(user)
    refresh[FAMILY_CLAIM] = str(family.pk)
    family.current_jti = refresh[jwt_settings.JTI_CLAIM]
    family.save(update_fields=["current_jti", "rotated_at"])
    return _token_pair(refresh)


def _blacklist_jti(jti: str) -> None:
    token = OutstandingToken.objects.filter(jti=jti).first()
    if token is not None:
        BlacklistedToken.objects.get_or_create(token=token)


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
    """A new login: its own token family. (Failures are audited, so they are not
    rolled back with a transaction around the credential check.)"""
    user = auth_check_credentials(request=request, email=email, password=password)
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    with transaction.atomic():
        return _issue(user, TokenFamily.objects.create(user=user, current_jti=""))


class RefreshTokenReused(BadCredentials):
    code = "token_reused"


def _decode_refresh(refresh_token: str) -> dict:
    """The payload of a well-signed, unexpired refresh token (blacklisted or not)."""
    try:
        payload = token_backend.decode(refresh_token, verify=True)
    except TokenBackendError as exc:
        raise BadCredentials("The refresh token is invalid, expired or revoked.") from exc
    if payload.get(jwt_settings.TOKEN_TYPE_CLAIM) != "refresh" or not payload.get(
            jwt_settings.JTI_CLAIM):
        raise BadCredentials("The refresh token is invalid, expired or revoked.")
    if payload.get(FAMILY_CLAIM) is not None:
        try:
            payload[FAMILY_CLAIM] = str(uuid.UUID(str(payload[FAMILY_CLAIM])))
        except ValueError as exc:
            raise BadCredentials("The refresh token is invalid, expired or revoked.") from exc
    return payload


def token_family_revoke(*, family: TokenFamily, reason: str) -> None:
    """End a login: its current refresh token is blacklisted (every earlier one was
    at its rotation), the family is marked revoked, and its access tokens are
    refused once this commits (accounts.authentication reads the mark with the user)."""
    if family.revoked_at is None:
        family.revoked_at = timezone.now()
        family.revoked_reason = reason
        family.save(update_fields=["revoked_at", "revoked_reason"])
    if family.current_jti:
        _blacklist_jti(family.current_jti)


def auth_refresh(*, refresh_token: str, request=None) -> TokenPair:
    """Rotate: the presented refresh token is blacklisted and a new pair of the same
    family returned. A refresh token that is no longer its family's current one was
    copied (its rotation already happened): the family is revoked, the reuse is
    announced for the audit trail (refresh_token_reused) and RefreshTokenReused
    (401) raised. Concurrent refreshes of one family are serialized on its row."""
    payload = _decode_refresh(refresh_token)
    jti = payload[jwt_settings.JTI_CLAIM]
    reused = None
    with transaction.atomic():
        user = User.objects.filter(pk=payload.get(jwt_settings.USER_ID_CLAIM),
                                   is_active=True).first()
        if user is None:
            raise BadCredentials("The refresh token's user is no longer active.")
        family_id = payload.get(FAMILY_CLAIM)
        family = (TokenFamily.objects.select_for_update().filter(pk=family_id, user=user)
                  .first() if family_id else None)
        if family_id and family is None:
            raise BadCredentials("The refresh token is invalid, expired or revoked.")
        blacklisted = BlacklistedToken.objects.filter(token__jti=jti).exists()
        if family is not None and family.revoked_at is not None:
            raise BadCredentials("The refresh token is invalid, expired or revoked.")
        if family is not None and (blacklisted or jti != family.current_jti):
            token_family_revoke(family=family, reason=TokenFamily.Reason.REUSE)
            reused = (user, family)
        elif blacklisted:  # a token from before families, logged out or rotated
            raise BadCredentials("The refresh token is invalid, expired or revoked.")
        else:
            try:
                RefreshToken(refresh_token).blacklist()
            except TokenError as exc:
                raise BadCredentials("The refresh token is invalid, expired or revoked.") \
                    from exc
            if family is None:  # a token issued before families: start one now
                family = TokenFamily.objects.create(user=user, current_jti="")
            family.rotated_at = timezone.now()
            return _issue(user, family)
    user, family = reused
    logger.warning("auth.refresh_token_reused", extra={
        "event": "auth.refresh_token_reused", "user_id": str(user.pk),
        "family_id": str(family.pk)})
    refresh_token_reused.send(sender=TokenFamily, user=user, family_id=str(family.pk),
                              request=request)
    raise RefreshTokenReused(
        "This refresh token was already used. Every token of this login has been "
        "revoked; sign in again.")


@transaction.atomic
def auth_logout(*, refresh_token: str) -> None:
    """Revoke the refresh token, end its login (token family) and close the
    user's live sockets."""
    payload = _decode_refresh(refresh_token)
    family_id = payload.get(FAMILY_CLAIM)
    family = (TokenFamily.objects.select_for_update().filter(pk=family_id).first()
              if family_id else None)
    try:
        token = RefreshToken(refresh_token)
        token.blacklist()
    except TokenError as exc:
        raise BadCredentials("The refresh token is invalid, expired or revoked.") from exc
    if family is not None:
        token_family_revoke(family=family, reason=TokenFamily.Reason.LOGOUT)
    sockets.close_user_sockets(user_id=token.get(jwt_settings.USER_ID_CLAIM))


def token_families_purge(*, now=None) -> int:
    """Delete the families no token of which can still be used: the newest refresh
    token (made at the last rotation, or at login) has expired. Returns how many."""
    from django.db.models.functions import Coalesce

    cutoff = (now or timezone.now()) - jwt_settings.REFRESH_TOKEN_LIFETIME
    deleted, _ = (TokenFamily.objects.annotate(last=Coalesce("rotated_at", "created_at"))
                  .filter(last__lt=cutoff).delete())
    return deleted
