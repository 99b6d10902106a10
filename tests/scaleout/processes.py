"""Gateways as real OS processes (``python -m aigw serve``), as an operator would run them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

import orjson

from tests.harness import http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GatewayProcess:
    def __init__(self, env: Mapping[str, str], *, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = self.url + "/v1"
        self.database_url = env.get("AIGW_DATABASE_URL", "")
        full_env = {**os.environ, **env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aigw", "serve", "--port", str(self.port), *args],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, within: float = 30) -> GatewayProcess:
        until = time.monotonic() + within
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited early:\n{self.output()}")
            try:
                if http("GET", self.url + "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gateway not ready in {within}s:\n{self.output()}")

    def output(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stdout.read() if self.proc.stdout else ""

    def admin(self, method: str, path: str, admin_key: str, json: Any = None) -> tuple[int, Any]:
        status, _, raw = http(
            method, self.url + path, json=json, headers={"Authorization": f"Bearer {admin_key}"}
        )
        return status, orjson.loads(raw) if raw else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()
