"""`manage.py roles_sync`: create the staff role groups and set their permissions (see waco.roles)."""

from django.core.management.base import BaseCommand

from waco.roles import roles_sync


class Command(BaseCommand):
    help = "Create the staff role groups (support agent, catalog manager, operations, owner) and set their permissions."

    def handle(self, *args, **options):
        for group in roles_sync():
            self.stdout.write(f"{group.name}: {group.permissions.count()} permission(s)")
