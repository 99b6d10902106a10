#!/usr/bin/env python3
"""Shadow traffic: does mirroring live requests to a candidate model change the client's
latency?

Starts ``aigw simulate`` and ``aigw serve`` pinned to different CPUs (fresh SQLite database,
an account with credits and a key: authentication, billing, the request log and body
keeping on, as in production). Two models on the simulator, ``sima/live`` and
``sima/candidate``; a shadow rule mirrors 100% of ``sima/live`` to ``sima/candidate``.
Sequential requests (concurrency 1, one keep-alive connection), alternating in rounds:

- ``sima/plain`` (same upstream model, no rule): the baseline;
- ``sima/live``: every request is mirrored in the background after its answer;

each both back to back (the next request leaves the moment an answer arrives, so the
mirrored call competes with it for the gateway's one core) and paced like a real client
(``--gap-ms`` between an answer and the next request).

Each row is p50 / p99 of the client's latency over all rounds and the gateway's CPU per
client request (the mirrored call's CPU lands on the mirrored rows). Writes its own section
of ``bench/RESULTS.md``.

    .venv/bin/python bench/shadow.py                 # ~1 min
    .venv/bin/python bench/shadow.py --requests 300 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import CLK_TCK, Stack, cpu_ticks, running

from cache import pct, write

BEGIN = "<!-- shadow.py:begin (generated; do not edit by hand) -->"
END = "<!-- shadow.py:end -->"
QUESTION = "In two sentences, what does an LLM API gateway do?"


def catalog(sim_url: str) -> str:
    text = (
        f'[providers.sima]\nwire_format = "openai"\nbase_url = "{sim_url}/v1"\n'
        "key_required = false\n\n"
    )
    for name in ("plain", "live", "candidate"):
        text += (
            f'[models."sima/{name}"]\nupstream_id = "single"\n'
            "price = { input = 1, output = 2 }\n\n"
        )
    return text


async def measure(
    session: aiohttp.ClientSession, base: str, key: str, model: str, n: int, gap: float = 0
) -> list[float]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    data = orjson.dumps(
        {"model": model, "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 64}
    )
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        async with session.post(base + "/v1/chat/completions", data=data, headers=headers) as r:
            await r.read()
            if r.status != 200:
                sys.exit(f"{model}: HTTP {r.status}")
        out.append(time.perf_counter() - t0)
        if gap:
            await asyncio.sleep(gap)
    return out


CASES = {  # name: (model, paced)
    "no rule, back to back": ("sima/plain", False),
    "100% mirrored, back to back": ("sima/live", False),
    "no rule, paced": ("sima/plain", True),
    "100% mirrored, paced": ("sima/live", True),
}


async def run(base: str, key: str, n: int, rounds: int, pid: int, gap: float) -> dict[str, object]:
    auth = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        rule = {"source_model": "sima/live", "target_model": "sima/candidate", "share": 1}
        async with session.post(base + "/v1/shadow-rules", json=rule, headers=auth) as r:
            if r.status != 201:
                sys.exit(f"creating the shadow rule: HTTP {r.status} {await r.text()}")
        samples: dict[str, list[float]] = {name: [] for name in CASES}
        ticks = {name: 0 for name in CASES}
        for model in ("sima/plain", "sima/live"):  # warm up both paths
            await measure(session, base, key, model, 20)
        for _ in range(rounds):
            for name, (model, paced) in CASES.items():
                count = n if not paced else max(50, n // 2)
                before = cpu_ticks(pid)
                samples[name] += await measure(
                    session, base, key, model, count, gap if paced else 0
                )
                await asyncio.sleep(0.5)  # let this round's mirrored calls finish here
                ticks[name] += cpu_ticks(pid) - before
        async with session.get(base + "/v1/shadow-rules", headers=auth) as r:
            stats = (await r.json()).get("stats", {})
    return {"samples": samples, "ticks": ticks, "stats": stats}


def report(result: dict[str, object], args: argparse.Namespace, load_avg: float) -> str:
    samples: dict[str, list[float]] = result["samples"]  # type: ignore[assignment]
    ticks: dict[str, int] = result["ticks"]  # type: ignore[assignment]
    stats = result["stats"]
    rows = {}
    lines = [
        "## Shadow traffic (`bench/shadow.py`)",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; command "
        f"`.venv/bin/python bench/shadow.py --requests {args.requests} --rounds {args.rounds}`",
        "- Gateway pinned to CPU 1, simulator and client to CPU 0; SQLite, billing, the request",
        "  log and body keeping on; concurrency 1, one keep-alive connection; load average at",
        f"  the start {load_avg:.1f}.",
        "",
        "| case | p50 ms | p99 ms | gateway CPU µs per client request | requests |",
        "|---|---|---|---|---|",
    ]
    for name, got in samples.items():
        p50, p99 = pct(got, 0.5), pct(got, 0.99)
        cpu = ticks[name] / CLK_TCK / len(got) * 1e6
        rows[name] = (p50, p99, cpu)
        lines.append(f"| {name} | {p50:.3f} | {p99:.3f} | {cpu:.0f} | {len(got)} |")
    paced = rows["100% mirrored, paced"][0] - rows["no rule, paced"][0]
    busy = rows["100% mirrored, back to back"][0] - rows["no rule, back to back"][0]
    mirror_cpu = rows["100% mirrored, paced"][2] - rows["no rule, paced"][2]
    lines += [
        "",
        f"Mirrored calls (this process's counters): {stats}. Paced: {args.gap_ms} ms between "
        "an answer and the next request.",
        "",
        f"Goal: the shadow rule does not change the client's latency. Paced like a client, "
        f"p50 {paced:+.3f} ms with every request mirrored "
        f"({'**met**' if paced <= 0.1 else '**not met**'}, within 0.1 ms): the mirrored call "
        "starts after the answer has been sent and runs as a background task, so nothing on "
        "the request path waits for it. Back to back, the next request arrives while the "
        f"mirrored call still runs on the gateway's one core: p50 {busy:+.3f} ms. A mirrored "
        f"call costs about {mirror_cpu:.0f} µs of gateway CPU (a full chat call plus the "
        "similarity score and the Replay row); a share below 1 mirrors that fraction.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="per case and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sim-cpu", type=int, default=0)
    parser.add_argument("--gw-cpu", type=int, default=1)
    parser.add_argument("--gap-ms", type=float, default=20.0, help="think time when paced")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load_avg = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="aigw-shadow-bench-") as tmp:
        with running(Stack(Path(tmp), args.sim_cpu, args.gw_cpu, catalog=catalog)) as stack:
            result = asyncio.run(
                run(
                    stack.gw_base,
                    stack.key,
                    args.requests,
                    args.rounds,
                    stack.gw_pid,
                    args.gap_ms / 1000,
                )
            )
    section = report(result, args, load_avg)
    print(section)
    if not args.no_write:
        write(section, BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
