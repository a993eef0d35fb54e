"""What conversations tells the apps above it (campaigns), which it never imports."""

from django.dispatch import Signal

# A customer's message was recorded (once per wamid), inside the recording transaction: kwargs message
# (a ThreadMessage; its thread names the contact and the phone number, its sent_at Meta's time).
inbound_message_recorded = Signal()
