import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.fields import DateField, MoneyField
from core.lean import LeanListMixin, LeanRows
from policies import selectors, services
from policies.models import Policy, PolicyStatus, PolicyType


class PolicyOutput(serializers.ModelSerializer):
    customer_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Policy
        fields = (
            "id", "policy_number", "customer_id", "policy_type", "premium_amount",
            "coverage_amount", "start_date", "end_date", "status", "cancelled_at",
            "cancellation_reason", "created_at", "updated_at",
        )
        read_only_fields = fields


class PolicyCreateInput(serializers.Serializer):
    customer_id = serializers.UUIDField()
    policy_type = serializers.ChoiceField(choices=PolicyType.choices)
    premium_amount = MoneyField(max_digits=12)
    coverage_amount = MoneyField(max_digits=14)
    start_date = DateField()
    end_date = DateField()


class PolicyCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class PolicySummaryRow(serializers.Serializer):
    policy_type = serializers.ChoiceField(choices=PolicyType.choices)
    count = serializers.IntegerField()
    total_premium = MoneyField(max_digits=16)
    avg_premium = MoneyField(max_digits=16)


class PolicyFilter(django_filters.FilterSet):
    customer_id = django_filters.UUIDFilter(field_name="customer_id")
    status = django_filters.ChoiceFilter(choices=PolicyStatus.choices)
    policy_type = django_filters.ChoiceFilter(choices=PolicyType.choices)

    class Meta:
        model = Policy
        fields = ("customer_id", "status", "policy_type")


class PolicyViewSet(LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    queryset = Policy.objects.none()
    perm_model = Policy
    serializer_class = PolicyOutput
    filterset_class = PolicyFilter
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    search_fields = ("policy_number",)
    ordering_fields = ("created_at", "start_date", "end_date", "premium_amount")
    ordering = ("-created_at",)
    action_perms = {
        "cancel": ["policies.change_policy"],
        "summary": ["policies.view_policy"],
    }
    # The list is read with .values() and shaped from PolicyOutput's own fields.
    lean_rows = LeanRows(PolicyOutput)

    def get_queryset(self):
        return selectors.policies_visible_to(self.request.user)

    @extend_schema(request=PolicyCreateInput, responses={201: PolicyOutput})
    def create(self, request):
        data = PolicyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_create(actor=request.user, **data.validated_data)
        return Response(PolicyOutput(policy).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PolicyCancelInput, responses={200: PolicyOutput})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        policy = self.get_object()
        data = PolicyCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_cancel(actor=request.user, policy=policy,
                                        reason=data.validated_data["reason"])
        return Response(PolicyOutput(policy).data)

    @extend_schema(responses={200: PolicySummaryRow(many=True)}, filters=False)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def summary(self, request):
        rows = selectors.policy_summary(user=request.user)
        return Response(PolicySummaryRow(rows, many=True).data)
