"""A local stand-in for Meta's Graph API, WhatsApp customers and Stripe.

An outside service that happens to share Waco's process and database: it
imports no Waco module (the `sandbox-alone` contract), Waco reaches it only over
HTTP at WACO_GRAPH_API_BASE and WACO_STRIPE_API_BASE, and it reaches Waco only
by signed webhooks POSTed to WACO_SANDBOX_WEBHOOK_URL and
WACO_SANDBOX_STRIPE_WEBHOOK_URL. Never installed in production, never shipped.

Its parts, by what they stand in for (the `sandbox-parts` contract):
  graph/     Meta: the Graph API (sends, statuses, templates, media, catalog) and the customers
  stripe/    Stripe: Checkout Sessions, refunds, events, the hosted payment page
  chat/      the demo chat page at /demo/chat/, where a visitor plays a customer
and what they share: models (every row), config (behaviour and faults),
faults (seeded streams), delivery (the webhook outbox and its worker), signing,
access (loopback only), config_views, admin, the commands.

Endpoints (under /sandbox/):
  graph/{version}/{phone_number_id}/messages      POST send / mark read
  graph/{version}/{phone_number_id}/media         POST upload
  graph/{version}/{media_id}                      GET url (short-lived), DELETE
  graph/{version}/{phone_number_id}?fields=...    GET quality, throughput, tier...
  graph/{version}/{waba_id}/message_templates     GET list, POST create, DELETE ?name=
  graph/{version}/{waba_id}/phone_numbers         GET
  graph/{version}/{catalog_id}/items_batch        POST (check_batch_request_status, products: GET)
  graph/outbox?to=&since_id=&limit=               GET what the business sent
  customer/messages                               POST a customer's message; GET ?from=
  config                                          GET / POST behaviour and faults
  lookaside/media/?mid=&expires=&hash=            the media bytes, with the bearer token
  stripe/v1/...                                   Stripe's API; stripe/pay/<session>/ its page

Operations for tests and scripts are in waco.sandbox.services.
"""
