from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.tokens import FAMILY_CLAIM, family_revoked


class BearerJWTAuthentication(JWTAuthentication):
    """JWT bearer auth; a missing or bad token is a 401 with WWW-Authenticate. An
    access token of a revoked login (token family) no longer works."""

    www_authenticate_realm = "api"

    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        family = token.get(FAMILY_CLAIM)
        if family and family_revoked(family):
            raise InvalidToken({"detail": "This token's login was revoked.",
                                "code": "token_revoked"})
        return token
