"""The seeded staff roles: groups that exist after migrate, with the permissions each role needs."""

import io

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.test import Client

from conversations.models import ThreadState
from tests.conversations.factories import ThreadFactory
from waco.roles import ROLES, roles_sync

pytestmark = pytest.mark.django_db


def member(group_name: str) -> User:
    user = User.objects.create_user(group_name.lower().replace(" ", "-"), is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return User.objects.get(pk=user.pk)  # a fresh permission cache


def test_migrate_seeded_every_role_group():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.group for role in ROLES}
    assert all(Group.objects.get(name=role.group).permissions.exists() for role in ROLES)


def test_only_the_owner_may_refund():
    may_refund = {role.group for role in ROLES if member(role.group).has_perm("checkout.refund_order")}
    assert may_refund == {"Owner"}


def test_a_support_agent_handles_threads_and_reads_orders():
    agent = member("Support agent")
    assert agent.has_perms(
        [
            "conversations.view_thread",
            "conversations.change_thread",
            "checkout.view_order",
            "contacts.view_contact",
            "contacts.add_consententry",
        ]
    )
    assert not agent.has_perm("checkout.change_order")
    assert not agent.has_perm("contacts.change_consententry") and not agent.has_perm("contacts.delete_consententry")
    assert not agent.has_perm("channels.view_businessaccount")


def test_a_catalog_manager_runs_the_catalog_and_nothing_else():
    manager = member("Catalog manager")
    assert manager.has_perms(["catalog.change_product", "catalog.add_variant", "catalog.change_feedsource"])
    assert not manager.has_perm("checkout.view_order") and not manager.has_perm("conversations.view_thread")


def test_operations_run_numbers_templates_and_alerts():
    operations = member("Operations")
    assert operations.has_perms(
        [
            "channels.change_phonenumber",
            "channels.change_businessaccount",
            "templates_lib.change_template",
            "alerts.change_alert",
            "outbound.change_outboundmessage",
        ]
    )
    assert not operations.has_perm("checkout.view_order") and not operations.has_perm("catalog.change_product")


def test_roles_sync_restores_a_role_and_is_repeatable():
    agent = Group.objects.get(name="Support agent")
    agent.permissions.add(Permission.objects.get(codename="delete_order"))
    Group.objects.get(name="Owner").delete()
    call_command("roles_sync", stdout=io.StringIO())
    call_command("roles_sync", stdout=io.StringIO())
    assert not agent.permissions.filter(codename="delete_order").exists()
    assert Group.objects.filter(name="Owner").count() == 1
    assert [group.name for group in roles_sync()] == [role.group for role in ROLES]


def test_a_support_agent_takes_a_thread_over_where_operations_may_not_even_look():
    thread = ThreadFactory()
    agent, operations = Client(), Client()
    agent.force_login(member("Support agent"))
    operations.force_login(member("Operations"))
    assert operations.get(f"/admin/conversations/thread/{thread.pk}/change/").status_code == 403
    assert operations.post(f"/admin/conversations/thread/{thread.pk}/take/").status_code == 403
    assert 'id="take-over"' in agent.get(f"/admin/conversations/thread/{thread.pk}/change/").content.decode()
    assert agent.post(f"/admin/conversations/thread/{thread.pk}/take/").status_code == 302
    thread.refresh_from_db()
    assert thread.state == ThreadState.HANDOFF
