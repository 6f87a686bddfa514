from claims.api import ApprovalViewSet, ClaimViewSet
from core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("claims", ClaimViewSet, basename="claim")
router.register("approvals", ApprovalViewSet, basename="approval")
urlpatterns = router.urls
