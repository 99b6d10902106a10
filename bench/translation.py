#!/usr/bin/env python3
"""Added latency of translation: an OpenAI-format client streaming through the gateway to an
Anthropic-format upstream, against the same client to an OpenAI-format upstream.

Both run in front of the same simulator (Anthropic's ``/v1/messages`` and OpenAI's
``/v1/chat/completions``), unpaced, in this process's threads; for each concurrency the
client measures the mean wall time of a streamed completion read to the end, first straight
at the simulator, then through the gateway, and reports the added latency of each path and
their ratio (the goal: translated within 1.5x of same-format).

    .venv/bin/python bench/translation.py --requests 300 --concurrency 1 16
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server.conftest import start_stack

from aigw.simulator import SimulatorThread

BODY = {"messages": [{"role": "user", "content": "Tell me about pelicans."}], "stream": True}
ANTHROPIC = {**BODY, "max_tokens": 256, "model": "claude-haiku-4-5"}


async def _one(session: aiohttp.ClientSession, url: str, body: dict, headers: dict) -> float:
    start = time.perf_counter()
    async with session.post(url, json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        async for _ in resp.content.iter_any():
            pass
    return time.perf_counter() - start


async def _run(url: str, body: dict, headers: dict, total: int, concurrency: int) -> float:
    times: list[float] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(5):  # warm-up
            await _one(session, url, body, headers)
        queue = iter(range(total))

        async def worker() -> None:
            for _ in queue:
                times.append(await _one(session, url, body, headers))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statistics.mean(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SimulatorThread() as sim:
        stacks = start_stack(f"sqlite:///{tmp}/aigw.db", sim, log_flush_seconds=0.2)
        for stack in stacks:  # one gateway with an account, a key and credits
            gw = stack.gw
            gw_headers = {"Authorization": f"Bearer {stack.key}"}
            sim_anthropic = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
            print("| concurrency | path | direct ms | via gateway ms | added ms |")
            print("|---|---|---|---|---|")
            for c in args.concurrency:
                added = {}
                for path, direct_url, direct_body, direct_headers, model in (
                    ("same-format", sim.base_url + "/chat/completions",
                     {**BODY, "model": "gpt-4o-mini"}, {"Authorization": "Bearer k"},
                     "openai/gpt-4o-mini"),
                    ("translated", sim.url + "/v1/messages", ANTHROPIC, sim_anthropic,
                     "anthropic/claude-haiku-4-5"),
                ):  # fmt: skip
                    direct = asyncio.run(_run(direct_url, direct_body, direct_headers,
                                              args.requests, c))  # fmt: skip
                    via = asyncio.run(_run(gw.base_url + "/chat/completions",
                                           {**BODY, "model": model}, gw_headers,
                                           args.requests, c))  # fmt: skip
                    added[path] = via - direct
                    print(f"| {c} | {path} | {direct:.2f} | {via:.2f} | {via - direct:.2f} |")
                ratio = added["translated"] / max(added["same-format"], 1e-9)
                print(f"| {c} | translated / same-format | | | {ratio:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
