"""A local stand-in for Meta's Graph API and for WhatsApp customers.

An outside service that happens to share Waco's process and database: it
imports no Waco module (a test checks), Waco reaches it only over HTTP at
WACO_GRAPH_API_BASE, and it reaches Waco only by signed webhooks POSTed to
WACO_SANDBOX_WEBHOOK_URL.

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

Operations for tests and scripts are in waco.sandbox.services.
"""
