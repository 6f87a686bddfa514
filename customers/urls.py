from customers.api import CustomerViewSet
from config.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("customers", CustomerViewSet, basename="customer")
urlpatterns = router.urls
