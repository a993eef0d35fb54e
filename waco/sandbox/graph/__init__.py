"""Meta's side: the Graph API (sends, statuses, templates, media, catalog) and the customers.

views/urls: the HTTP face; nodes: tokens and reads; send: the send path; validation and
errors: Meta's checks and error shapes; addressing: phone or BSUID; faults and ratelimit:
Meta's failures and limits; message_templates, media, catalog: those edges; customers: a
customer's message in, as a webhook; webhooks: the bodies; outbox: what the business sent.
"""
