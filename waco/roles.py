"""The staff roles a shop has, as Django groups with named permissions.

A role names permissions as "app_label.codename", or "app_label.*" for every permission of
an installed app (so a model added later joins the roles that own its app). `roles_sync`
makes each group hold exactly its role's permissions; it runs after every `migrate` (so the
groups exist on a fresh install) and as `manage.py roles_sync`. The seeded groups belong to
the code: a shop that wants another mix makes a group of its own.
"""

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q

# Waco's own apps (not Django's, the sandbox's or beat's).
PROJECT_APPS = [
    "waco",
    "channels",
    "contacts",
    "ingest",
    "api",  # API keys (Owner only: a key reads and writes the shop) and their audit
    "events",
    "alerts",
    "templates_lib",
    "outbound",
    "catalog",
    "checkout",
    "conversations",
    "campaigns",
]


@dataclass(frozen=True)
class Role:
    group: str
    permissions: tuple[str, ...]


SUPPORT_AGENT = Role(
    "Support agent",
    (
        # Threads: read, take over, reply, hand back (all through the thread's change permission).
        "conversations.view_thread",
        "conversations.change_thread",
        "conversations.view_keyword",
        # The team's saved answers, kept by the team.
        "conversations.view_quickreply",
        "conversations.add_quickreply",
        "conversations.change_quickreply",
        "conversations.delete_quickreply",
        "contacts.view_contact",
        "contacts.view_servicewindow",
        # A customer's "stop me" said by phone is a new ledger entry; the ledger is never edited.
        "contacts.view_consententry",
        "contacts.add_consententry",
        "checkout.view_order",  # read-only: no fulfilment, no refund
        "outbound.view_outboundmessage",
        "outbound.view_sendattempt",
        "catalog.view_category",
        "catalog.view_product",
        "catalog.view_variant",
        "templates_lib.view_template",
        "templates_lib.view_purpose",
        "campaigns.view_campaign",  # read-only: a customer asking "why did I get this?"
        "campaigns.view_campaignrecipient",
    ),
)
CATALOG_MANAGER = Role("Catalog manager", ("catalog.*",))
OPERATIONS = Role(
    "Operations",
    (
        "channels.*",  # business accounts (token rotation) and numbers (pause, resume)
        "templates_lib.*",
        "alerts.*",
        "outbound.view_outboundmessage",
        "outbound.change_outboundmessage",
        "outbound.view_sendattempt",  # re-send
        "ingest.view_delivery",
        "ingest.change_delivery",
        "ingest.view_inboxevent",  # re-run
        "events.*",  # webhook endpoints (secrets, rotation), events and their deliveries, replay
        "campaigns.*",  # broadcasts: schedule, start, pause, resume, cancel
    ),
)
# Everything of the shop, staff accounts and their log-in lockouts included; the only role that may refund.
OWNER = Role("Owner", (*(f"{app}.*" for app in PROJECT_APPS), "auth.*", "axes.*"))
ROLES = [SUPPORT_AGENT, CATALOG_MANAGER, OPERATIONS, OWNER]


def role_permissions(role: Role) -> list[Permission]:
    """The role's permissions; a named permission that does not exist is a mistake in ROLES."""
    query, named = Q(pk__in=[]), set()
    for name in role.permissions:
        app_label, codename = name.split(".", 1)
        if codename == "*":
            query |= Q(content_type__app_label=app_label)
        else:
            query |= Q(content_type__app_label=app_label, codename=codename)
            named.add((app_label, codename))
    found = list(Permission.objects.filter(query).select_related("content_type"))
    missing = named - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise ImproperlyConfigured(
            f"Role {role.group!r} names unknown permissions: " + ", ".join(sorted(f"{a}.{c}" for a, c in missing))
        )
    return found


@transaction.atomic
def roles_sync() -> list[Group]:
    """Create the role groups and set each one's permissions to exactly its role's."""
    for app_config in apps.get_app_configs():  # the permissions of apps migrated after this one
        create_permissions(app_config, verbosity=0)
    groups = []
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.group)
        group.permissions.set(role_permissions(role))
        groups.append(group)
    return groups


def roles_sync_after_migrate(**kwargs) -> None:
    roles_sync()
