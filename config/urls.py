from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health
from core import metrics

api_patterns = [
    path("", include("accounts.urls")),
    path("", include("customers.urls")),
    path("", include("policies.urls")),
    path("", include("claims.urls")),
    path("", include("documents.urls")),
    path("", include("compliance.urls")),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI sets inline styles; its scripts stay 'self' only (split view).
    re_path(r"^docs/?$", csp_update({"style-src": ["'unsafe-inline'"]})(
        SpectacularSwaggerSplitView.as_view(url_name="schema")), name="docs"),
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

