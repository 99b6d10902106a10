"""Shared by the spend-control tests: a gateway with a flat-priced model (the ``priced`` and
``stack`` fixtures: import both into the test module), and raw HTTP calls.

``simulator/flat`` costs $100 per 1M output tokens and nothing for input, so 100 output
tokens cost exactly 1 cent and a call with ``max_tokens=100`` reserves exactly 1 cent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from multidict import CIMultiDict
from tests.harness import http
from tests.server.conftest import Stack, catalog_stack

from aigw.simulator import SimulatorThread

FLAT = "simulator/flat"
CENT = 1_000_000  # µ¢
MESSAGES = [{"role": "user", "content": "hello"}]

CATALOG = """
[models."simulator/flat"]
name = "Flat"
upstream_id = "flat"
modality = "text"
max_output_tokens = 100
price = { input = 0, output = 100 }
"""


@pytest.fixture(scope="module")
def priced(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """One gateway per test module whose catalog is ``simulator/flat``."""
    root = tmp_path_factory.mktemp("priced")
    yield from catalog_stack(f"sqlite:///{root / 'aigw.db'}", sim_server, root, CATALOG)


@pytest.fixture
def stack(priced: Stack) -> Stack:
    """The module's gateway, its simulator reset to 100 output tokens: 1 cent a call."""
    priced.sim.reset()
    priced.sim.set_config(output_tokens=100)
    return priced


def call(
    stack: Stack,
    method: str,
    path: str,
    key: str,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, CIMultiDict[str]]:
    """(status, decoded JSON body, headers) of one call to the gateway."""
    status, got, body = http(
        method,
        stack.gw.url + path,
        json=json,
        headers={"Authorization": f"Bearer {key}", **(headers or {})},
    )
    return status, orjson.loads(body) if body else None, got


def chat(
    stack: Stack, key: str, *, tag: str | None = None, model: str = FLAT, max_tokens: int = 100
) -> tuple[int, Any, CIMultiDict[str]]:
    headers = {"x-aig-tag": tag} if tag is not None else None
    body = {"model": model, "messages": MESSAGES, "max_tokens": max_tokens}
    return call(stack, "POST", "/v1/chat/completions", key, body, headers)


def new_account(stack: Stack, name: str, usd: str | None = "10") -> tuple[str, str]:
    """(account id, key) of a fresh account topped up with ``usd``."""
    status, account = stack.admin("POST", "/admin/accounts", {"name": name})
    assert status == 201, account
    if usd is not None:
        status, body = stack.admin("POST", f"/admin/accounts/{name}/topup", {"amount": usd})
        assert status == 201, body
    status, key = stack.admin("POST", "/admin/keys", {"account": name})
    assert status == 201, key
    return str(account["id"]), str(key["key"])


def new_sub_account(stack: Stack, parent_key: str, **fields: Any) -> dict[str, Any]:
    status, body, _ = call(
        stack, "POST", "/v1/sub-accounts", parent_key, {"name": "customer", **fields}
    )
    assert status == 201, body
    assert isinstance(body, dict)
    return body
