#!/usr/bin/env python3
"""CPU per upstream call: aiohttp's ClientSession against aigw.net.HttpClient.

The gateway's simulator runs pinned to one CPU; this process, pinned to the other, makes
``--requests`` calls at concurrency ``--concurrency`` with each client in turn (alternating
rounds), non-streaming and streaming, and reports the process CPU time per call (user +
system). That is the cost the gateway pays per upstream call, which decided the switch from
aiohttp's client to aigw.net (DESIGN.md: change a stack choice only with a measurement).

    .venv/bin/python bench/upstream_client.py               # writes its section of RESULTS.md
    .venv/bin/python bench/upstream_client.py --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import orjson
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import RESULTS, git_revision, write_section
from stack import HOST, aigw_bin, free_port, stop, wait_ready

from aigw.net import HttpClient

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}
HEADERS = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}

Call = Callable[[], Awaitable[int]]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(call: Call, requests: int, concurrency: int) -> tuple[float, float]:
    """(CPU µs per call, calls per second) for ``requests`` calls."""
    for _ in range(200):  # warm: connections opened, code paths hot
        await call()
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    cpu0, t0 = cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - t0
    return cpu / requests * 1e6, requests / wall


def callers(
    session: aiohttp.ClientSession, client: HttpClient, url: str, stream: bool
) -> list[tuple[str, Call]]:
    """One call with each client: send, read the whole answer (or every chunk), release."""
    payload = orjson.dumps({**BODY, "stream": stream})

    async def with_aiohttp() -> int:
        async with session.post(url, data=payload, headers=HEADERS) as r:
            if not stream:
                return len(await r.read())
            n = 0
            async for chunk in r.content.iter_any():
                n += len(chunk)
            return n

    async def with_net() -> int:
        r = await client.post(url, data=payload, headers=HEADERS)
        if not stream:
            return len(await r.read())
        n = 0
        async for chunk in r.chunks():
            n += len(chunk)
        r.release()
        return n

    return [("aiohttp ClientSession", with_aiohttp), ("aigw.net", with_net)]


async def run_rounds(url: str, args: argparse.Namespace) -> dict[tuple[str, str], list[float]]:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30),
        timeout=aiohttp.ClientTimeout(total=600, sock_connect=10),
        skip_auto_headers=("User-Agent",),
    )
    client = HttpClient(connect_timeout=10, total_timeout=600)
    results: dict[tuple[str, str], list[float]] = {}
    for stream in (False, True):
        mode = "stream" if stream else "nonstream"
        for _ in range(args.rounds):
            for name, call in callers(session, client, url, stream):
                us, _rps = await measure(call, args.requests, args.concurrency)
                results.setdefault((mode, name), []).append(us)
    await session.close()
    await client.close()
    return results


def section(results: dict[tuple[str, str], list[float]], args: argparse.Namespace) -> str:
    lines = [
        "<!-- upstream_client.py:begin (generated; do not edit by hand) -->",
        "## Upstream HTTP client: CPU per call (`bench/upstream_client.py`)",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; aigw revision {git_revision()}",
        f"- {args.requests} calls per round at concurrency {args.concurrency}, {args.rounds} "
        f"alternating rounds per client; the simulator on CPU {args.sim_cpu}, the clients on "
        f"CPU {args.client_cpu}; median over the rounds of process CPU (user + system) per call.",
        "",
        "| mode | client | CPU µs per call (median) | rounds |",
        "|---|---|---|---|",
    ]
    for (mode, name), values in sorted(results.items()):
        shown = ", ".join(f"{v:.0f}" for v in values)
        lines.append(f"| {mode} | {name} | {statistics.median(values):.1f} | {shown} |")
    lines.append("<!-- upstream_client.py:end -->")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sim-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    port = free_port()
    argv_sim = ["taskset", "-c", str(args.sim_cpu), aigw_bin(), "simulate", "--host", HOST]
    sim = subprocess.Popen(
        [*argv_sim, "--port", str(port), "--output-tokens", "64"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(f"http://{HOST}:{port}/healthz", sim)
        os.sched_setaffinity(0, {args.client_cpu})
        uvloop.install()
        results = asyncio.run(run_rounds(f"http://{HOST}:{port}/v1/chat/completions", args))
    finally:
        stop(sim)
    text = section(results, args)
    print(text)
    if not args.no_write:
        write_section(RESULTS, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
