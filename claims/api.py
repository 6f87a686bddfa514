import django_filters
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from claims import selectors, services
from claims.models import Claim, ClaimStatus, ClaimType
from core.fields import DateField, MoneyField


class ClaimDocumentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    filename = serializers.CharField()
    mime_type = serializers.CharField()
    size = serializers.IntegerField()
    document_type = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, doc) -> str:
        return reverse("document-download", kwargs={"pk": doc.pk})


class ClaimOutput(serializers.ModelSerializer):
    policy_id = serializers.UUIDField(read_only=True)
    documents = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = (
            "id", "claim_number", "policy_id", "claim_type", "claim_amount", "description",
            "incident_date", "status", "reported_date", "processed_date", "documents",
            "created_at", "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(ClaimDocumentOutput(many=True))
    def get_documents(self, claim):
        # Prefetched by the view: never one query per claim.
        return ClaimDocumentOutput(claim.documents.all(), many=True).data


class ClaimCreateInput(serializers.Serializer):
    policy_id = serializers.UUIDField()
    claim_type = serializers.ChoiceField(choices=ClaimType.choices)
    claim_amount = MoneyField(max_digits=14)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    incident_date = DateField()


class ClaimStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=ClaimStatus.choices)


class ClaimFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ClaimStatus.choices)
    policy_id = django_filters.UUIDFilter(field_name="policy_id")
    claim_type = django_filters.ChoiceFilter(choices=ClaimType.choices)

    class Meta:
        model = Claim
        fields = ("status", "policy_id", "claim_type")


class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Claim.objects.none()
    perm_model = Claim
    serializer_class = ClaimOutput
    filterset_class = ClaimFilter
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    search_fields = ("claim_number",)
    ordering_fields = ("created_at", "incident_date", "claim_amount", "status")
    ordering = ("-created_at",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.claims_visible_to(self.request.user).prefetch_related("documents")

    @extend_schema(request=ClaimCreateInput, responses={201: ClaimOutput})
    def create(self, request):
        data = ClaimCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.claim_create(actor=request.user, **data.validated_data)
        return Response(ClaimOutput(claim).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ClaimStatusInput, responses={200: ClaimOutput})
    def partial_update(self, request, pk=None):
        claim = self.get_object()
        data = ClaimStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.claim_transition(
            claim_id=claim.pk, to=data.validated_data["status"], actor=request.user
        )
        return Response(ClaimOutput(claim).data)
