from django.urls import re_path

from compliance.api import AuditEntryViewSet, CustomerGdprDeleteView, CustomerGdprExportView
from core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("audit-logs", AuditEntryViewSet, basename="audit-log")

_UUID = r"(?P<pk>[0-9a-fA-F-]{36})"
urlpatterns = [
    re_path(rf"^customers/{_UUID}/gdpr-delete/?$", CustomerGdprDeleteView.as_view(),
            name="customer-gdpr-delete"),
    re_path(rf"^customers/{_UUID}/gdpr-export/?$", CustomerGdprExportView.as_view(),
            name="customer-gdpr-export"),
    *router.urls,
]
