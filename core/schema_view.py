from django.shortcuts import redirect
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """/api/schema: the OpenAPI document for programs (YAML, or JSON with
    `?format=json` or `Accept: application/json`), shown inline rather than offered as
    a download; a browser asking for a page is sent to the interactive docs."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        accept = request.META.get("HTTP_ACCEPT", "")
        if "text/html" in accept and "format" not in request.query_params:
            return redirect("docs")
        response = super().get(request, *args, **kwargs)
        response["Content-Disposition"] = "inline"
        return response
