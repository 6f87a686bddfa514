import uuid

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.tokens import FAMILY_CLAIM, family_revoked_expression


class BearerJWTAuthentication(JWTAuthentication):
    """JWT bearer auth; a missing or bad token is a 401 with WWW-Authenticate. An
    access token of a revoked login (token family) no longer works: the user and the
    family's revocation are read in one query."""

    www_authenticate_realm = "api"

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) \
                from exc
        users = self.user_model.objects.filter(**{api_settings.USER_ID_FIELD: user_id})
        family = validated_token.get(FAMILY_CLAIM)
        if family:
            try:
                family = uuid.UUID(str(family))
            except ValueError as exc:
                raise InvalidToken({"detail": "The token's login is not recognised.",
                                    "code": "token_not_valid"}) from exc
            users = users.annotate(login_revoked=family_revoked_expression(family))
        try:
            user = users.get()
        except (self.user_model.DoesNotExist, ValueError) as exc:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from exc
        if getattr(user, "login_revoked", False):
            raise InvalidToken({"detail": "This token's login was revoked.",
                                "code": "token_revoked"})
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user
