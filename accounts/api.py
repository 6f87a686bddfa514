from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services


class LoginInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class RefreshInput(serializers.Serializer):
    refresh_token = serializers.CharField()


class TokenOutput(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()


_ERROR = inline_serializer("AuthError", {"detail": serializers.CharField()})


class MeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.CharField()
    agency = serializers.UUIDField(source="agency_id", allow_null=True)
    authority_limit = serializers.DecimalField(max_digits=14, decimal_places=2)


class MeView(APIView):
    """Who the caller is: role, agency and authority limit."""

    @extend_schema(responses={200: MeOutput, 401: _ERROR}, tags=["auth"])
    def get(self, request):
        return Response(MeOutput(request.user).data)


class _AuthView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def _locked(self, exc):
        return Response(exc.as_data(), status=429, headers={"Retry-After": str(exc.retry_after)})

    def _unauthorized(self, exc):
        return Response(exc.as_data(), status=401,
                        headers={"WWW-Authenticate": 'Bearer realm="api"'})


class LoginView(_AuthView):
    @extend_schema(
        request=LoginInput,
        responses={200: TokenOutput, 400: OpenApiResponse(description="Missing fields"),
                   401: _ERROR, 429: _ERROR},
        tags=["auth"],
    )
    def post(self, request):
        data = LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            pair = services.auth_login(request=request._request, **data.validated_data)
        except services.LoginLocked as exc:
            return self._locked(exc)
        except services.BadCredentials as exc:
            return self._unauthorized(exc)
        return Response(TokenOutput(pair).data)


class RefreshView(_AuthView):
    @extend_schema(
        request=RefreshInput,
        responses={200: TokenOutput, 401: OpenApiResponse(
            _ERROR, description="Invalid, expired or revoked. Presenting a refresh token "
                                "that was already rotated revokes every token of that "
                                "login (theft detection).")},
        tags=["auth"])
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            pair = services.auth_refresh(refresh_token=data.validated_data["refresh_token"],
                                         request=request._request)
        except services.BadCredentials as exc:
            return self._unauthorized(exc)
        return Response(TokenOutput(pair).data)


class LogoutView(_AuthView):
    @extend_schema(request=RefreshInput, responses={204: None, 401: _ERROR}, tags=["auth"])
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.auth_logout(refresh_token=data.validated_data["refresh_token"])
        except services.BadCredentials as exc:
            return self._unauthorized(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)
