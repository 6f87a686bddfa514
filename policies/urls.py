from core.routers import OptionalSlashRouter
from policies.api import PolicyViewSet

router = OptionalSlashRouter()
router.register("policies", PolicyViewSet, basename="policy")
urlpatterns = router.urls
