import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from events import selectors, services
from events.models import EventType, WebhookDelivery, WebhookEndpoint

_VERBS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PATCH": "change",
          "PUT": "change", "DELETE": "delete"}


class MayManageWebhooks(permissions.BasePermission):
    """Staff, or an integrator holding the model permission for the method."""

    def has_permission(self, request, view):
        verb = "change" if getattr(view, "action", None) == "redeliver" else _VERBS.get(
            request.method, "change")
        return services.user_may_manage_webhooks(request.user, verb)


class WebhookOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ("id", "url", "events", "description", "status", "disabled_reason",
                  "created_at", "updated_at")
        read_only_fields = fields


class WebhookCreatedOutput(WebhookOutput):
    secret = serializers.CharField(help_text="Signing secret; shown only in this response.")

    class Meta(WebhookOutput.Meta):
        fields = (*WebhookOutput.Meta.fields, "secret")
        read_only_fields = fields


class WebhookCreateInput(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices),
                                   allow_empty=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)


class WebhookUpdateInput(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices),
                                   allow_empty=False, required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=WebhookEndpoint.Status.choices, required=False)


class DeliveryOutput(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ("id", "event_id", "event_type", "status", "attempts", "last_status_code",
                  "next_attempt_at", "created_at")
        read_only_fields = fields


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)

    class Meta:
        model = WebhookDelivery
        fields = ("status",)


class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = WebhookEndpoint.objects.none()
    permission_classes = [MayManageWebhooks]
    serializer_class = WebhookOutput
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    ordering_fields = ("created_at",)
    ordering = ("-created_at",)
    filter_backends = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.webhook_endpoints_visible_to(self.request.user).order_by(
            "-created_at", "-id")

    @extend_schema(request=WebhookCreateInput, responses={201: WebhookCreatedOutput})
    def create(self, request):
        data = WebhookCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(actor=request.user,
                                                            **data.validated_data)
        endpoint.secret = secret
        return Response(WebhookCreatedOutput(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookUpdateInput, responses={200: WebhookOutput})
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = WebhookUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(actor=request.user, endpoint=endpoint,
                                                    **data.validated_data)
        return Response(WebhookOutput(endpoint).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.webhook_endpoint_delete(actor=request.user, endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: DeliveryOutput(many=True)}, parameters=[
        OpenApiParameter("status", str, enum=WebhookDelivery.Status.values,
                         description="Only deliveries in this state.")])
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        filters = DeliveryFilter(request.query_params,
                                 queryset=selectors.deliveries_of(endpoint))
        if not filters.is_valid():
            raise serializers.ValidationError(filters.errors)
        page = self.paginate_queryset(filters.qs)
        return self.get_paginated_response(DeliveryOutput(page, many=True).data)

    @extend_schema(request=None, responses={202: DeliveryOutput})
    @action(detail=True, methods=["post"],
            url_path=r"deliveries/(?P<delivery_id>[0-9a-fA-F-]{36})/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        endpoint = self.get_object()
        delivery = selectors.deliveries_of(endpoint).filter(pk=delivery_id).first()
        if delivery is None:
            from rest_framework.exceptions import NotFound

            raise NotFound("No such delivery for this webhook.")
        delivery = services.delivery_redeliver(actor=request.user, delivery=delivery)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
