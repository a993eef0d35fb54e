# The sandbox Stripe, mounted at /sandbox/stripe/: Stripe's /v1 API and the hosted checkout page.
from django.urls import path, re_path

from waco.sandbox import stripe_page, stripe_views

urlpatterns = [
    path("v1/checkout/sessions", stripe_views.checkout_sessions, name="stripe-checkout-sessions"),
    path(
        "v1/checkout/sessions/<str:session_id>",
        stripe_views.checkout_session_detail,
        name="stripe-checkout-session",
    ),
    path(
        "v1/checkout/sessions/<str:session_id>/expire",
        stripe_views.checkout_session_expire,
        name="stripe-checkout-session-expire",
    ),
    path("v1/refunds", stripe_views.refunds, name="stripe-refunds"),
    path("v1/events", stripe_views.events, name="stripe-events"),
    path("v1/events/<str:event_id>", stripe_views.event_detail, name="stripe-event"),
    re_path(r"^(?P<rest>v1/.*)$", stripe_views.unknown),
    path("pay/<str:session_id>/", stripe_page.checkout_page, name="stripe-checkout-page"),
    path("pay/<str:session_id>/<slug:action>/", stripe_page.checkout_action, name="stripe-checkout-action"),
]
