"""Accounts and keys through the admin API and the CLI, and revocation reaching the gateway."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import openai
import pytest
from tests.server.conftest import ADMIN_KEY, Stack

from aigw.server.appkeys import SETTINGS

MESSAGES = [{"role": "user", "content": "hi"}]


def _works(stack: Stack, key: str) -> bool:
    with openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0) as client:
        try:
            client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES, max_tokens=2)
        except openai.AuthenticationError:
            return False
    return True


def test_admin_api_needs_the_admin_key(stack: Stack) -> None:
    status, body = stack.gw.admin("GET", "/admin/accounts", "")
    assert status == 401 and body["error"]["type"] == "authentication_error"
    status, body = stack.gw.admin("GET", "/admin/accounts", stack.key)
    assert status == 403 and body["error"]["type"] == "permission_error"


def test_accounts_and_keys_lifecycle(stack: Stack) -> None:
    status, account = stack.admin("POST", "/admin/accounts", {"name": "globex"})
    assert status == 201 and account["id"].startswith("acct_")
    status, body = stack.admin("POST", "/admin/accounts", {"name": "globex"})
    assert status == 400 and body["error"]["param"] == "name"
    status, body = stack.admin("POST", "/admin/accounts", {})
    assert status == 400 and body["error"]["param"] == "name"

    stack.admin("POST", "/admin/accounts/globex/topup", {"amount": "5"})
    status, created = stack.admin("POST", "/admin/keys", {"account": "globex", "name": "ci"})
    assert status == 201
    key = created["key"]
    assert key.startswith("sk-aig-") and len(key) - len("sk-aig-") >= 32
    status, listed = stack.admin("GET", "/admin/keys?account=globex")
    assert status == 200 and [k["id"] for k in listed["data"]] == [created["id"]]
    shown = listed["data"][0]
    assert "key" not in shown and "key_hash" not in shown and key not in str(listed)
    assert shown["last4"] == key[-4:]

    assert _works(stack, key)
    status, revoked = stack.admin("DELETE", f"/admin/keys/{created['id']}")
    assert status == 200 and revoked["revoked_at"]
    assert not _works(stack, key), "revoked through this process: refused at once"

    status, body = stack.admin("DELETE", "/admin/keys/key_doesnotexist")
    assert status == 404 and body["error"]["type"] == "not_found"
    status, body = stack.admin("POST", "/admin/keys", {"account": "nobody"})
    assert status in (400, 404) and body["error"]["param"] == "account"


def _cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIGW_DATABASE_URL": stack.gw.app[SETTINGS].database_url}
    env.pop("AIGW_ADMIN_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "aigw", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_created_key_works_and_cli_revocation_reaches_the_gateway(stack: Stack) -> None:
    done = _cli(stack, "accounts", "create", "initech")
    assert done.returncode == 0, done.stderr
    assert "initech" in done.stdout
    done = _cli(stack, "topup", "initech", "10")
    assert done.returncode == 0, done.stderr
    done = _cli(stack, "keys", "create", "--account", "initech")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("sk-aig-")
    assert _works(stack, key), "a key made by another process works at once (cache miss path)"

    listing = _cli(stack, "keys", "list", "--account", "initech")
    assert key[-4:] in listing.stdout and key not in listing.stdout
    key_id = listing.stdout.split()[0]
    assert key_id.startswith("key_")

    done = _cli(stack, "keys", "revoke", key_id)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 5
    while _works(stack, key):
        assert time.monotonic() < deadline, "revoked key still accepted after 5 s"
        time.sleep(0.1)


def test_cli_errors_are_clear(stack: Stack) -> None:
    done = _cli(stack, "keys", "create", "--account", "no-such-account")
    assert done.returncode != 0
    assert "no-such-account" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["keys", "--help"]])
def test_cli_help(stack: Stack, args: list[str]) -> None:
    done = _cli(stack, *args)
    assert done.returncode == 0 and "Usage:" in done.stdout


def test_admin_key_is_not_an_api_key(stack: Stack) -> None:
    assert not _works(stack, ADMIN_KEY)
