# The sandbox's Graph API, customer and config endpoints, mounted by the project at /sandbox/.
from django.urls import include, path, re_path

from waco.sandbox import views

app_name = "sandbox"

# Graph versions look like v24.0; "outbox" can never be mistaken for one.
_VERSION = r"(?P<version>v\d+\.\d+)"

urlpatterns = [
    re_path(r"^graph/outbox/?$", views.outbox, name="outbox"),
    re_path(rf"^graph/{_VERSION}/(?P<node_id>[^/]+)/(?P<edge>[a-z_]+)/?$", views.graph_edge, name="graph-edge"),
    re_path(rf"^graph/{_VERSION}/(?P<node_id>[^/]+)/?$", views.graph_node, name="graph-node"),
    re_path(r"^customer/messages/?$", views.customer_messages, name="customer-messages"),
    re_path(r"^config/?$", views.config_view, name="config"),
    # Meta serves media from its own CDN host; this stands in for it.
    path("lookaside/media/", views.media_file, name="media-download"),
    # Stripe's API (/sandbox/stripe/v1/...) and its hosted checkout page.
    path("stripe/", include("waco.sandbox.stripe_urls")),
]
