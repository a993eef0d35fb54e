from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    """Threads as state machines, messages and the dialogue."""

    name = "conversations"
    label = "conversations"
    verbose_name = "Conversations"
