"""A running gateway in front of a running simulator, both on real sockets.

``stack`` is module-scoped (one gateway + one simulator per test module, SQLite file);
``pg_stack`` is the same on the local PostgreSQL. Each provides an account, an API key and
the admin key, and points xAI, OpenAI and DeepSeek at the simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from tests.harness import GatewayThread

from aigw.config import load_settings
from aigw.simulator import SimConfig, SimulatorThread

ADMIN_KEY = "sk-aig-admin-test-0123456789abcdef0123456789"
PROVIDERS_ON_SIM = ("XAI", "OPENAI", "DEEPSEEK", "GROQ", "MISTRAL")
# Providers with their own wire format: the simulator serves them at their own paths, so the
# base URL is the simulator's root (no /v1).
NATIVE_ON_SIM = ("ANTHROPIC", "GEMINI", "COHERE", "AZURE")
# Bedrock signs with SigV4; the simulator checks every signature with this secret.
AWS_ACCESS_KEY_ID = "AKIDSIMULATOR0000001"
AWS_SECRET_ACCESS_KEY = "sim/secret+access/key0000000000000000000"


@dataclass
class Stack:
    gw: GatewayThread
    sim: SimulatorThread
    key: str
    account_id: str

    @property
    def base_url(self) -> str:
        return self.gw.base_url

    def client(self, **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url, api_key=self.key, max_retries=0, **kwargs)

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.base_url, api_key=self.key, max_retries=0, **kwargs)

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        return self.gw.admin(method, path, ADMIN_KEY, json)

    def last_upstream_request(self) -> dict[str, Any]:
        requests = self.sim.requests
        assert requests, "the simulator saw no request"
        return requests[-1]


def environ_for(sim: SimulatorThread, *, without_key: tuple[str, ...] = ()) -> dict[str, str]:
    env: dict[str, str] = {}
    for name in PROVIDERS_ON_SIM:
        env[f"{name}_BASE_URL"] = sim.base_url
        if name not in without_key:
            env[f"{name}_API_KEY"] = f"upstream-secret-{name.lower()}-7788"
    for name in NATIVE_ON_SIM:
        env[f"{name}_BASE_URL"] = sim.url
        env[f"{name}_API_KEY"] = f"upstream-secret-{name.lower()}-7788"
    env["BEDROCK_BASE_URL"] = sim.url
    env["AWS_ACCESS_KEY_ID"] = AWS_ACCESS_KEY_ID
    env["AWS_SECRET_ACCESS_KEY"] = AWS_SECRET_ACCESS_KEY
    env["AWS_REGION"] = "us-west-2"
    env["SIMULATOR_BASE_URL"] = sim.base_url
    return env


def start_stack(database_url: str, sim: SimulatorThread, **settings: Any) -> Iterator[Stack]:
    config = load_settings(
        environ={},
        overrides={
            "host": "127.0.0.1",
            "port": 0,
            "database_url": database_url,
            "admin_key": ADMIN_KEY,
            "key_refresh_seconds": 0.5,
            "log_flush_seconds": 0.05,
            # Tests inject failures on purpose; a shared stack's breaker must not carry them
            # from one test to the next (tests/server/test_routing*.py test breakers).
            "breaker_min_requests": 10_000,
            **settings,
        },
    )
    with GatewayThread(config, environ_for(sim, without_key=("MISTRAL",))) as gw:
        status, account = gw.admin("POST", "/admin/accounts", ADMIN_KEY, {"name": "acme"})
        assert status == 201, account
        status, key = gw.admin("POST", "/admin/keys", ADMIN_KEY, {"account": "acme"})
        assert status == 201, key
        status, topped = gw.admin(
            "POST", "/admin/accounts/acme/topup", ADMIN_KEY, {"amount": "1000"}
        )
        assert status == 201, topped
        yield Stack(gw=gw, sim=sim, key=key["key"], account_id=account["id"])


def catalog_stack(
    database_url: str, sim: SimulatorThread, root: Path, catalog: str, **settings: Any
) -> Iterator[Stack]:
    """``start_stack`` with the model catalog ``catalog`` (TOML), written into ``root``."""
    (root / "catalog.toml").write_text(catalog)
    yield from start_stack(database_url, sim, catalog_file=str(root / "catalog.toml"), **settings)


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimulatorThread]:
    with SimulatorThread(SimConfig(aws_secret_access_key=AWS_SECRET_ACCESS_KEY)) as sim:
        yield sim


@pytest.fixture(scope="module")
def module_stack(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    path: Path = tmp_path_factory.mktemp("gw") / "aigw.db"
    yield from start_stack(f"sqlite:///{path}", sim_server)


@pytest.fixture
def stack(module_stack: Stack) -> Stack:
    module_stack.sim.reset()
    return module_stack


@pytest.fixture(scope="module")
def module_pg_stack(sim_server: SimulatorThread, pg_database_factory: Any) -> Iterator[Stack]:
    yield from start_stack(pg_database_factory(), sim_server)


@pytest.fixture
def pg_stack(module_pg_stack: Stack) -> Stack:
    module_pg_stack.sim.reset()
    return module_pg_stack
