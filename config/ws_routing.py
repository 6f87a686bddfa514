from django.urls import path

from claims.consumers import ClaimStatusConsumer

websocket_urlpatterns = [
    path("ws/claims/", ClaimStatusConsumer.as_asgi()),
]
