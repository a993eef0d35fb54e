from django.apps import AppConfig


class ContactsConfig(AppConfig):
    """Customer identity, the consent ledger and the service window."""

    name = "waco.contacts"
    label = "contacts"
    verbose_name = "Contacts"

    def ready(self):
        from waco.contacts import handlers  # noqa: F401  (registers with ingest)
