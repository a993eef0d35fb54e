"""The demo chat page at /demo/chat/: a visitor plays a WhatsApp customer of the shop.

Reads Meta's side (waco.sandbox.graph) as the customer's phone would show it; sends
through the customer endpoint like any customer.
"""
