from core.routers import OptionalSlashRouter
from customers.api import CustomerViewSet

router = OptionalSlashRouter()
router.register("customers", CustomerViewSet, basename="customer")
urlpatterns = router.urls
