"""Stripe's side: Checkout Sessions, payments, refunds and events, its /v1 API and hosted page.

api: the operations; payments: what the hosted page does (pay, leave, settle later);
events: events kept and delivered signed, with faults; views/urls/page: the HTTP face;
objects, params, errors, idempotency: Stripe's shapes and rules.
"""
