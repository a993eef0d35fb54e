"""Failed staff log-ins are throttled per username and client address (django-axes), the address
taken as waco.proxy.client_ip takes it: the connection's, or the forwarded one behind a trusted proxy."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "the-right-password-17"


@pytest.fixture
def staff(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    return User.objects.create_user("amal", password=PASSWORD, is_staff=True)


def log_in(password: str, *, address: str, forwarded_for: str | None = None, username: str = "amal"):
    headers = {"REMOTE_ADDR": address}
    if forwarded_for:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client().post(LOGIN, {"username": username, "password": password}, **headers)


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_the_right_password_works_before_any_failure(staff):
    assert logged_in(log_in(PASSWORD, address="198.51.100.7"))


def test_after_the_limit_the_user_is_locked_from_that_address_even_with_the_right_password(staff):
    for _ in range(2):
        assert log_in("wrong", address="198.51.100.7").status_code == 200  # the form again, with an error
    assert log_in("wrong", address="198.51.100.7").status_code == 429  # the third failure locks
    locked = log_in(PASSWORD, address="198.51.100.7")
    assert locked.status_code == 429 and not logged_in(locked)


def test_another_address_is_not_locked(staff):
    for _ in range(3):
        log_in("wrong", address="198.51.100.7")
    assert log_in(PASSWORD, address="198.51.100.7").status_code == 429
    assert logged_in(log_in(PASSWORD, address="203.0.113.20"))


def test_another_user_at_the_same_address_is_not_locked(staff):
    User.objects.create_user("noor", password=PASSWORD, is_staff=True)
    for _ in range(3):
        log_in("wrong", address="198.51.100.7")
    assert logged_in(log_in(PASSWORD, address="198.51.100.7", username="noor"))


def test_without_a_trusted_proxy_a_forged_forwarded_address_does_not_escape_the_lock(staff, settings):
    settings.WACO_TRUSTED_PROXY_COUNT = 0
    for attempt in range(3):
        log_in("wrong", address="198.51.100.7", forwarded_for=f"192.0.2.{attempt}")
    assert log_in(PASSWORD, address="198.51.100.7", forwarded_for="192.0.2.99").status_code == 429


def test_behind_a_trusted_proxy_the_lock_is_per_forwarded_client(staff, settings):
    settings.WACO_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for _ in range(3):
        log_in("wrong", address=proxy, forwarded_for="198.51.100.7")
    assert log_in(PASSWORD, address=proxy, forwarded_for="198.51.100.7").status_code == 429
    assert logged_in(log_in(PASSWORD, address=proxy, forwarded_for="203.0.113.20"))
