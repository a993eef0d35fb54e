"""The three history tables become StateChange tables in place: a row written in the old shape keeps its data."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from checkout.models import OrderChange
from conversations.models import ThreadTransition
from templates_lib.models import TemplateStatusChange
from tests.checkout.factories import OrderFactory
from tests.conversations.factories import ThreadFactory
from tests.templates_lib.factories import TemplateFactory

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
MIGRATIONS = [
    ("checkout", "0005_order_change_is_a_state_change"),
    ("conversations", "0008_thread_transition_is_a_state_change"),
    ("templates_lib", "0005_template_status_change_is_a_state_change"),
]


@pytest.fixture
def parents(transactional_db):
    """Made through today's models before migrating back: the migrations only touch the history
    tables, but today's models have columns (an order's external_reference) the old schema lacks."""
    return OrderFactory(), ThreadFactory(), TemplateFactory()


@pytest.fixture
def before_state_changes(parents):
    """The schema just before the three migrations; migrated to the latest again afterwards."""
    executor = MigrationExecutor(connection)
    before = [
        parent
        for app, name in MIGRATIONS
        for parent in executor.loader.get_migration(app, name).dependencies
        if parent[0] == app
    ]
    executor.migrate(before)
    yield executor.loader.project_state(before).apps
    executor = MigrationExecutor(connection)  # the graph again: the migrations above are unapplied now
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_history_rows_of_the_old_shape_keep_their_data_as_state_changes(parents, before_state_changes):
    order, thread, template = parents
    old = before_state_changes
    old.get_model("checkout", "OrderChange").objects.create(
        order_id=order.pk,
        name="pay",
        source="pending_payment",
        target="paid",
        cause="payment",
        detail="cs_test_1",
        at=AT,
    )
    old.get_model("conversations", "ThreadTransition").objects.create(
        thread_id=thread.pk,
        name="mark_paid",
        source="awaiting_payment",
        target="awaiting_fulfillment",
        cause="payment",
        detail=order.reference,
        at=AT,
    )
    old.get_model("templates_lib", "TemplateStatusChange").objects.create(
        template_id=template.pk,
        version_id=template.current_version_id,
        from_status="submitted",
        to_status="rejected",
        cause="webhook",
        reason="INVALID_FORMAT",
        at=AT,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    def shape(row):
        return (row.transition, row.from_state, row.to_state, row.cause, row.detail, row.actor_id, row.created_at)

    assert shape(OrderChange.objects.get(order=order)) == (
        "pay",
        "pending_payment",
        "paid",
        "payment",
        "cs_test_1",
        None,
        AT,
    )
    assert shape(ThreadTransition.objects.get(thread=thread)) == (
        "mark_paid",
        "awaiting_payment",
        "awaiting_fulfillment",
        "payment",
        order.reference,
        None,
        AT,
    )
    change = TemplateStatusChange.objects.get(template=template)
    assert shape(change) == ("", "submitted", "rejected", "webhook", "INVALID_FORMAT", None, AT)
    assert change.version_id == template.current_version_id
