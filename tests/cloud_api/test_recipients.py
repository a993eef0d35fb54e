"""Addressing a send: a phone's wa_id in `to`, a business-scoped user id (BSUID) in `recipient`."""

import json

import pytest
import responses

from waco.cloud_api.client import GraphClient
from waco.cloud_api.recipients import is_business_scoped_user_id, recipient_fields

BASE = "https://graph.example.test"
PHONE = "106540352242922"
BSUID = "US.13491208655302741918"


@pytest.mark.parametrize(
    ("recipient", "fields"),
    [
        ("16505551234", {"to": "16505551234"}),
        (BSUID, {"recipient_type": "individual", "recipient": BSUID}),
        ("US.ENT.11815799212886844830", {"recipient_type": "individual", "recipient": "US.ENT.11815799212886844830"}),
        ("GB." + "a1" * 64, {"recipient_type": "individual", "recipient": "GB." + "a1" * 64}),
    ],
    ids=["phone", "bsuid", "parent-bsuid", "128-alphanumerics"],
)
def test_a_phone_goes_in_to_and_a_bsuid_only_in_recipient(recipient, fields):
    assert recipient_fields(recipient) == fields


def test_a_bsuid_is_told_from_a_wa_id_by_its_country_code_and_dot():
    assert is_business_scoped_user_id(BSUID)
    assert not is_business_scoped_user_id("971501234567")
    assert not is_business_scoped_user_id("us.123")  # country codes are upper case
    assert not is_business_scoped_user_id("US.12 34")


def test_a_send_to_a_bsuid_is_read_without_a_wa_id_in_the_answer(settings):
    settings.WACO_GRAPH_API_BASE, settings.WACO_GRAPH_API_VERSION = BASE, "v24.0"
    answer = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": BSUID, "user_id": BSUID}],  # Meta omits wa_id for a BSUID send
        "messages": [{"id": "wamid.HBgL", "message_status": "accepted"}],
    }
    with responses.RequestsMock() as stub:
        stub.post(f"{BASE}/v24.0/{PHONE}/messages", json=answer)
        result = GraphClient(access_token="t").send_message(
            PHONE, {**recipient_fields(BSUID), "type": "text", "text": {"body": "hi"}}
        )
        sent = json.loads(stub.calls[0].request.body)
    assert (result.wamid, result.input, result.wa_id, result.user_id) == ("wamid.HBgL", BSUID, None, BSUID)
    assert "to" not in sent and (sent["recipient"], sent["recipient_type"]) == (BSUID, "individual")


def test_a_send_answer_without_contacts_still_gives_the_wamid(settings):
    settings.WACO_GRAPH_API_BASE, settings.WACO_GRAPH_API_VERSION = BASE, "v24.0"
    with responses.RequestsMock() as stub:
        stub.post(f"{BASE}/v24.0/{PHONE}/messages", json={"messages": [{"id": "wamid.X"}]})
        result = GraphClient(access_token="t").send_message(PHONE, recipient_fields(BSUID))
    assert (result.wamid, result.wa_id, result.user_id) == ("wamid.X", None, None)
