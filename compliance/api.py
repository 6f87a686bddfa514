"""Audit trail API (staff only) and the GDPR erasure and export endpoints."""

import uuid

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaffRole
from compliance import selectors, services
from compliance.models import AuditEntry
from core.fields import DateField, MoneyField
from core.filters import StrictFilterBackend
from customers.selectors import customers_visible_to

_STAFF_ONLY = ("Staff only: 401 without credentials, 403 for brokers and integrators.")


class AuditEntryOutput(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="Id of the user who acted; null for "
                                                        "the system or an anonymous caller.")
    action = serializers.SerializerMethodField()
    resource_type = serializers.SerializerMethodField()
    resource_id = serializers.CharField(source="object_pk")
    changes = serializers.JSONField(
        help_text="Field name to [old, new]. Encrypted fields show only that they changed; "
                  "an erased person's data shows as [erased].")
    request_id = serializers.CharField(source="cid", allow_null=True)
    seq = serializers.IntegerField(help_text="Position in the tamper-evident hash chain.")

    class Meta:
        model = AuditEntry
        fields = ("id", "timestamp", "actor", "action", "resource_type", "resource_id",
                  "changes", "remote_addr", "request_id", "seq")
        read_only_fields = fields

    def get_actor(self, entry) -> str | None:
        return entry.actor_ref or None

    @extend_schema_field(serializers.ChoiceField(choices=list(AuditEntry.ACTION_NAMES.values())))
    def get_action(self, entry) -> str:
        return entry.action_name

    def get_resource_type(self, entry) -> str:
        return selectors.resource_type_of(entry.content_type)


class AuditEntryFilter(django_filters.FilterSet):
    resource_type = django_filters.ChoiceFilter(
        choices=[(k, k) for k in selectors.RESOURCE_MODELS], method="_noop")
    resource_id = django_filters.CharFilter(method="_noop")
    actor = django_filters.CharFilter(method="_noop",
                                      help_text="The acting user's id or e-mail address.")

    class Meta:
        model = AuditEntry
        fields = ("resource_type", "resource_id", "actor")

    def _noop(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return selectors.audit_entries_filter(
            queryset, resource_type=data.get("resource_type") or None,
            resource_id=data.get("resource_id") or None, actor=data.get("actor") or None)


@extend_schema(description="The audit trail, newest first. " + _STAFF_ONLY)
class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    queryset = AuditEntry.objects.none()
    permission_classes = [IsStaffRole]
    staff_only = True
    serializer_class = AuditEntryOutput
    filterset_class = AuditEntryFilter
    filter_backends = [StrictFilterBackend]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.audit_entries_visible_to(self.request.user)


# --- GDPR ---------------------------------------------------------------------------

class ErasureOutput(serializers.Serializer):
    id = serializers.UUIDField()
    erased = serializers.BooleanField(help_text="Always true after the call.")
    erased_now = serializers.BooleanField(help_text="False when it had been erased before.")
    erased_at = serializers.DateTimeField()
    documents_deleted = serializers.IntegerField()


class _Profile(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField(allow_null=True)
    date_of_birth = DateField(allow_null=True)
    address = serializers.CharField(allow_null=True)
    broker = serializers.UUIDField(allow_null=True, help_text="Agency id.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    erased_at = serializers.DateTimeField(allow_null=True)


class _Consent(serializers.Serializer):
    purpose = serializers.CharField()
    given = serializers.BooleanField()
    given_at = serializers.DateTimeField(allow_null=True)


class _Retention(serializers.Serializer):
    retained_until = DateField(
        help_text="Last policy end (or record creation without a policy) plus the "
                  "retention period; personal data is erased after this day.")


class _Policy(serializers.Serializer):
    id = serializers.UUIDField()
    policy_number = serializers.CharField()
    policy_type = serializers.CharField()
    premium_amount = MoneyField(max_digits=12)
    coverage_amount = MoneyField(max_digits=14)
    start_date = DateField()
    end_date = DateField()
    status = serializers.CharField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancellation_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class _Quote(serializers.Serializer):
    id = serializers.UUIDField()
    quote_number = serializers.CharField()
    policy_type = serializers.CharField()
    coverage_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    risk = serializers.JSONField(help_text="The risk answers given (empty once erased, for "
                                           "quotes never bound).")
    status = serializers.CharField()
    premium_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    decline_reasons = serializers.ListField(child=serializers.CharField())
    valid_until = serializers.DateField()
    policy_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


class _StatusChange(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    changed_at = serializers.DateTimeField()


class _ExportNote(serializers.Serializer):
    id = serializers.UUIDField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class _ExportPayment(serializers.Serializer):
    id = serializers.UUIDField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    payee = serializers.CharField()
    final = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class _Claim(serializers.Serializer):
    id = serializers.UUIDField()
    claim_number = serializers.CharField()
    policy_id = serializers.UUIDField()
    claim_type = serializers.CharField()
    claim_amount = MoneyField(max_digits=14)
    description = serializers.CharField(allow_blank=True)
    incident_date = DateField()
    status = serializers.CharField()
    reported_date = DateField()
    processed_date = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    status_history = _StatusChange(many=True)
    reserve = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    notes = _ExportNote(many=True, help_text="Shared notes (internal notes are not exported).")
    payments = _ExportPayment(many=True)


class _Document(serializers.Serializer):
    id = serializers.UUIDField()
    claim_id = serializers.UUIDField()
    filename = serializers.CharField()
    mime_type = serializers.CharField()
    size = serializers.IntegerField()
    document_type = serializers.CharField()
    uploaded_at = serializers.DateTimeField()


class _AuditAbout(serializers.Serializer):
    id = serializers.IntegerField()
    timestamp = serializers.DateTimeField()
    action = serializers.CharField()
    resource_type = serializers.CharField()
    resource_id = serializers.CharField()
    actor_role = serializers.CharField(allow_null=True,
                                       help_text="Role of who acted (staff, broker, "
                                                 "integrator); never who they are.")
    changes = serializers.JSONField(allow_null=True)


class GdprExportSerializer(serializers.Serializer):
    """Schema of the GDPR export: everything held about one person."""

    schema_version = serializers.IntegerField()
    generated_at = serializers.DateTimeField()
    profile = _Profile()
    consents = _Consent(many=True)
    retention = _Retention()
    policies = _Policy(many=True)
    quotes = _Quote(many=True)
    claims = _Claim(many=True)
    documents = _Document(many=True, help_text="Metadata only; the files are not included.")
    audit_entries = _AuditAbout(many=True,
                                help_text="Entries about the person, their quotes, policies, "
                                          "endorsements, claims and documents.")


def _visible_customer(request, pk):
    try:
        uuid.UUID(str(pk))
    except ValueError as exc:
        raise NotFound("Customer not found.") from exc
    customer = customers_visible_to(request.user).filter(pk=pk).first()
    if customer is None:
        raise NotFound("Customer not found.")
    return customer


class CustomerGdprDeleteView(APIView):
    permission_classes = [IsStaffRole]
    staff_only = True

    @extend_schema(
        operation_id="customers_gdpr_delete",
        tags=["customers"],
        request=None,
        responses={200: ErasureOutput,
                   403: OpenApiResponse(description="Not staff: brokers and integrators "
                                                    "cannot erase."),
                   404: OpenApiResponse(description="No such customer.")},
        description=(
            "Erasure (right to be forgotten): irreversible anonymization of the customer's "
            "personal data (profile, copies in audit entries, documents' files). Policies, "
            "claims and amounts stay for the legal retention period but no longer identify "
            "the person; no new policy can be written for them. Idempotent: repeating it "
            "returns 200 with erased_now false. Staff only: erasure is the insurer's "
            "decision as controller (requester's identity checked, legal holds weighed), so "
            "brokers, who hold only their agency's book, get 403."),
    )
    def delete(self, request, pk):
        customer = _visible_customer(request, pk)
        result = services.customer_erase(actor=request.user, customer=customer, request=request)
        return Response(ErasureOutput({
            "id": result.customer.pk, "erased": True, "erased_now": result.erased_now,
            "erased_at": result.customer.erased_at,
            "documents_deleted": result.documents_deleted,
        }).data)


class CustomerGdprExportView(APIView):
    permission_classes = [IsStaffRole]
    staff_only = True

    @extend_schema(
        operation_id="customers_gdpr_export",
        tags=["customers"],
        responses={200: GdprExportSerializer,
                   403: OpenApiResponse(description="Not staff."),
                   404: OpenApiResponse(description="No such customer.")},
        description=(
            "Subject access export: one JSON document with everything held about the "
            "person (profile, consent, retention date, policies, claims with their status "
            "history, document metadata, audit entries about them), and nothing about "
            "anyone else (staff appear only by role). Each export is itself recorded in "
            "the audit trail. Staff only."),
    )
    def get(self, request, pk):
        customer = _visible_customer(request, pk)
        data = services.customer_export_record(actor=request.user, customer=customer,
                                               request=request)
        return Response(data)

