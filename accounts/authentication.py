from rest_framework_simplejwt.authentication import JWTAuthentication


class BearerJWTAuthentication(JWTAuthentication):
    """JWT bearer auth; a missing or bad token is a 401 with WWW-Authenticate."""

    www_authenticate_realm = "api"
