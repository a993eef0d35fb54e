#!/usr/bin/env python
import os
import sys

# Settings default to production's. These commands exist for the demo (and the sandbox
# stands in for Meta and Stripe only outside production), so they bring their own
# environment unless one is given; the processes they start inherit it.
DEMO_COMMANDS = {"demo", "sandbox_serve", "sandbox_deliver", "sandbox_seed"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "waco.settings")
    if len(sys.argv) > 1 and sys.argv[1] in DEMO_COMMANDS:
        os.environ.setdefault("WACO_ENV", "demo")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
