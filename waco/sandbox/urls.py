# The sandbox's endpoints, mounted by the project at /sandbox/: Meta's (graph/), Stripe's
# (stripe/) and the config both read. The demo chat page has its own: waco.sandbox.chat.urls.
from django.urls import include, path, re_path

from waco.sandbox import config_views

app_name = "sandbox"

urlpatterns = [
    path("", include("waco.sandbox.graph.urls")),
    re_path(r"^config/?$", config_views.config_view, name="config"),
    # Stripe's API (/sandbox/stripe/v1/...) and its hosted checkout page.
    path("stripe/", include("waco.sandbox.stripe.urls")),
]
