import hashlib
import json
import uuid

import django_filters
from django import forms
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsStaffRole
from claims import events, selectors, services
from claims.models import (
    ApprovalStatus,
    Claim,
    ClaimApproval,
    ClaimStatus,
    ClaimType,
    NoteVisibility,
    is_overdue,
)
from core.fields import DateField, MoneyField
from core.lean import LeanListMixin, LeanRows, decimal_text, url_for_pk


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


_INCURRED = serializers.DecimalField(max_digits=15, decimal_places=2)  # reserve + paid
_incurred_text = decimal_text(_INCURRED)


class ClaimOutput(serializers.ModelSerializer):
    policy_id = serializers.UUIDField(read_only=True)
    documents = serializers.SerializerMethodField()
    assignee_id = serializers.UUIDField(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    incurred = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = (
            "id", "claim_number", "policy_id", "claim_type", "claim_amount", "description",
            "incident_date", "status", "reported_date", "processed_date", "documents",
            "assignee_id", "status_since", "sla_due_at", "overdue", "reserve", "paid",
            "incurred", "created_at", "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, claim) -> bool:
        return claim.overdue

    @extend_schema_field(serializers.DecimalField(max_digits=15, decimal_places=2))
    def get_incurred(self, claim) -> str:
        return _INCURRED.to_representation(claim.incurred)

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
    status = serializers.ChoiceField(choices=ClaimStatus.choices, required=False)
    assignee_id = serializers.UUIDField(required=False, allow_null=True,
                                        help_text="A staff user's id, or null to unassign. "
                                                  "Staff only.")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {"status": ["Send `status` (or `assignee_id`)."]})
        return attrs


class ApprovalOutput(serializers.ModelSerializer):
    claim_id = serializers.UUIDField(read_only=True)
    requested_by = serializers.UUIDField(source="requested_by_id", read_only=True)
    decided_by = serializers.UUIDField(source="decided_by_id", read_only=True, allow_null=True)
    payment_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = ClaimApproval
        fields = ("id", "kind", "claim_id", "amount", "payee", "final", "requested_by",
                  "status", "decided_by", "decided_at", "payment_id", "created_at")
        read_only_fields = fields


class NoteOutput(serializers.Serializer):
    id = serializers.UUIDField()
    claim_id = serializers.UUIDField()
    visibility = serializers.ChoiceField(choices=NoteVisibility.choices)
    text = serializers.CharField()
    author_id = serializers.UUIDField(allow_null=True)
    author_name = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, note):
        return events.note_data(note)


# The services strip and refuse blank text; the length bound applies to what was sent,
# as the schema says (DRF would trim first and then measure).
class NoteInput(serializers.Serializer):
    text = serializers.CharField(max_length=services.MAX_NOTE_LENGTH, trim_whitespace=False)
    visibility = serializers.ChoiceField(choices=NoteVisibility.choices)


class ReserveInput(serializers.Serializer):
    amount = MoneyField(max_digits=14)
    reason = serializers.CharField(max_length=500, trim_whitespace=False)


class PaymentInput(serializers.Serializer):
    amount = MoneyField(max_digits=14)
    payee = serializers.CharField(max_length=200, trim_whitespace=False)
    final = serializers.BooleanField(required=False, default=False)


class ReserveChangeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    claim_id = serializers.UUIDField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2,
                                      help_text="The new outstanding reserve.")
    previous = serializers.DecimalField(max_digits=14, decimal_places=2)
    reason = serializers.CharField()
    actor_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


class PaymentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    claim_id = serializers.UUIDField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    payee = serializers.CharField()
    final = serializers.BooleanField()
    actor_id = serializers.UUIDField(allow_null=True)
    approved_by_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


class FinancialsOutput(serializers.Serializer):
    reserve = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    incurred = serializers.DecimalField(max_digits=15, decimal_places=2)
    reserve_changes = ReserveChangeOutput(many=True)
    payments = PaymentOutput(many=True)


def _assignee_value(value: str) -> str:
    if value in ("me", "none"):
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise forms.ValidationError("Use me, none or a user id.") from exc


class AssigneeField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return _assignee_value(value) if value else value


class AssigneeFilter(django_filters.CharFilter):
    field_class = AssigneeField


class ClaimFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ClaimStatus.choices)
    policy_id = django_filters.UUIDFilter(field_name="policy_id")
    claim_type = django_filters.ChoiceFilter(choices=ClaimType.choices)
    assignee = AssigneeFilter(method="filter_assignee",
                              help_text="`me`, `none` (unassigned) or a staff user's id.")
    overdue = django_filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")],
                                          method="filter_overdue",
                                          help_text="Past their SLA due time (`true`) or not.")

    class Meta:
        model = Claim
        fields = ("status", "policy_id", "claim_type", "assignee", "overdue")

    def filter_assignee(self, queryset, name, value):
        return selectors.claims_filter_assignee(queryset, user=self.request.user, assignee=value)

    def filter_overdue(self, queryset, name, value):
        return selectors.claims_overdue(queryset, overdue=value == "true")


def _fingerprint(request, data: dict) -> str:
    body = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path.rstrip('/')} {body}".encode()
                          ).hexdigest()


# The lean list's row plans (core.lean): derived from the serializers above, so a
# field added to ClaimOutput appears in the list too; a new SerializerMethodField is
# named here and filled in ClaimViewSet.lean_methods.
CLAIM_ROWS = LeanRows(ClaimOutput, methods=("documents", "overdue", "incurred"))
DOCUMENT_ROWS = LeanRows(ClaimDocumentOutput, methods=("download_url",))


class ClaimViewSet(LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   viewsets.GenericViewSet):
    queryset = Claim.objects.none()
    perm_model = Claim
    serializer_class = ClaimOutput
    filterset_class = ClaimFilter
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    search_fields = ("claim_number",)
    ordering_fields = ("created_at", "incident_date", "claim_amount", "status", "sla_due_at",
                       "status_since")
    ordering = ("-created_at",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    lean_rows = CLAIM_ROWS

    def get_queryset(self):
        return selectors.claims_visible_to(self.request.user).prefetch_related("documents")

    def lean_methods(self, rows):
        """The page's documents in one query, newest first (as the prefetch)."""
        documents: dict = {}
        if rows:
            url = url_for_pk("document-download")
            docs = selectors.claim_documents_values(
                claim_ids=[row["id"] for row in rows],
                columns=("claim_id", *DOCUMENT_ROWS.columns))
            shaped = DOCUMENT_ROWS.rows(
                docs, {"download_url": lambda doc: url(doc["id"])})
            for doc, item in zip(docs, shaped, strict=True):
                documents.setdefault(doc["claim_id"], []).append(item)
        now = timezone.now()
        return {
            "documents": lambda row: documents.get(row["id"], []),
            "overdue": lambda row: is_overdue(row["sla_due_at"], now),
            "incurred": lambda row: _incurred_text(row["reserve"] + row["paid"]),
        }

    @extend_schema(request=ClaimCreateInput, responses={201: ClaimOutput})
    def create(self, request):
        data = ClaimCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.claim_create(actor=request.user, **data.validated_data)
        return Response(ClaimOutput(claim).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ClaimStatusInput,
        responses={200: ClaimOutput,
                   202: OpenApiResponse(ApprovalOutput, description="Approving above the "
                                        "caller's authority limit: a pending approval."),
                   400: OpenApiResponse(description="Invalid status or assignee."),
                   403: OpenApiResponse(description="Brokers may not approve, deny or assign."),
                   404: OpenApiResponse(description="No such claim, or not visible."),
                   409: OpenApiResponse(description="Transition not allowed from the "
                                        "current status (names the allowed next).")})
    def partial_update(self, request, pk=None):
        claim = self.get_object()
        data = ClaimStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "assignee_id" in values:
            claim = services.claim_assign(claim_id=claim.pk, assignee_id=values["assignee_id"],
                                          actor=request.user)
        if "status" in values:
            result = services.claim_transition(claim_id=claim.pk, to=values["status"],
                                               actor=request.user)
            if isinstance(result, ClaimApproval):
                return Response(ApprovalOutput(result).data, status=status.HTTP_202_ACCEPTED)
            claim = result
        return Response(ClaimOutput(claim).data)

    @extend_schema(methods=["GET"], responses={200: inline_serializer("PaginatedNoteList", {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": NoteOutput(many=True)}),
        404: OpenApiResponse(description="No such claim, or not visible.")},
                   description="The claim's notes; brokers see shared notes only.")
    @extend_schema(methods=["POST"], request=NoteInput,
                   responses={201: NoteOutput,
                              400: OpenApiResponse(description="Blank text, bad visibility."),
                              403: OpenApiResponse(description="A broker writing an internal "
                                                               "note."),
                              404: OpenApiResponse(description="No such claim, or not "
                                                               "visible.")})
    @action(detail=True, methods=["get", "post"], url_path="notes")
    def notes(self, request, pk=None):
        claim = self.get_object()
        if request.method == "GET":
            notes = selectors.claim_notes_visible_to(request.user, claim=claim)
            page = self.paginate_queryset(notes)
            return self.get_paginated_response(NoteOutput(page, many=True).data)
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.note_create(claim_id=claim.pk, actor=request.user,
                                    **data.validated_data)
        return Response(NoteOutput(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReserveInput,
                   responses={201: ReserveChangeOutput,
                              400: OpenApiResponse(description="Negative, or reserve plus "
                                                   "paid above the policy's coverage."),
                              403: OpenApiResponse(description="Staff only."),
                              404: OpenApiResponse(description="No such claim, or not "
                                                               "visible."),
                              409: OpenApiResponse(description="Denied or closed claim.")})
    @action(detail=True, methods=["post"], url_path="reserve")
    def reserve(self, request, pk=None):
        claim = self.get_object()
        data = ReserveInput(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.reserve_set(claim_id=claim.pk, actor=request.user,
                                      **data.validated_data)
        return Response(ReserveChangeOutput(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: FinancialsOutput,
                              404: OpenApiResponse(description="No such claim, or not "
                                                               "visible.")})
    @action(detail=True, methods=["get"], url_path="financials")
    def financials(self, request, pk=None):
        claim = self.get_object()
        return Response(FinancialsOutput(selectors.claim_financials(claim=claim)).data)

    @extend_schema(
        request=PaymentInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                                     required=True,
                                     description="Unique per payment; a retry with the same "
                                                 "key and body returns the first response.")],
        responses={201: PaymentOutput,
                   202: OpenApiResponse(ApprovalOutput, description="Above the caller's "
                                        "authority limit: a pending approval."),
                   400: OpenApiResponse(description="No Idempotency-Key; amount not positive "
                                        "or paid plus amount above the claim amount."),
                   403: OpenApiResponse(description="Staff only."),
                   404: OpenApiResponse(description="No such claim, or not visible."),
                   409: OpenApiResponse(description="Claim not approved; the key was used "
                                        "with another body, or is in flight.")})
    @action(detail=True, methods=["post"], url_path="payments")
    def payments(self, request, pk=None):
        claim = self.get_object()
        if not request.user.is_staff_role:
            raise services.Forbidden("Only staff may make payments.")
        key = services.idempotency_key_check(request.headers.get("Idempotency-Key"))
        data = PaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data

        def perform():
            result = services.payment_make(claim_id=claim.pk, actor=request.user, **values)
            if isinstance(result, ClaimApproval):
                return status.HTTP_202_ACCEPTED, dict(ApprovalOutput(result).data)
            return status.HTTP_201_CREATED, dict(PaymentOutput(result).data)

        code, body, replayed = services.idempotent(
            actor=request.user, key=key, fingerprint=_fingerprint(request, values),
            claim_id=claim.pk, perform=perform)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(body, status=code, headers=headers)


class ApprovalFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ApprovalStatus.choices)
    kind = django_filters.ChoiceFilter(choices=ClaimApproval._meta.get_field("kind").choices)
    claim_id = django_filters.UUIDFilter(field_name="claim_id")

    class Meta:
        model = ClaimApproval
        fields = ("status", "kind", "claim_id")


@extend_schema(description="Approvals waiting for a second person (four eyes). Staff only.")
class ApprovalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    queryset = ClaimApproval.objects.none()
    permission_classes = [IsStaffRole]
    staff_only = True
    serializer_class = ApprovalOutput
    filterset_class = ApprovalFilter
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    ordering_fields = ("created_at", "amount")
    ordering = ("created_at",)

    def get_queryset(self):
        return selectors.approvals_visible_to(self.request.user)

    def _decide(self, request, approve: bool):
        approval = self.get_object()
        approval = services.approval_decide(approval_id=approval.pk, actor=request.user,
                                            approve=approve)
        return Response(ApprovalOutput(approval).data)

    _DECISION = {200: ApprovalOutput,
                 403: OpenApiResponse(description="The requester, or a limit below the "
                                                  "amount."),
                 404: OpenApiResponse(description="No such approval."),
                 409: OpenApiResponse(description="Already decided, or the action no longer "
                                                  "fits the claim's state.")}

    @extend_schema(request=None, responses=_DECISION)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, True)

    @extend_schema(request=None, responses=_DECISION)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, False)
