from django.urls import re_path

from accounts import api

urlpatterns = [
    re_path(r"^auth/login/?$", api.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", api.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/logout/?$", api.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/me/?$", api.MeView.as_view(), name="auth-me"),
]
