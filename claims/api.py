import django_filters
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from claims import selectors, services
from claims.models import Claim, ClaimStatus, ClaimType
from core.fields import DateField, MoneyField
from core.lean import LeanListMixin, LeanRows


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


_PK = "00000000-0000-0000-0000-000000000000"

# The lean list's row plans (core.lean): derived from the serializers above, so a
# field added to ClaimOutput appears in the list too; a new SerializerMethodField is
# named here and filled in ClaimViewSet.lean_methods.
CLAIM_ROWS = LeanRows(ClaimOutput, methods=("documents",))
DOCUMENT_ROWS = LeanRows(ClaimDocumentOutput, methods=("download_url",))


class ClaimViewSet(LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   viewsets.GenericViewSet):
    queryset = Claim.objects.none()
    perm_model = Claim
    serializer_class = ClaimOutput
    filterset_class = ClaimFilter
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    search_fields = ("claim_number",)
    ordering_fields = ("created_at", "incident_date", "claim_amount", "status")
    ordering = ("-created_at",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    lean_rows = CLAIM_ROWS

    def get_queryset(self):
        return selectors.claims_visible_to(self.request.user).prefetch_related("documents")

    def lean_methods(self, rows):
        """The page's documents in one query, newest first (as the prefetch)."""
        documents: dict = {}
        if rows:
            url = reverse("document-download", kwargs={"pk": _PK})
            docs = selectors.claim_documents_values(
                claim_ids=[row["id"] for row in rows],
                columns=("claim_id", *DOCUMENT_ROWS.columns))
            shaped = DOCUMENT_ROWS.rows(
                docs, {"download_url": lambda doc: url.replace(_PK, str(doc["id"]))})
            for doc, item in zip(docs, shaped, strict=True):
                documents.setdefault(doc["claim_id"], []).append(item)
        return {"documents": lambda row: documents.get(row["id"], [])}

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
