# Meta's side at /sandbox/: the Graph API, its media host, the outbox and the customers.
# No app_name: the names join the sandbox's namespace ("sandbox:outbox").
from django.urls import path, re_path

from waco.sandbox.graph import views

# Graph versions look like v24.0; "outbox" can never be mistaken for one.
_VERSION = r"(?P<version>v\d+\.\d+)"

urlpatterns = [
    re_path(r"^graph/outbox/?$", views.outbox, name="outbox"),
    re_path(rf"^graph/{_VERSION}/(?P<node_id>[^/]+)/(?P<edge>[a-z_]+)/?$", views.graph_edge, name="graph-edge"),
    re_path(rf"^graph/{_VERSION}/(?P<node_id>[^/]+)/?$", views.graph_node, name="graph-node"),
    re_path(r"^customer/messages/?$", views.customer_messages, name="customer-messages"),
    # Meta serves media from its own CDN host; this stands in for it.
    path("lookaside/media/", views.media_file, name="media-download"),
]
