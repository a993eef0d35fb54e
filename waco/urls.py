from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import campaigns.api
import catalog.api
import checkout.api
import conversations.api
import outbound.api
import templates_lib.api
import waco.contacts.api
import waco.events.api
from checkout.views import stripe_webhook
from waco.api.views import not_found as api_not_found
from waco.health import health_view

# Django's index plus the demo chat link when the sandbox is installed.
admin.site.index_template = "admin/waco/index.html"

urlpatterns = [
    path("health/", health_view, name="health"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("webhooks/", include("waco.ingest.urls")),
    path("pay/", include("checkout.urls")),
    path("admin/", admin.site.urls),
    path(
        "api/v1/",
        include(
            catalog.api.urlpatterns
            + checkout.api.urlpatterns
            + waco.contacts.api.urlpatterns
            + outbound.api.urlpatterns
            + templates_lib.api.urlpatterns
            + conversations.api.urlpatterns
            + waco.events.api.urlpatterns
            + campaigns.api.urlpatterns
        ),
    ),
    re_path(r"^api/v1/(?P<unmatched>.*)$", api_not_found),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if "waco.sandbox" in settings.INSTALLED_APPS:
    urlpatterns.append(path("sandbox/", include("waco.sandbox.urls")))
    urlpatterns.append(path("demo/chat/", include("waco.sandbox.chat.urls")))
