from django.urls import path

from waco.ingest.views import whatsapp_webhook

urlpatterns = [path("whatsapp/", whatsapp_webhook, name="whatsapp-webhook")]
