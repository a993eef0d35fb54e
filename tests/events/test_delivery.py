"""Posting events in this process to a local receiver: signatures, attempts, retries, refusals,
rotation and disabling (the tests with real workers are in test_delivery_workers.py)."""

import datetime
import socket
import ssl
from datetime import timedelta

import pytest
import time_machine
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import timezone
from standardwebhooks import WebhookVerificationError

from tests.support.events import drain_here, endpoint_to, event_commit
from tests.support.receiver import EventReceiver
from waco.alerts.models import Alert
from waco.events.delivery import ALERT_KIND
from waco.events.models import Delivery, DeliveryState, EventType
from waco.events.services import endpoint_rotate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WACO_EVENTS_ALLOW_LOOPBACK = True
    settings.WACO_EVENTS_TIMEOUT_SECONDS = 1


def test_an_event_arrives_signed_with_its_id_and_verifies():
    with EventReceiver() as receiver:
        endpoint, secret = endpoint_to(receiver.url)
        event = event_commit(EventType.ORDER_PAID, "order:W-1", {"total_minor": 100})
        drain_here()

    [got] = receiver.accepted()
    assert got.verify(secret) == {**got.event, "id": event.id}
    assert got.body == event.body.encode()
    assert got.headers["webhook-id"] == event.id
    delivery = Delivery.objects.get(event=event)
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 1)
    [attempt] = delivery.attempt_rows.all()
    assert attempt.status_code == 200 and attempt.response_excerpt == "ok" and attempt.latency_ms is not None


def test_a_failed_attempt_is_recorded_and_retried_later_with_the_same_id_and_a_new_signature():
    with EventReceiver(script=[500]) as receiver:
        endpoint, secret = endpoint_to(receiver.url)
        event = event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()
        delivery = Delivery.objects.get(event=event)
        assert delivery.state == DeliveryState.PENDING and delivery.next_attempt_at > timezone.now()
        assert delivery.endpoint.__class__.objects.get().failing_since is not None

        with time_machine.travel(timezone.now() + timedelta(minutes=1)):
            drain_here()
            first, second = receiver.received
            assert second.verify(secret)["id"] == event.id

    assert first.status == 500 and second.status == 200
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event.id
    assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]
    assert [a.status_code for a in delivery.attempt_rows.all()] == [500, 200]
    assert endpoint.__class__.objects.get().failing_since is None  # a success clears the failing streak


def test_a_redirect_is_an_answer_not_followed():
    with EventReceiver() as elsewhere, EventReceiver(script=[("redirect", elsewhere.url)]) as receiver:
        endpoint_to(receiver.url)
        event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()

    assert [r.status for r in receiver.received] == [302]
    assert elsewhere.received == []
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.last_error == "HTTP 302"


def test_production_refuses_a_loopback_endpoint_at_delivery_time(settings):
    with EventReceiver() as receiver:
        endpoint_to(receiver.url)  # saved while loopback was allowed, e.g. by a later DNS change
        event_commit(EventType.ORDER_PAID, "order:W-1")
        settings.WACO_EVENTS_ALLOW_LOOPBACK = False
        drain_here()

    assert receiver.received == []
    [attempt] = Delivery.objects.get().attempt_rows.all()
    assert attempt.status_code is None and attempt.error.startswith("refused: only https")


def test_the_connection_goes_to_the_address_checked_with_the_host_name_in_the_host_header(monkeypatch):
    """A second lookup (DNS rebinding) would give a private address: the post never asks again."""
    real, answers = socket.getaddrinfo, iter(["127.0.0.1"])

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "shop.example":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "10.9.9.9"), port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with EventReceiver() as receiver:
        _, secret = endpoint_to(f"http://shop.example:{receiver.port}/hooks")
        event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()

    [got] = receiver.accepted()
    assert got.headers["Host"] == f"shop.example:{receiver.port}"
    assert got.verify(secret)["subject"] == "order:W-1"


@pytest.fixture
def dns(monkeypatch):
    """The resolver the address check asks (socket.getaddrinfo), answering `answers` for the names it holds;
    `asked` lists those questions."""
    answers: dict[str, list[str]] = {}
    asked = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        family = {False: socket.AF_INET, True: socket.AF_INET6}
        return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, asked


@pytest.fixture
def connections(monkeypatch):
    """Every TCP connection a post opens, as (address, port); `routes` sends one to another (a local receiver)."""
    opened, routes = [], {}
    real = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        return real(routes.get(address, address), *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return opened, routes


@pytest.mark.parametrize(
    "address, why",
    [
        ("127.0.0.1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("169.254.169.254", "a link-local address"),  # the cloud metadata service
        ("fd00::1", "a private address"),
        ("::ffff:192.168.0.1", "a private address"),
    ],
)
def test_production_refuses_when_the_name_resolves_to_a_special_address_at_delivery_time(
    settings, dns, connections, address, why
):
    settings.WACO_EVENTS_ALLOW_LOOPBACK = False  # production: https to public addresses only
    answers, asked = dns
    opened, _ = connections
    endpoint_to("https://shop.example/hooks")  # saved with a name: what it resolves to is known only when posting
    answers["shop.example"] = [address]
    event_commit(EventType.ORDER_PAID, "order:W-1")
    drain_here()

    delivery = Delivery.objects.get()
    [attempt] = delivery.attempt_rows.all()
    expected = f"refused: shop.example resolves to {address.removeprefix('::ffff:')} is {why}"
    assert (attempt.status_code, attempt.error) == (None, expected)
    assert asked == ["shop.example"]  # looked up when posting...
    assert opened == []  # ...and never connected
    assert delivery.state == DeliveryState.PENDING and delivery.last_error == expected  # retried: DNS may change


def tls_for(hostname: str, tmp_path) -> tuple[str, ssl.SSLContext]:
    """A certificate authority's file and a server context whose certificate, signed by it, names `hostname`."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)

    def issue(subject_key, name: str, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Waco test CA")]))
            .public_key(subject_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        return builder.sign(ca_key, hashes.SHA256())

    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(issue(ca_key, "Waco test CA", ca=True).public_bytes(pem))
    cert_file.write_bytes(issue(key, hostname, ca=False).public_bytes(pem))
    key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return str(ca_file), context


def test_production_posts_over_tls_to_the_public_address_it_checked(settings, dns, connections, tmp_path, monkeypatch):
    """The name is looked up once, for the check; the connection goes to that address, and TLS and the
    Host header still name the host (the receiver here stands in for 93.184.215.14:443)."""
    settings.WACO_EVENTS_ALLOW_LOOPBACK = False
    answers, asked = dns
    opened, routes = connections
    answers["shop.example"] = ["93.184.215.14"]
    ca_file, server_tls = tls_for("shop.example", tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)  # the sender trusts the test CA (OpenSSL's default verify path)
    receiver = EventReceiver()
    receiver.server.socket = server_tls.wrap_socket(receiver.server.socket, server_side=True)
    routes[("93.184.215.14", 443)] = ("127.0.0.1", receiver.port)

    with receiver:
        _, secret = endpoint_to("https://shop.example/hooks/waco")
        event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()

    [got] = receiver.accepted()
    assert got.verify(secret)["subject"] == "order:W-1"
    assert got.headers["Host"] == "shop.example"
    assert asked == ["shop.example"]
    assert opened == [("93.184.215.14", 443)]
    assert Delivery.objects.get().state == DeliveryState.DELIVERED


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one():
    with EventReceiver() as receiver:
        endpoint, old = endpoint_to(receiver.url)
        new = endpoint_rotate(endpoint=endpoint)
        event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()
        [during] = receiver.accepted()
        assert during.headers["webhook-signature"].count("v1,") == 2
        assert during.verify(old) and during.verify(new)

        with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
            event_commit(EventType.ORDER_PAID, "order:W-2")
            drain_here()
            after = receiver.accepted()[1]
            assert after.headers["webhook-signature"].count("v1,") == 1
            assert after.verify(new)
            with pytest.raises(WebhookVerificationError):
                after.verify(old)


def test_an_endpoint_failing_for_three_days_is_disabled_with_an_alert_and_its_deliveries_fail():
    start = timezone.now()
    with EventReceiver(script=[500] * 100) as receiver:
        endpoint, _ = endpoint_to(receiver.url)
        event_commit(EventType.ORDER_PAID, "order:W-1")
        drain_here()
        with time_machine.travel(start + timedelta(days=2)):
            event_commit(EventType.ORDER_PAID, "order:W-2")
        with time_machine.travel(start + timedelta(days=3, minutes=1)):
            drain_here()

    endpoint.refresh_from_db()
    assert not endpoint.enabled and "every attempt failed since" in endpoint.disabled_reason
    assert Alert.objects.filter(kind=ALERT_KIND, resolved_at__isnull=True).count() == 1
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.FAILED}
