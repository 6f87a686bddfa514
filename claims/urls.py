from claims.api import ClaimViewSet
from core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("claims", ClaimViewSet, basename="claim")
urlpatterns = router.urls
