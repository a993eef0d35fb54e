# The sandbox Stripe, mounted at /sandbox/stripe/: Stripe's /v1 API and the hosted checkout page.
from django.urls import path, re_path

from waco.sandbox.stripe import page, views

urlpatterns = [
    path("v1/checkout/sessions", views.checkout_sessions, name="stripe-checkout-sessions"),
    path(
        "v1/checkout/sessions/<str:session_id>",
        views.checkout_session_detail,
        name="stripe-checkout-session",
    ),
    path(
        "v1/checkout/sessions/<str:session_id>/expire",
        views.checkout_session_expire,
        name="stripe-checkout-session-expire",
    ),
    path("v1/refunds", views.refunds, name="stripe-refunds"),
    path("v1/events", views.events, name="stripe-events"),
    path("v1/events/<str:event_id>", views.event_detail, name="stripe-event"),
    re_path(r"^(?P<rest>v1/.*)$", views.unknown),
    path("pay/<str:session_id>/", page.checkout_page, name="stripe-checkout-page"),
    path("pay/<str:session_id>/<slug:action>/", page.checkout_action, name="stripe-checkout-action"),
]
