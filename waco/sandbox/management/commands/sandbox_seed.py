from django.core.management.base import BaseCommand

from waco.sandbox.services import DEFAULT_VERIFIED_NAME, sandbox_seed


class Command(BaseCommand):
    help = "Create or update the sandbox's business account and phone number (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--waba-id", required=True)
        parser.add_argument("--phone-number-id", required=True)
        parser.add_argument("--display-phone-number", required=True)
        parser.add_argument("--access-token", required=True)
        parser.add_argument("--verified-name", default=DEFAULT_VERIFIED_NAME)
        parser.add_argument("--catalog-id", default="")

    def handle(self, *args, **options):
        number = sandbox_seed(
            waba_id=options["waba_id"],
            phone_number_id=options["phone_number_id"],
            display_phone_number=options["display_phone_number"],
            access_token=options["access_token"],
            verified_name=options["verified_name"],
            catalog_id=options["catalog_id"],
        )
        self.stdout.write(f"sandbox number {number.phone_number_id} on WABA {number.account.waba_id} is ready")
