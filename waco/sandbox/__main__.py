"""`python -m waco.sandbox [serve|deliver|seed] [options]`: the sandbox as its own process.

Shorthand for `manage.py sandbox_serve|sandbox_deliver|sandbox_seed`.
"""

import os
import sys

from django.core.management import execute_from_command_line

COMMANDS = {"serve": "sandbox_serve", "deliver": "sandbox_deliver", "seed": "sandbox_seed"}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in COMMANDS:
        sys.exit(f"usage: python -m waco.sandbox {{{'|'.join(COMMANDS)}}} [options]")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "waco.settings")
    # Settings default to production's, where the sandbox is not installed.
    os.environ.setdefault("WACO_ENV", "demo")
    execute_from_command_line(["manage.py", COMMANDS[argv[0]], *argv[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
