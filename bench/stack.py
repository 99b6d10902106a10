"""The start-up the benchmark scripts share: ``aigw simulate`` and ``aigw serve`` on a fresh
SQLite database with an account, credits and an API key, each pinned to its CPU, waited for
and stopped again; plus the small process helpers around them (free ports, CPU time from
``/proc``, the ``aigw`` to run).

Imported by the scripts next to it (``overhead.py``, ``peers.py``, ...); not a script itself.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
ADMIN_KEY = "sk-aig-admin-" + "bench" * 8
TOPUP_USD = "1000000"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def aigw_bin() -> str:
    """The ``aigw`` next to this interpreter (the project's venv), else the one on PATH."""
    here = Path(sys.executable).parent / "aigw"
    found = str(here) if here.exists() else shutil.which("aigw")
    if not found:
        sys.exit("aigw is not installed: run ./scripts/test once, or pip install -e .")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"process exited while starting ({url}); see its log")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    sys.exit(f"{url} not ready after {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM this one process (we started it), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def pin(cpu: int) -> list[str]:
    """The command prefix that pins a process to ``cpu``; none without ``taskset``."""
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") else []


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process, all its threads included (clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields_ = stat[stat.rfind(")") + 2 :].split()
    return int(fields_[11]) + int(fields_[12])


def create_key(aigw: str, db: str, run: Callable[[list[str]], str]) -> str:
    """An account with credits and an API key in database ``db``; returns the key."""
    run([aigw, "--db", db, "accounts", "create", "bench"])
    key = run([aigw, "--db", db, "keys", "create", "--account", "bench"]).strip()
    run([aigw, "--db", db, "topup", "bench", TOPUP_USD])  # billing is on by default
    return key


@dataclass
class Stack:
    """The simulator and the gateway, started and stopped together: the gateway on a fresh
    SQLite database in ``workdir`` with an account, credits and an API key (``key``)."""

    workdir: Path
    sim_cpu: int
    gw_cpu: int
    sim_args: list[str] = field(default_factory=list)  # of `aigw simulate`
    env_extra: dict[str, str] = field(default_factory=dict)  # of the gateway
    # The gateway's catalog file, made from the simulator's base URL (``http://host:port``).
    # None: the built-in catalog, with the simulator as OpenAI (OPENAI_BASE_URL).
    catalog: Callable[[str], str] | None = None
    sim_port: int = 0
    gw_port: int = 0
    key: str = ""
    commands: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def sim_url(self) -> str:
        return f"http://{HOST}:{self.sim_port}/v1/chat/completions"

    @property
    def gw_base(self) -> str:
        return f"http://{HOST}:{self.gw_port}"

    @property
    def gw_url(self) -> str:
        return f"{self.gw_base}/v1/chat/completions"

    @property
    def sim_pid(self) -> int:
        return self.procs[0].pid

    @property
    def gw_pid(self) -> int:
        return self.procs[1].pid

    def _run(self, argv: list[str]) -> str:
        self.commands.append(shlex.join(argv))
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            sys.exit(f"{shlex.join(argv)} failed:\n{done.stderr}")
        return done.stdout

    def _spawn(self, argv: list[str], log: str, env: dict[str, str] | None = None) -> None:
        shown = " ".join(f"{k}={v}" for k, v in (env or {}).items() if k not in os.environ)
        self.commands.append((shown + " " if shown else "") + shlex.join(argv))
        with open(self.workdir / log, "wb") as out:
            full_env = {**os.environ, **(env or {})}
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=full_env)
        self.procs.append(proc)

    def start(self) -> None:
        aigw = aigw_bin()
        db = f"sqlite:///{self.workdir / 'bench.db'}"
        self.sim_port, self.gw_port = free_port(), free_port()
        sim = [*pin(self.sim_cpu), aigw, "simulate", "--host", HOST]
        self._spawn([*sim, "--port", str(self.sim_port), *self.sim_args], "simulator.log")
        wait_ready(f"http://{HOST}:{self.sim_port}/healthz", self.procs[0])
        self.key = create_key(aigw, db, self._run)
        if self.catalog is None:
            upstream = {
                "OPENAI_API_KEY": "sk-bench-upstream",
                "OPENAI_BASE_URL": f"http://{HOST}:{self.sim_port}/v1",
            }
        else:
            catalog_file = self.workdir / "catalog.toml"
            catalog_file.write_text(self.catalog(f"http://{HOST}:{self.sim_port}"))
            upstream = {"AIGW_CATALOG_FILE": str(catalog_file)}
        env = {**upstream, "AIGW_ADMIN_KEY": ADMIN_KEY, **self.env_extra}
        gw = [*pin(self.gw_cpu), aigw, "--db", db, "serve", "--host", HOST]
        self._spawn([*gw, "--port", str(self.gw_port)], "gateway.log", env)
        wait_ready(f"http://{HOST}:{self.gw_port}/healthz", self.procs[1])

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)


@contextlib.contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
