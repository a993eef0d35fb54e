import socket

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.servers.basehttp import WSGIServer, run
from django.core.wsgi import get_wsgi_application

from waco.sandbox.delivery import worker


class NoDelayWSGIServer(WSGIServer):
    """Django's threaded server with Nagle off: on a keep-alive connection, the
    headers-then-body writes otherwise wait ~40 ms for a delayed ACK per request."""

    def get_request(self):
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


class Command(BaseCommand):
    help = (
        "Serve the sandbox alone (Graph API, customers, config under /sandbox/) with its delivery "
        "thread, e.g. on another port for benchmarks. Point WACO_GRAPH_API_BASE at it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)

    def handle(self, *args, **options):
        # Only the sandbox's routes: this process is Meta, not Waco.
        settings.ROOT_URLCONF = "waco.sandbox.standalone_urls"
        worker.wake()
        self.stdout.write(f"sandbox serving on http://{options['host']}:{options['port']}/sandbox/")
        run(
            options["host"],
            options["port"],
            get_wsgi_application(),
            threading=True,
            server_cls=NoDelayWSGIServer,
        )
