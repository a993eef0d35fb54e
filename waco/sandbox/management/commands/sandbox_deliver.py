import signal
import threading

from django.core.management.base import BaseCommand

from waco.sandbox.delivery import deliveries_flush, deliveries_run_forever


class Command(BaseCommand):
    help = "Run the sandbox's webhook delivery loop in the foreground (or flush once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver what is due now, then exit.")
        parser.add_argument(
            "--poll",
            type=float,
            default=0.2,
            help="Seconds between looks for new rows: this process gets no on-commit wake-ups.",
        )

    def handle(self, *args, **options):
        if options["once"]:
            delivered = deliveries_flush()
            self.stdout.write(f"delivered {delivered} webhook(s)")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("sandbox delivery loop running; Ctrl-C to stop")
        deliveries_run_forever(stop=stop, wake=threading.Event(), idle_seconds=options["poll"])
