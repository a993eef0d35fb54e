from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    """Threads as state machines, messages and the dialogue."""

    name = "conversations"
    label = "conversations"
    verbose_name = "Conversations"

    def ready(self):
        from conversations import handlers  # noqa: F401  (registers with ingest)
        from conversations.services import threads_move_to_survivor
        from waco import periodic
        from waco.contacts.services import contact_merged

        contact_merged.connect(threads_move_to_survivor, dispatch_uid="conversations-contact-merged")

        from conversations import requested_messages
        from outbound.send_requests import api_message_queued

        api_message_queued.connect(requested_messages.api_message_queued, dispatch_uid="conversations-api-message")

        from checkout import signals as checkout_signals
        from conversations import checkout_replies

        checkout_signals.payment_link_ready.connect(
            checkout_replies.payment_link_ready, dispatch_uid="conversations-link"
        )
        checkout_signals.order_paid.connect(checkout_replies.order_paid, dispatch_uid="conversations-paid")
        checkout_signals.payment_link_ended.connect(
            checkout_replies.payment_link_ended, dispatch_uid="conversations-ended"
        )

        from conversations import order_updates

        checkout_signals.order_status_changed.connect(
            order_updates.order_status_changed, dispatch_uid="conversations-order-update"
        )
        checkout_signals.payment_reminder_due.connect(
            order_updates.payment_reminder_due, dispatch_uid="conversations-reminder"
        )

        periodic.register(
            periodic.PeriodicJob(
                name="conversations.redispatch_lost_media",
                task="conversations.redispatch_lost_media",
                every_seconds=60,
            )
        )
        # Hours-scale rules, so a few minutes' lateness does not matter and the queries stay rare.
        periodic.register(
            periodic.PeriodicJob(
                name="conversations.send_cart_recovery",
                task="conversations.send_cart_recovery",
                every_seconds=600,
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                name="conversations.expire_windows",
                task="conversations.expire_windows",
                every_seconds=300,
            )
        )
