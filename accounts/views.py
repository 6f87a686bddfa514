"""Portal sign-in and sign-out, and the access rule every portal page shares."""

import math
from functools import wraps

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import LoginForm
from accounts.services import BadCredentials, LoginLocked, auth_check_credentials

READ_METHODS = ("GET", "HEAD")


def may_use_portal(user) -> bool:
    return bool(user.is_authenticated and user.is_active
                and (user.is_broker or user.is_staff_role))


def portal_page(view=None, *, methods=READ_METHODS, write=False):
    """Signed-in brokers use the portal; staff may look (never write); others get 403.

    `write=True` marks a page that changes data on POST.
    """

    def decorator(fn):
        @wraps(fn)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                if request.htmx:  # a fragment request: send the whole page to sign-in
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
                    return response
                return redirect_to_login(request.get_full_path())
            if not may_use_portal(user):
                raise PermissionDenied("The portal is for brokers; service accounts use the API.")
            if write and request.method not in READ_METHODS and not user.is_broker:
                raise PermissionDenied("Staff can view the portal; changes are made in the admin.")
            response = fn(request, *args, **kwargs)
            patch_vary_headers(response, ("HX-Request",))
            return response

        return never_cache(require_http_methods(list(methods))(wrapper))

    return decorator(view) if view is not None else decorator


def render_page(request, template: str, context: dict, *, partial: str | None = None,
                status: int = 200):
    """A full page, or only the named partial for an HTMX request that asked for one."""
    name = template
    if partial and request.htmx and not request.htmx.history_restore_request:
        name = f"{template}#{partial}"
    return render(request, name, context, status=status)


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return ""


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request):
    next_url = _safe_next(request)
    if request.method != "POST" and may_use_portal(request.user):
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    status, error, headers = 200, "", {}
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            try:
                user = auth_check_credentials(
                    request=request,
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                )
            except LoginLocked as exc:
                minutes = max(1, math.ceil(exc.retry_after / 60))
                status, headers["Retry-After"] = 429, str(exc.retry_after)
                error = (f"Too many failed sign-in attempts. Sign-in is locked for "
                         f"{minutes} minute{'s' if minutes != 1 else ''}; try again later.")
            except BadCredentials:
                status, headers["WWW-Authenticate"] = 401, 'FormBased realm="portal"'
                error = "Invalid email or password."
            else:
                if not may_use_portal(user):
                    status = 403
                    error = "This portal is for brokers. Service accounts use the API."
                else:
                    login(request, user)
                    return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    response = render(request, "accounts/login.html",
                      {"form": form, "error": error, "next": next_url}, status=status)
    for key, value in headers.items():
        response[key] = value
    return response


@require_POST
@csrf_protect
def logout_view(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
