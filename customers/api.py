from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts.models import Agency
from core.fields import DateField
from core.lean import LeanListMixin, LeanRows
from customers import selectors, services
from customers.models import Customer


class CustomerOutput(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = (
            "id", "email", "first_name", "last_name", "phone", "date_of_birth", "address",
            "gdpr_consent", "gdpr_consent_date", "broker", "created_at", "updated_at",
        )
        read_only_fields = fields


class CustomerCreateInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True,
        help_text="E.164 (+447700900123) or as written in the default region "
                  "(07700 900123); returned in E.164")
    date_of_birth = DateField(required=False, allow_null=True)
    address = serializers.CharField(max_length=1000, required=False, allow_blank=True,
                                    allow_null=True)
    gdpr_consent = serializers.BooleanField(
        required=False, help_text="Must be true: no customer is held without consent."
    )
    broker = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), required=False, allow_null=True,
        help_text="Agency id; a broker's own agency by default.",
    )


class CustomerViewSet(
    LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Customer.objects.none()
    perm_model = Customer
    serializer_class = CustomerOutput
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    search_fields = ("first_name", "last_name", "email")
    ordering_fields = ("created_at", "updated_at", "last_name", "first_name", "email")
    ordering = ("-created_at",)
    http_method_names = ["get", "post", "patch", "head", "options"]
    # The list is read with .values() and shaped from CustomerOutput's own fields.
    lean_rows = LeanRows(CustomerOutput)

    def get_queryset(self):
        return selectors.customers_visible_to(self.request.user)

    @extend_schema(request=CustomerCreateInput, responses={201: CustomerOutput})
    def create(self, request):
        data = CustomerCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["gdpr_consent"] = values.get("gdpr_consent", False)
        customer = services.customer_create(actor=request.user, **values)
        return Response(CustomerOutput(customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CustomerCreateInput, responses={200: CustomerOutput})
    def partial_update(self, request, pk=None):
        customer = self.get_object()
        data = CustomerCreateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        customer = services.customer_update(
            actor=request.user, customer=customer, data=data.validated_data
        )
        return Response(CustomerOutput(customer).data)
