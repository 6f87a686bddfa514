from core.routers import OptionalSlashRouter
from events.api import WebhookViewSet

router = OptionalSlashRouter()
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = router.urls
