import copy

import factory

from templates_lib.models import (
    Purpose,
    PurposeTemplate,
    Template,
    TemplateCategory,
    TemplateStatus,
    TemplateVersion,
)
from tests.channels.factories import BusinessAccountFactory

BODY = [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped."}]
PARAMETERS = [
    {"component": "body", "position": 1, "name": "customer", "type": "text"},
    {"component": "body", "position": 2, "name": "order_id", "type": "text"},
]


class TemplateFactory(factory.django.DjangoModelFactory):
    """An approved template with one version; pass status=... for another state."""

    class Meta:
        model = Template

    business_account = factory.SubFactory(BusinessAccountFactory)
    name = factory.Sequence(lambda n: f"order_shipped_{n}")
    language = "en_US"
    category = TemplateCategory.UTILITY
    status = TemplateStatus.APPROVED
    meta_template_id = factory.Sequence(lambda n: str(1689556908000000 + n))
    components = factory.LazyFunction(lambda: copy.deepcopy(BODY))
    parameters = factory.LazyFunction(lambda: copy.deepcopy(PARAMETERS))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        components, parameters = kwargs.pop("components"), kwargs.pop("parameters")
        template = super()._create(model_class, *args, **kwargs)
        version = TemplateVersion.objects.create(
            template=template,
            number=1,
            components=components,
            parameters=parameters,
            meta_template_id=template.meta_template_id,
        )
        template.current_version = version
        template.save(update_fields=["current_version"])
        return template


class PurposeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purpose
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"purpose_{n}")
    category = TemplateCategory.UTILITY
    description = "A test purpose."


class PurposeTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurposeTemplate

    purpose = factory.SubFactory(PurposeFactory)
    template = factory.SubFactory(TemplateFactory)
    position = factory.Sequence(lambda n: n)
