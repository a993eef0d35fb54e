"""The inbox searches message text with icontains, which PostgreSQL runs as UPPER(text) LIKE '%...%':
a trigram index on that expression keeps the search off a full scan of every message ever kept.
SQLite (the demo) has no trigrams and keeps the scan; its threads are few."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS conversations_message_text_trgm "
    "ON conversations_threadmessage USING gin (UPPER(text::text) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS conversations_message_text_trgm"]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("conversations", "0011_quick_reply")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
