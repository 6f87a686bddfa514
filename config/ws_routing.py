from django.urls import path

websocket_urlpatterns: list = []

try:  # the live claim status consumer
    from claims.consumers import ClaimStatusConsumer

    websocket_urlpatterns.append(path("ws/claims/", ClaimStatusConsumer.as_asgi()))
except ImportError:  # pragma: no cover - consumer arrives with the portal work
    pass
