from csp.decorators import csp_update
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerSplitView

from config import health
from core import metrics
from core.schema_view import SchemaView


@csrf_exempt  # no session is read: a JSON 404 for any method, never a CSRF page
def api_not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "Not found."}, status=404)


api_patterns = [
    path("", include("accounts.urls")),
    path("", include("customers.urls")),
    path("", include("policies.urls")),
    path("", include("claims.urls")),
    path("", include("documents.urls")),
    path("", include("compliance.urls")),
    path("", include("events.urls")),
    re_path(r"^schema/?$", SchemaView.as_view(), name="schema"),
    # Swagger UI sets inline styles; its scripts stay 'self' only (split view).
    re_path(r"^docs/?$", csp_update({"style-src": ["'unsafe-inline'"]})(
        SpectacularSwaggerSplitView.as_view(url_name="schema")), name="docs"),
    # Anything else under /api/ (an unknown path, an id of the wrong form): a JSON 404
    # in the API's error shape, never the portal's HTML page.
    re_path(r"^", api_not_found),
]

urlpatterns = [
    re_path(r"^health/?$", health.health, name="health"),
    re_path(r"^health/live/?$", health.live, name="health-live"),
    re_path(r"^health/ready/?$", health.ready, name="health-ready"),
    re_path(r"^metrics/?$", metrics.metrics_view, name="prometheus-django-metrics"),
    path("api/", include(api_patterns)),
    path("admin/", admin.site.urls),
    path("portal/", include("config.portal_urls")),
    path("", RedirectView.as_view(url="/portal/", permanent=False)),
]

admin.site.site_header = "Insurance back-office"
admin.site.site_title = "Insurance back-office"
admin.site.index_title = "Operations"
# Lists are the staff's work surface: at 1280 px they get the whole width (the
# breadcrumbs and the index lead everywhere the sidebar did).
admin.site.enable_nav_sidebar = False


handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
# A database outage answers 503 with Retry-After; anything else stays a 500.
handler500 = "config.errors.server_error"
