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
    list_display = ("email", "full_name", "role", "agency", "authority_limit", "is_active",
                    "last_login")
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
        ("Claims authority", {"fields": ("authority_limit",),
                              "description": "Claims this person approves and payments they "
                                             "make above this amount wait for a second "
                                             "person's approval."}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("email", "role", "agency", "password1", "password2")}),
    )
    filter_horizontal = ("groups", "user_permissions")

    @admin.display(description="name", ordering="last_name")
    def full_name(self, user):
        return f"{user.first_name} {user.last_name}".strip() or "—"

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        # Groups and raw permissions are framework internals: superusers only.
        out = []
        for name, opts in fieldsets:
            fields = tuple(f for f in opts["fields"] if f not in ("groups", "user_permissions"))
            out.append((name, {**opts, "fields": fields}))
        return out


# Framework internals (groups, JWT blacklist tables) are for superusers: staff
# work with roles and authority limits, not with these.
def _superusers_only(model):
    from django.contrib.admin.sites import NotRegistered

    try:
        base = type(admin.site.get_model_admin(model))
    except NotRegistered:
        return
    admin.site.unregister(model)

    class SuperuserOnly(base):
        def has_module_permission(self, request):
            return request.user.is_active and request.user.is_superuser

        def has_view_permission(self, request, obj=None):
            return request.user.is_active and request.user.is_superuser

        def has_change_permission(self, request, obj=None):
            return request.user.is_active and request.user.is_superuser

        def has_add_permission(self, request, *args):
            return request.user.is_active and request.user.is_superuser

        def has_delete_permission(self, request, obj=None):
            return request.user.is_active and request.user.is_superuser

    SuperuserOnly.__name__ = base.__name__
    admin.site.register(model, SuperuserOnly)


def hide_framework_internals():
    from django.contrib.auth.models import Group
    from rest_framework_simplejwt.token_blacklist.models import (
        BlacklistedToken,
        OutstandingToken,
    )

    for model in (Group, OutstandingToken, BlacklistedToken):
        _superusers_only(model)


hide_framework_internals()
