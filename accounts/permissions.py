"""Who may call what.

- staff: everything;
- broker: the portal and API over its own agency's book (rows are scoped by the
  selectors; some actions are refused by the services);
- integrator: what its Django model permissions grant.
"""

from rest_framework import permissions

_METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def _required_perms(view, request) -> list[str]:
    """`view.action_perms` maps an action to perms; else the method decides."""
    action = getattr(view, "action", None)
    mapping = getattr(view, "action_perms", {}) or {}
    if action in mapping:
        return list(mapping[action])
    model = getattr(view, "perm_model", None)
    if model is None:
        queryset = getattr(view, "queryset", None)
        model = queryset.model if queryset is not None else None
    if model is None:
        return []
    verb = _METHOD_ACTIONS.get(request.method, "change")
    return [f"{model._meta.app_label}.{verb}_{model._meta.model_name}"]


class RolePermission(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if user.is_staff_role:
            return True
        if getattr(view, "staff_only", False):
            return False
        if user.is_broker:
            return True
        if user.is_integrator:
            return user.has_perms(_required_perms(view, request))
        return False


class IsStaffRole(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff_role)
