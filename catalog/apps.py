from django.apps import AppConfig

# Feeds carry their own interval; this is how often beat looks for due ones.
SYNC_FEEDS_EVERY_SECONDS = 5 * 60
# Pushes normally follow each sync; this sweep catches imports and failed pushes.
PUSH_DIRTY_EVERY_SECONDS = 10 * 60


class CatalogConfig(AppConfig):
    """Products, variants, prices and stock, synced from the system of record."""

    name = "catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from waco import periodic

        periodic.register(
            periodic.PeriodicJob(
                name="catalog.sync_feeds",
                task="catalog.sync_feeds",
                every_seconds=SYNC_FEEDS_EVERY_SECONDS,
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                name="catalog.push_dirty",
                task="catalog.push_dirty",
                every_seconds=PUSH_DIRTY_EVERY_SECONDS,
            )
        )
