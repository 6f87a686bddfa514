from core.routers import OptionalSlashRouter
from policies.api import PolicyViewSet, QuoteViewSet

router = OptionalSlashRouter()
router.register("policies", PolicyViewSet, basename="policy")
router.register("quotes", QuoteViewSet, basename="quote")
urlpatterns = router.urls
