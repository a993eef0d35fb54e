"""Templates under /api/v1/: read-only, so a storefront knows what it can send and with which parameters."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers

from templates_lib.models import Template, TemplateCategory, TemplateQuality, TemplateStatus
from templates_lib.params import ParamSpec, ParamType, specs_parse
from waco.api.scoping import visible
from waco.api.views import ApiView

TAGS = ["Templates"]
TEXT_EXAMPLES = {"header": "header_text", "body": "body_text"}  # Meta's example keys per component


class ParameterSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The name to give its value under in POST /messages `parameters`.")
    component = serializers.ChoiceField(choices=["header", "body", "button"])
    type = serializers.ChoiceField(choices=[t.value for t in ParamType])
    position = serializers.IntegerField(allow_null=True, help_text="The {{n}} it fills; null for a named one.")
    example = serializers.CharField(allow_null=True, help_text="The example value the template was reviewed with.")


class TemplateSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="business_account.waba_id", help_text="The WABA id.")
    status = serializers.ChoiceField(choices=TemplateStatus.choices)
    quality = serializers.ChoiceField(choices=TemplateQuality.choices)
    category = serializers.ChoiceField(choices=TemplateCategory.choices)
    version = serializers.IntegerField(source="current_version.number", allow_null=True, default=None)
    parameters = serializers.SerializerMethodField()

    class Meta:
        model = Template
        fields = ["id", "account", "name", "language", "status", "quality", "category", "version", "parameters"]
        fields += ["rejection_reason", "updated_at"]

    @extend_schema_field(ParameterSerializer(many=True))
    def get_parameters(self, template: Template) -> list[dict]:
        version = template.current_version
        if version is None:
            return []
        return [
            {
                "key": spec.key,
                "component": spec.component,
                "type": str(spec.type),
                "position": spec.position,
                "example": parameter_example(version.components, spec),
            }
            for spec in specs_parse(version.parameters)
        ]


def parameter_example(components: list, spec: ParamSpec) -> str | None:
    """The example Meta reviewed for this parameter, from its component's `example`, if there is one."""
    if spec.component not in TEXT_EXAMPLES or not spec.fills_placeholder:
        return None
    component = next((c for c in components if str(c.get("type", "")).lower() == spec.component), {})
    examples = component.get("example") or {}
    key = TEXT_EXAMPLES[spec.component]
    if spec.position is not None:
        values = examples.get(key) or []
        values = values[0] if values and isinstance(values[0], list) else values  # body: [[...]], header: [...]
        return str(values[spec.position - 1]) if len(values) >= spec.position else None
    named = examples.get(f"{key}_named_params") or []
    return next((str(item.get("example")) for item in named if item.get("param_name") == spec.name), None)


TEMPLATE_EXAMPLE = {
    "id": 12,
    "account": "200000000000001",
    "name": "order_shipped",
    "language": "en_US",
    "status": "approved",
    "quality": "GREEN",
    "category": "UTILITY",
    "version": 2,
    "parameters": [
        {"key": "customer", "component": "body", "type": "text", "position": 1, "example": "Amal"},
        {"key": "order_id", "component": "body", "type": "text", "position": 2, "example": "W7K3Q9P2"},
    ],
    "rejection_reason": "",
    "updated_at": "2026-12-07T07:00:00Z",
}


class TemplatesView(ApiView):
    read_scope = write_scope = "templates:read"  # read-only: a write answers 405 (there is no write scope)
    ordering = ("name", "language", "id")

    @extend_schema(
        summary="List message templates",
        description="Each template of the accounts the key may see: its review status, quality, category, "
        "language and parameters (the keys POST /messages takes, with Meta's examples). Cursor pages.",
        tags=TAGS,
        parameters=[
            OpenApiParameter("account", OpenApiTypes.STR, description="One business account's, by its WABA id."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=TemplateStatus.values),
            OpenApiParameter("name", OpenApiTypes.STR, description="One template name (all its languages)."),
        ],
        responses={200: TemplateSerializer(many=True)},
        examples=[OpenApiExample("A page", response_only=True, value=TEMPLATE_EXAMPLE)],
    )
    def get(self, request):
        filters = TemplateFilters(data=request.query_params.dict())  # a plain dict: a blank value is refused
        filters.is_valid(raise_exception=True)
        templates = Template.objects.select_related("business_account", "current_version").filter(
            **filters.validated_data
        )
        return self.paginate(visible(templates, request), TemplateSerializer)


class TemplateFilters(serializers.Serializer):
    account = serializers.CharField(max_length=64, required=False, source="business_account__waba_id")
    status = serializers.ChoiceField(choices=TemplateStatus.choices, required=False)
    name = serializers.CharField(max_length=512, required=False)


urlpatterns = [path("templates", TemplatesView.as_view(), name="api-templates")]
