from claims.api import ClaimViewSet
from config.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("claims", ClaimViewSet, basename="claim")
urlpatterns = router.urls
