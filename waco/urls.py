from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from checkout.views import stripe_webhook
from waco.health import health_view

# Django's index plus the demo chat link when the sandbox is installed.
admin.site.index_template = "admin/waco/index.html"

urlpatterns = [
    path("health/", health_view, name="health"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("webhooks/", include("waco.ingest.urls")),
    path("pay/", include("checkout.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if "waco.sandbox" in settings.INSTALLED_APPS:
    urlpatterns.append(path("sandbox/", include("waco.sandbox.urls")))
    urlpatterns.append(path("demo/chat/", include("waco.sandbox.chat_urls")))
