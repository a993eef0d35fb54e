from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Products, variants, prices and stock, synced from the system of record."""

    name = "catalog"
    label = "catalog"
    verbose_name = "Catalog"
