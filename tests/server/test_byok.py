"""BYOK: an account's own provider key, encrypted at rest, preferred, and free of credits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import orjson
import pytest
from sqlalchemy import select
from tests.harness import http
from tests.server.conftest import Stack, start_stack

from aigw.server.appkeys import BILLING, DATABASE
from aigw.simulator import SimulatorThread
from aigw.store import request_log
from aigw.store.tables import provider_keys

MESSAGES = [{"role": "user", "content": "hello"}]
OWN_KEY = "xai-own-key-for-byok-5150"


def _add(stack: Stack, key: str, provider: str, api_key: str) -> tuple[int, dict[str, object]]:
    status, _, raw = http(
        "POST",
        f"{stack.base_url}/provider-keys",
        json={"provider": provider, "api_key": api_key},
        headers={"Authorization": f"Bearer {key}"},
    )
    return status, orjson.loads(raw)


def _new_key(stack: Stack, name: str, usd: str | None) -> tuple[str, str]:
    _, account = stack.admin("POST", "/admin/accounts", {"name": name})
    if usd:
        stack.admin("POST", f"/admin/accounts/{name}/topup", {"amount": usd})
    _, key = stack.admin("POST", "/admin/keys", {"account": name})
    return str(key["key"]), str(account["id"])


def test_byok_key_is_used_encrypted_never_shown_and_free(stack: Stack) -> None:
    key, account_id = _new_key(stack, "byok1", None)  # empty wallet: BYOK calls still work
    status, body = _add(stack, key, "xai", OWN_KEY)
    assert status == 201, body
    assert body["last4"] == "5150" and OWN_KEY not in str(body)
    key_id = str(body["id"])
    status, _, raw = http(
        "GET", f"{stack.base_url}/provider-keys", headers={"Authorization": f"Bearer {key}"}
    )
    assert status == 200 and b"5150" in raw and OWN_KEY.encode() not in raw

    async def stored() -> str:
        async with stack.gw.app[DATABASE].engine.connect() as conn:
            row = (await conn.execute(select(provider_keys.c.ciphertext))).all()
        return " ".join(r[0] for r in row)

    assert OWN_KEY not in stack.gw.call(stored()), "encrypted at rest"

    with openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0) as client:
        raw_response = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES
        )
    completion = raw_response.parse()
    assert stack.last_upstream_request()["headers"]["Authorization"].endswith("5150")
    assert stack.gw.app[BILLING].wallets.view(account_id) == (0, 0, 0)
    stack.gw.flush_log()
    entries = stack.gw.call(request_log.recent(stack.gw.app[DATABASE], account_id=account_id))
    assert entries[0].byok is True and entries[0].charged_micro_cents == 0
    assert entries[0].cost_micro_cents > 0, "the provider cost is still logged"
    assert completion.usage is not None

    # Naming it explicitly works; a wrong id or a key for another provider is a clear 400.
    with openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0) as client:
        client.chat.completions.create(
            model="xai/grok-4.3", messages=MESSAGES, extra_body={"provider_key_id": key_id}
        )
        assert "provider_key_id" not in stack.last_upstream_request()["body"]
        with pytest.raises(openai.BadRequestError) as info:
            client.chat.completions.create(
                model="xai/grok-4.3", messages=MESSAGES, extra_body={"provider_key_id": "pkey_x"}
            )
        assert info.value.body["param"] == "provider_key_id"  # type: ignore[index]
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(
                model="openai/gpt-4o-mini",
                messages=MESSAGES,
                extra_body={"provider_key_id": key_id},
            )

    # Deleted: back to the gateway's key, and to paying (the empty wallet refuses).
    status, _, _ = http(
        "DELETE",
        f"{stack.base_url}/provider-keys/{key_id}",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert status == 200
    with openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0) as client:
        with pytest.raises(openai.APIStatusError) as refused:
            client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert refused.value.status_code == 402


def test_bad_provider_keys_are_refused(stack: Stack) -> None:
    key, _ = _new_key(stack, "byok2", "1")
    status, body = _add(stack, key, "nope", OWN_KEY)
    assert status == 400 and body["error"]["param"] == "provider"  # type: ignore[index]
    status, body = _add(stack, key, "xai", "x")
    assert status == 400 and body["error"]["param"] == "api_key"  # type: ignore[index]


@pytest.fixture(scope="module")
def fee_stack(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    path: Path = tmp_path_factory.mktemp("byokfee") / "aigw.db"
    yield from start_stack(f"sqlite:///{path}", sim_server, byok_fee_per_1m="2")


def test_optional_byok_fee_per_million_tokens(fee_stack: Stack) -> None:
    fee_stack.sim.reset()
    key, account_id = _new_key(fee_stack, "byokfee", "1")
    assert _add(fee_stack, key, "xai", OWN_KEY)[0] == 201
    with openai.OpenAI(base_url=fee_stack.base_url, api_key=key, max_retries=0) as client:
        completion = client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert completion.usage is not None
    fee_stack.gw.drain_charges()
    charged = 100_000_000 - fee_stack.gw.app[BILLING].wallets.view(account_id)[0]
    assert charged == completion.usage.total_tokens * 2 * 100  # $2 per 1M = 200 µ¢ a token
