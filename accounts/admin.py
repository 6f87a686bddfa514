from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts import services
from accounts.models import Agency, User


class AdminLoginForm(AdminAuthenticationForm):
    """The admin login shares the API's lockout (5 per email, 50 per address)."""

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is None or not password:
            return self.cleaned_data
        try:
            self.user_cache = services.auth_check_credentials(
                request=self.request, email=email, password=password)
        except services.LoginLocked as exc:
            raise forms.ValidationError(
                "Too many failed attempts. Try again in %(minutes)d minutes.",
                code="locked", params={"minutes": max(1, exc.retry_after // 60)},
            ) from exc
        except services.BadCredentials as exc:
            raise self.get_invalid_login_error() from exc
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


admin.site.login_form = AdminLoginForm


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
    ordering = ("name",)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "role", "agency")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict = {}
        widgets = {"email": forms.EmailInput}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    list_display = ("email", "role", "agency", "is_active", "last_login")
    list_filter = ("role", "is_active", "agency")
    list_select_related = ("agency",)
    search_fields = ("email", "first_name", "last_name", "agency__name")
    autocomplete_fields = ("agency",)
    ordering = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name")}),
        ("Role", {"fields": ("role", "agency", "is_active", "is_staff", "groups",
                             "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("email", "role", "agency", "password1", "password2")}),
    )
    filter_horizontal = ("groups", "user_permissions")
