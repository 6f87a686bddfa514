import datetime

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.fields import DateField, MoneyField
from core.lean import LeanListMixin, LeanRows
from policies import selectors, services
from policies.models import Endorsement, Policy, PolicyStatus, PolicyType, Quote, QuoteStatus
from policies.risk import CONSTRUCTIONS


class RatingPlanRef(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()


# Each product's risk answers, for the schema (policies.risk checks them).
class AutoRisk(serializers.Serializer):
    vehicle_value = MoneyField(max_digits=12, help_text="Value of the vehicle.")
    annual_mileage = serializers.IntegerField(min_value=0, max_value=500_000)
    prior_claims = serializers.IntegerField(min_value=0, max_value=50,
                                            help_text="Claims in the last 5 years. The "
                                            "driver's age comes from the customer's "
                                            "date_of_birth.")


class HomeRisk(serializers.Serializer):
    rebuild_value = MoneyField(max_digits=12)
    construction = serializers.ChoiceField(choices=CONSTRUCTIONS)
    flood_zone = serializers.BooleanField()


class LifeRisk(serializers.Serializer):
    smoker = serializers.BooleanField(help_text="Age comes from the customer's date_of_birth.")


class HealthRisk(serializers.Serializer):
    smoker = serializers.BooleanField(help_text="Age comes from the customer's date_of_birth.")
    deductible = MoneyField(max_digits=12, min_value=0)


RISK_SERIALIZERS = {"auto": AutoRisk, "home": HomeRisk, "life": LifeRisk, "health": HealthRisk}
RiskSchema = PolymorphicProxySerializer(
    component_name="RiskAnswers", serializers=list(RISK_SERIALIZERS.values()),
    resource_type_field_name=None)


@extend_schema_field(OpenApiTypes.OBJECT)
class RiskField(serializers.JSONField):
    """Risk answers: an object whose keys depend on `policy_type` (as in AutoRisk,
    HomeRisk, LifeRisk, HealthRisk). Empty for policies entered directly and for
    erased quotes never bound."""


@extend_schema_field(RiskSchema)
class RiskRequestField(serializers.JSONField):
    """A quote's risk answers: every key of the product (see RiskAnswers)."""


class PolicyOutput(serializers.ModelSerializer):
    customer_id = serializers.UUIDField(read_only=True)
    quote_id = serializers.UUIDField(read_only=True, allow_null=True)
    renewal_of = serializers.UUIDField(source="renewal_of_id", read_only=True, allow_null=True)
    rating_plan = serializers.SerializerMethodField()
    risk = RiskField(read_only=True)

    class Meta:
        model = Policy
        fields = (
            "id", "policy_number", "customer_id", "policy_type", "premium_amount",
            "coverage_amount", "start_date", "end_date", "status", "cancelled_at",
            "cancellation_reason", "cancellation_effective_date", "refund_amount",
            "reinstated_at", "quote_id", "renewal_of", "rating_plan", "version", "risk",
            "created_at", "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(RatingPlanRef(allow_null=True))
    def get_rating_plan(self, policy):
        if policy.rating_plan_id is None:
            return None
        return {"id": str(policy.rating_plan_id), "version": policy.rating_plan.version}


class PolicyTermsOutput(PolicyOutput):
    """A policy with the terms in force on `as_of` (coverage, end date, premium,
    risk answers and version)."""

    as_of = serializers.SerializerMethodField()

    class Meta(PolicyOutput.Meta):
        fields = (*PolicyOutput.Meta.fields, "as_of")
        read_only_fields = fields

    def get_as_of(self, policy) -> datetime.date:
        return self.context["as_of"].isoformat()

    def to_representation(self, policy):
        data = super().to_representation(policy)
        terms = self.context["terms"]
        data.update({
            "version": terms.version,
            "coverage_amount": f"{terms.coverage_amount:.2f}",
            "premium_amount": f"{terms.premium_amount:.2f}",
            "end_date": terms.end_date.isoformat(),
            "risk": terms.risk,
        })
        return data


class PolicyCreateInput(serializers.Serializer):
    customer_id = serializers.UUIDField()
    policy_type = serializers.ChoiceField(choices=PolicyType.choices)
    premium_amount = MoneyField(max_digits=12)
    coverage_amount = MoneyField(max_digits=14)
    start_date = DateField()
    end_date = DateField()


class PolicyCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    effective_date = DateField(
        required=False, help_text="Default today (the start, for a policy not started yet); "
        "between the start and today.")


class PolicyReinstateInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class EndorsementInput(serializers.Serializer):
    effective_date = DateField(help_text="Today or later, within the term, not "
                                           "before the last endorsement's.")
    reason = serializers.CharField(max_length=2000)
    coverage_amount = MoneyField(max_digits=14, required=False)
    end_date = DateField(required=False)
    risk = RiskField(required=False, help_text="Only the keys given change.")


class EndorsementOutput(serializers.ModelSerializer):
    policy_id = serializers.UUIDField(read_only=True)
    changes = serializers.JSONField(read_only=True, help_text='{"field": [old, new]}; risk '
                                    'answers as "risk.<key>".')

    class Meta:
        model = Endorsement
        fields = ("id", "policy_id", "sequence", "effective_date", "reason", "changes",
                  "premium_before", "premium_after", "premium_delta", "created_at")
        read_only_fields = fields


class BreakdownLine(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    amount = MoneyField(max_digits=12)


class QuoteInput(serializers.Serializer):
    customer_id = serializers.UUIDField()
    policy_type = serializers.ChoiceField(choices=PolicyType.choices)
    coverage_amount = MoneyField(max_digits=14)
    start_date = DateField(help_text="Today or later.")
    end_date = DateField(required=False,
                                     help_text="Default: one year less a day after the start.")
    risk = RiskRequestField(help_text="The product's risk answers (see RiskAnswers).")


def _quote_input_for(policy_type: str, risk_serializer):
    return type(f"{policy_type.title()}QuoteInput", (QuoteInput,), {
        "risk": risk_serializer(),
        "__doc__": f"A {policy_type} quote request.",
    })


QuoteInputSchema = PolymorphicProxySerializer(
    component_name="QuoteRequest", resource_type_field_name="policy_type",
    serializers={kind: _quote_input_for(kind, cls) for kind, cls in RISK_SERIALIZERS.items()})


class QuoteOutput(serializers.ModelSerializer):
    customer_id = serializers.UUIDField(read_only=True)
    risk = RiskField(read_only=True)
    breakdown = BreakdownLine(many=True, read_only=True)
    rating_plan = serializers.SerializerMethodField()
    decline_reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    renewal_of = serializers.UUIDField(source="renewal_of_id", read_only=True, allow_null=True)
    policy_id = serializers.SerializerMethodField()

    class Meta:
        model = Quote
        fields = ("id", "quote_number", "customer_id", "policy_type", "coverage_amount",
                  "start_date", "end_date", "risk", "status", "premium_amount", "breakdown",
                  "rating_plan", "decline_reasons", "valid_until", "renewal_of", "policy_id",
                  "created_at")
        read_only_fields = fields

    @extend_schema_field(RatingPlanRef)
    def get_rating_plan(self, quote):
        return {"id": str(quote.rating_plan_id), "version": quote.rating_plan.version}

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_policy_id(self, quote):
        policy = getattr(quote, "bound_policy", None)
        return str(policy.pk) if policy is not None else None


class QuoteFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=QuoteStatus.choices)
    customer_id = django_filters.UUIDFilter(field_name="customer_id")

    class Meta:
        model = Quote
        fields = ("status", "customer_id")


class AsOfInput(serializers.Serializer):
    as_of = DateField(required=False)


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
        "reinstate": ["policies.change_policy"],
        "summary": ["policies.view_policy"],
        "endorsements": ["policies.view_endorsement"],
    }
    # The list is read with .values() and shaped from PolicyOutput's own fields.
    lean_rows = LeanRows(PolicyOutput, methods=("rating_plan",),
                         columns=("rating_plan_id", "rating_plan__version"))

    def lean_methods(self, rows):
        def rating_plan(row):
            if row["rating_plan_id"] is None:
                return None
            return {"id": str(row["rating_plan_id"]), "version": row["rating_plan__version"]}
        return {"rating_plan": rating_plan}

    def get_queryset(self):
        return selectors.policies_visible_to(self.request.user)

    @extend_schema(
        parameters=[OpenApiParameter("as_of", datetime.date, description="Show the terms in "
                                     "force on this date (default today).")],
        responses={200: PolicyTermsOutput, 400: OpenApiResponse(description="Bad as_of."),
                   404: OpenApiResponse(description="Not found or not visible.")})
    def retrieve(self, request, pk=None):
        policy = self.get_object()
        query = AsOfInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        if "as_of" in request.query_params and not request.query_params["as_of"].strip():
            raise serializers.ValidationError({"as_of": ["Enter a date as YYYY-MM-DD."]})
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        terms = services.terms_in_force(policy, as_of)
        return Response(PolicyTermsOutput(policy, context={"terms": terms, "as_of": as_of}).data)

    @extend_schema(request=PolicyCreateInput, responses={201: PolicyOutput})
    def create(self, request):
        data = PolicyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_create(actor=request.user, **data.validated_data)
        return Response(PolicyOutput(policy).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PolicyCancelInput, responses={
        200: PolicyOutput, 400: OpenApiResponse(description="Bad reason or effective_date."),
        409: OpenApiResponse(description="Already cancelled, or expired.")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        policy = self.get_object()
        data = PolicyCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_cancel(actor=request.user, policy=policy,
                                        **data.validated_data)
        return Response(PolicyOutput(policy).data)

    @extend_schema(request=PolicyReinstateInput, responses={
        200: PolicyOutput, 403: OpenApiResponse(description="Staff only."),
        409: OpenApiResponse(description="Not cancelled, or more than 30 days after the "
                             "cancellation took effect.")})
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        policy = self.get_object()
        data = PolicyReinstateInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_reinstate(actor=request.user, policy=policy,
                                           reason=data.validated_data["reason"])
        return Response(PolicyOutput(policy).data)

    @extend_schema(methods=["GET"], responses={200: EndorsementOutput(many=True)}, filters=False)
    @extend_schema(methods=["POST"], request=EndorsementInput, responses={
        201: EndorsementOutput,
        400: OpenApiResponse(description="Bad effective_date, coverage, end_date or risk."),
        409: OpenApiResponse(description="Cancelled, expired or direct (unrated) policy.")})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def endorsements(self, request, pk=None):
        policy = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.endorsements_of(policy))
            return self.get_paginated_response(EndorsementOutput(page, many=True).data)
        if not request.user.is_staff_role and not request.user.is_broker and not (
                request.user.has_perm("policies.add_endorsement")):
            self.permission_denied(request)
        data = EndorsementInput(data=request.data)
        data.is_valid(raise_exception=True)
        endorsement = services.endorsement_create(actor=request.user, policy=policy,
                                                  **data.validated_data)
        return Response(EndorsementOutput(endorsement).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: PolicySummaryRow(many=True)}, filters=False)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def summary(self, request):
        rows = selectors.policy_summary(user=request.user)
        return Response(PolicySummaryRow(rows, many=True).data)


class QuoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Quote.objects.none()
    perm_model = Quote
    serializer_class = QuoteOutput
    filterset_class = QuoteFilter
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    search_fields = ("quote_number",)
    ordering_fields = ("created_at", "start_date", "premium_amount")
    ordering = ("-created_at",)
    action_perms = {"bind": ["policies.add_policy", "policies.change_quote"]}

    def get_queryset(self):
        return selectors.quotes_visible_to(self.request.user)

    @extend_schema(request=QuoteInputSchema, responses={
        201: QuoteOutput,
        400: OpenApiResponse(description="Invalid input, risk answers, no plan in force, or "
                             "a product needing an age for a customer without date_of_birth.")})
    def create(self, request):
        data = QuoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        quote = services.quote_create(actor=request.user, **data.validated_data)
        quote = self.get_queryset().get(pk=quote.pk)
        return Response(QuoteOutput(quote).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={
        201: PolicyOutput, 409: OpenApiResponse(description="Expired, declined or already "
                                                "bound quote.")})
    @action(detail=True, methods=["post"])
    def bind(self, request, pk=None):
        quote = self.get_object()
        policy = services.quote_bind(actor=request.user, quote=quote)
        policy = selectors.policies_visible_to(request.user).get(pk=policy.pk)
        return Response(PolicyOutput(policy).data, status=status.HTTP_201_CREATED)
