"""More than one process needs a shared store; with one, --workers N shares a port."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.harness import http
from tests.scaleout.processes import GatewayProcess

ADMIN = "sk-aig-admin-processes-0123456789abcdef"


def test_a_second_process_on_one_database_without_redis_is_refused(tmp_path: Path) -> None:
    env = {"AIGW_DATABASE_URL": f"sqlite:///{tmp_path / 'aigw.db'}", "AIGW_ADMIN_KEY": ADMIN}
    first = GatewayProcess(env).wait_ready()
    second = GatewayProcess(env)
    try:
        assert second.proc.wait(30) != 0
        out = second.output()
        assert "another aigw process already serves from this database" in out
        assert "AIGW_REDIS_URL" in out and "Traceback" not in out
    finally:
        second.stop()
        first.stop()
    # Once the first has stopped, a new one starts (its row was removed on shutdown).
    third = GatewayProcess(env).wait_ready()
    third.stop()


def test_workers_without_a_shared_store_are_refused(tmp_path: Path) -> None:
    env = {"AIGW_DATABASE_URL": f"sqlite:///{tmp_path / 'aigw.db'}"}
    proc = GatewayProcess(env, args=("--workers", "2"))
    try:
        assert proc.proc.wait(30) != 0
        assert "--workers 2 needs a shared store" in proc.output()
    finally:
        proc.stop()


@pytest.mark.postgres
@pytest.mark.redis
def test_workers_share_one_port(pg_database_factory: Callable[[], str], redis_url: str) -> None:
    env = {
        "AIGW_DATABASE_URL": pg_database_factory(),
        "AIGW_REDIS_URL": redis_url,
        "AIGW_ADMIN_KEY": ADMIN,
    }
    gw = GatewayProcess(env, args=("--workers", "2")).wait_ready()
    try:
        pids = set()
        deadline = time.monotonic() + 20  # the second worker may still be starting
        while len(pids) < 2 and time.monotonic() < deadline:
            status, _, raw = http("GET", gw.url + "/healthz")
            if status == 200:
                pids.add(orjson.loads(raw)["pid"])
        assert len(pids) == 2, "both workers answer on the one port"
        status, body = gw.admin("POST", "/admin/accounts", ADMIN, {"name": "w"})
        assert status == 201, body
    finally:
        gw.stop()
