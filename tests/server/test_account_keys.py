"""``/v1/keys``: a signed-in account creates, lists and revokes its own API keys."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest
from tests.server.conftest import Stack


def _call(stack: Stack, method: str, path: str, key: str, json: Any = None) -> tuple[int, Any]:
    """One JSON call with ``key`` as the bearer (the harness's helper takes any key)."""
    status, body = stack.gw.admin(method, path, key, json)
    return status, body


def test_create_list_and_revoke_own_keys(stack: Stack) -> None:
    status, made = _call(stack, "POST", "/v1/keys", stack.key, {"name": "ci"})
    assert status == 201, made
    assert made["key"].startswith("sk-aig-") and made["name"] == "ci"
    assert made["last4"] == made["key"][-4:] and made["current"] is False
    new_key = made["key"]
    listed = _call(stack, "GET", "/v1/keys", new_key)[1]["data"]
    mine = {k["id"]: k for k in listed}
    assert made["id"] in mine and mine[made["id"]]["current"] is True
    assert all("key" not in k for k in listed)  # plaintext only at creation
    client = openai.OpenAI(base_url=stack.base_url, api_key=new_key, max_retries=0)
    client.chat.completions.create(
        model="simulator/free", messages=[{"role": "user", "content": "x"}]
    )

    status, revoked = _call(stack, "DELETE", f"/v1/keys/{made['id']}", stack.key)
    assert status == 200 and revoked["revoked"] is True and revoked["revoked_at"]
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(
            model="simulator/free", messages=[{"role": "user", "content": "x"}]
        )
    assert _call(stack, "DELETE", f"/v1/keys/{made['id']}", stack.key)[0] == 200  # idempotent


def test_sub_account_keys_are_neither_listed_nor_allowed(stack: Stack) -> None:
    status, sub = _call(stack, "POST", "/v1/sub-accounts", stack.key, {"name": f"c-{time.time()}"})
    assert status == 201
    listed = _call(stack, "GET", "/v1/keys", stack.key)[1]["data"]
    assert all(k["last4"] != sub["key"][-4:] for k in listed)
    status, err = _call(stack, "GET", "/v1/keys", sub["key"])
    assert status == 403 and err["error"]["type"] == "permission_error"
    assert _call(stack, "POST", "/v1/keys", sub["key"], {})[0] == 403


def test_another_accounts_key_is_unknown(stack: Stack) -> None:
    name = f"other-{time.time_ns()}"
    assert stack.admin("POST", "/admin/accounts", {"name": name})[0] == 201
    status, other = stack.admin("POST", "/admin/keys", {"account": name})
    assert status == 201
    status, err = _call(stack, "DELETE", f"/v1/keys/{other['id']}", stack.key)
    assert status == 404 and err["error"]["param"] == "id"
    assert all(
        k["id"] != other["id"] for k in _call(stack, "GET", "/v1/keys", stack.key)[1]["data"]
    )


def test_bad_bodies_name_the_field(stack: Stack) -> None:
    status, err = _call(stack, "POST", "/v1/keys", stack.key, {"nmae": "typo"})
    assert status == 400 and err["error"]["param"] == "nmae"
    status, err = _call(stack, "POST", "/v1/keys", stack.key, {"name": ""})
    assert status == 400 and err["error"]["param"] == "name"
    assert _call(stack, "GET", "/v1/keys", "sk-aig-nope")[0] == 401
