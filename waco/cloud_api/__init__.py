"""The only code that speaks the Graph API: client, errors, signature, webhook parsing.

It knows no Django model (it reads django.conf.settings only), so every app can
use it and the sandbox can be tested against it.

- client.py: GraphClient (send, mark read, media, phone number, templates, catalog)
- recipients.py: recipient_fields(), where a send puts a wa_id (`to`) or a BSUID (`recipient`)
- errors.py: ErrorClass, classify(code), GraphError and one subclass per class
- signature.py: sign() and verify_signature() for X-Hub-Signature-256
- webhooks.py: parse_delivery() (never raises) and parse_envelope_or_raise()
- events.py / messages.py: the typed events and message contents they yield
"""
