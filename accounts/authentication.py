import uuid
from functools import cache

from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.tokens import FAMILY_CLAIM


@cache
def _field_names(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


@cache
def _user_sql(model) -> str:
    """The user by id, with whether the token's login (family) was revoked: one
    statement, written once (this runs on every API call; building it through the
    ORM each time cost more than running it)."""
    from accounts.models import TokenFamily

    user, family = model._meta, TokenFamily._meta
    columns = ", ".join(f'u."{f.column}"' for f in user.concrete_fields)
    return (f'SELECT {columns}, EXISTS (SELECT 1 FROM "{family.db_table}" f '
            f'WHERE f."id" = %s AND f."user_id" = u."id" AND f."revoked_at" IS NOT NULL) '
            f'AS "login_revoked" FROM "{user.db_table}" u WHERE u."id" = %s')


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
        family = validated_token.get(FAMILY_CLAIM)
        try:
            user_id = uuid.UUID(str(user_id))
            family = uuid.UUID(str(family)) if family else None
        except ValueError as exc:
            raise InvalidToken({"detail": "The token's user or login is not recognised.",
                                "code": "token_not_valid"}) from exc
        model = self.user_model
        db = router.db_for_read(model)
        with connections[db].cursor() as cursor:
            cursor.execute(_user_sql(model), [family, user_id])
            row = cursor.fetchone()
        if row is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        *values, login_revoked = row
        user = model.from_db(db, _field_names(model), values)
        if login_revoked:
            raise InvalidToken({"detail": "This token's login was revoked.",
                                "code": "token_revoked"})
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user
