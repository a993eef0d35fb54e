"""X-Hub-Signature-256 checks: raw bytes, any rotated secret, malformed headers refused."""

import hashlib
import hmac

import pytest

from waco.cloud_api.signature import sign, verify_signature

BODY = b'{"object":"whatsapp_business_account","entry":[]}'
SECRET = "first-app-secret"
ROTATED = ["old-app-secret", "first-app-secret", "new-app-secret"]


def test_sign_produces_the_header_meta_sends():
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET) == f"sha256={expected}"


def test_valid_signature_is_accepted():
    assert verify_signature(BODY, sign(BODY, SECRET), [SECRET])


@pytest.mark.parametrize("secret", ROTATED)
def test_each_rotated_secret_is_accepted(secret):
    assert verify_signature(BODY, sign(BODY, secret), ROTATED)


def test_secret_not_in_the_list_is_rejected():
    assert not verify_signature(BODY, sign(BODY, "someone-else"), ROTATED)


def test_tampered_body_is_rejected():
    header = sign(BODY, SECRET)
    assert not verify_signature(BODY.replace(b"[]", b"[{}]"), header, [SECRET])


def test_reserialised_json_is_not_the_raw_body():
    spaced = b'{"object": "whatsapp_business_account", "entry": []}'
    assert not verify_signature(spaced, sign(BODY, SECRET), [SECRET])


def test_a_single_secret_passed_as_a_string_is_one_secret():
    assert verify_signature(BODY, sign(BODY, SECRET), SECRET)
    assert not verify_signature(BODY, sign(BODY, "f"), SECRET)


def test_secrets_default_to_the_settings_list(settings):
    settings.WACO_META_APP_SECRETS = ["from-settings", "rotated-in"]
    assert verify_signature(BODY, sign(BODY, "rotated-in"))
    assert not verify_signature(BODY, sign(BODY, SECRET))


GOOD_HEX = sign(BODY, SECRET).removeprefix("sha256=")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        GOOD_HEX,  # no prefix
        "sha1=" + GOOD_HEX,
        "sha256=",
        "sha256=" + GOOD_HEX[:-2],  # too short
        "sha256=" + GOOD_HEX + "00",  # too long
        "sha256=" + "z" * 64,  # not hex
        "sha256=" + "é" * 64,
        b"sha256=" + GOOD_HEX.encode(),  # bytes, not str
        12345,
    ],
)
def test_malformed_headers_are_rejected_without_raising(header):
    assert verify_signature(BODY, header, [SECRET]) is False


def test_empty_or_odd_secret_lists_reject():
    header = sign(BODY, SECRET)
    assert not verify_signature(BODY, header, [])
    assert not verify_signature(BODY, header, ["", None])
