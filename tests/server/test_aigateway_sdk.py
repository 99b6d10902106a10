"""The aigateway-py SDK (from PyPI) against a running gateway: sub-accounts end to end, and
its error mapping (``AIgatewayError.status_code`` / ``.type``) for 402 and 403.

The SDK takes the host as ``base_url`` and adds ``/v1/...`` itself. It has no chat method
(it leaves chat to the openai SDK), so the 402s go through its generic ``_request``: the
same client, headers and error mapping its resource methods use.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aigateway import AIgateway, AIgatewayError, AsyncAIgateway
from tests.server.conftest import Stack
from tests.server.spendkit import MESSAGES, new_account

CHAT = {"model": "simulator/chat", "messages": MESSAGES, "max_tokens": 16}


@pytest.fixture
def sdk(stack: Stack) -> Iterator[AIgateway]:
    with AIgateway(api_key=stack.key, base_url=stack.gw.url, timeout=10) as client:
        yield client


def test_sub_accounts_create_list_get_delete(sdk: AIgateway, stack: Stack) -> None:
    created = sdk.sub_accounts.create(
        name="Customer SDK", external_ref="crm-42", spend_cap_cents=50_000, default_tag="sdk"
    )
    sub_id = created["id"]
    assert sub_id.startswith("sub_") and created["key"].startswith("sk-aig-")
    assert created["spend_cap_cents"] == 50_000 and created["external_ref"] == "crm-42"
    assert isinstance(created["created_at"], int)

    listed = sdk.sub_accounts.list()
    assert sub_id in [s["id"] for s in listed]
    fetched = sdk.sub_accounts.get(sub_id)
    assert fetched == {k: v for k, v in created.items() if k != "key"}

    # The key it returned works against the gateway, through the same SDK.
    with AIgateway(api_key=created["key"], base_url=stack.gw.url, timeout=10) as customer:
        answer = customer._request("POST", "/v1/chat/completions", json=CHAT)
    assert answer["choices"][0]["message"]["content"]

    deleted = sdk.sub_accounts.delete(sub_id)
    assert deleted["id"] == sub_id and deleted["deleted"] is True
    assert sub_id not in [s["id"] for s in sdk.sub_accounts.list()]
    with pytest.raises(AIgatewayError) as gone:
        sdk.sub_accounts.get(sub_id)
    assert (gone.value.status_code, gone.value.type) == (404, "not_found")


def test_a_sub_account_key_managing_sub_accounts_is_403(sdk: AIgateway, stack: Stack) -> None:
    created = sdk.sub_accounts.create(name="no manager")
    with AIgateway(api_key=created["key"], base_url=stack.gw.url, timeout=10) as customer:
        with pytest.raises(AIgatewayError) as denied:
            customer.sub_accounts.create(name="grandchild")
        assert (denied.value.status_code, denied.value.type) == (403, "permission_error")
        with pytest.raises(AIgatewayError) as listing:
            customer.sub_accounts.list()
        assert listing.value.status_code == 403


def test_402_budget_exceeded_from_a_capped_sub_account(sdk: AIgateway, stack: Stack) -> None:
    created = sdk.sub_accounts.create(name="zero cap", spend_cap_cents=0)
    with AIgateway(api_key=created["key"], base_url=stack.gw.url, timeout=10) as customer:
        with pytest.raises(AIgatewayError) as refused:
            customer._request("POST", "/v1/chat/completions", json=CHAT)
    assert (refused.value.status_code, refused.value.type) == (402, "budget_exceeded")
    assert "Monthly spend cap of $0.00" in str(refused.value)


def test_402_insufficient_credits_from_an_empty_wallet(stack: Stack) -> None:
    _, key = new_account(stack, "sdk-broke", None)
    with AIgateway(api_key=key, base_url=stack.gw.url, timeout=10) as client:
        with pytest.raises(AIgatewayError) as refused:
            client._request("POST", "/v1/chat/completions", json=CHAT)
    assert (refused.value.status_code, refused.value.type) == (402, "insufficient_credits")


async def test_the_async_client_drives_sub_accounts_too(stack: Stack) -> None:
    async with AsyncAIgateway(api_key=stack.key, base_url=stack.gw.url, timeout=10) as client:
        created = await client.sub_accounts.create(name="async customer")
        assert (await client.sub_accounts.get(created["id"]))["name"] == "async customer"
        assert created["id"] in [s["id"] for s in await client.sub_accounts.list()]
        assert (await client.sub_accounts.delete(created["id"]))["deleted"] is True
