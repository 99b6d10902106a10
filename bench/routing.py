#!/usr/bin/env python3
"""What routing costs when the first attempt succeeds: one deployment versus three under
``lowest_latency``, through the same gateway, against the same simulator.

Starts ``aigw simulate`` pinned to one CPU and ``aigw serve`` pinned to the other, with a
catalog file of three providers (``sima``, ``simb``, ``simc``) that are all that simulator,
and two models: ``sima/single`` (one deployment; requests name no routing, the hot path) and
``sima/triple`` (three deployments; requests ask ``routing: {"policy": "lowest_latency"}``,
so every request parses the routing, orders three candidates by their health statistics and
plans the fallbacks). A closed-loop load generator (this process, on the simulator's CPU)
alternates the two, A B A B, per mode and concurrency, and reports p50 / p99 latency,
requests/s and the gateway's CPU time per request. Writes its own section at the end of
``bench/RESULTS.md`` (replacing only that section on a re-run).

Everything listens on 127.0.0.1; every run is bounded in time.

    .venv/bin/python bench/routing.py                       # 3 s per run, ~1 min
    .venv/bin/python bench/routing.py --duration 1 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import CLK_TCK, Stack, cpu_ticks, running

from cache import write

BEGIN = "<!-- routing.py:begin (generated; do not edit by hand) -->"
END = "<!-- routing.py:end -->"
MESSAGES = [{"role": "user", "content": "In two sentences, what does an LLM API gateway do?"}]
CASES = {
    "1 deployment": {"model": "sima/single"},
    "3 deployments, lowest_latency": {
        "model": "sima/triple",
        "routing": {"policy": "lowest_latency"},
    },
}


def catalog(sim_url: str) -> str:
    providers = "".join(
        f'[providers.{p}]\nwire_format = "openai"\nbase_url = "{sim_url}/v1"\n'
        "key_required = false\n\n"
        for p in ("sima", "simb", "simc")
    )
    return providers + (
        '[models."sima/single"]\nupstream_id = "single"\nprice = { input = 1, output = 2 }\n\n'
        '[models."sima/triple"]\nupstream_id = "triple"\nprice = { input = 1, output = 2 }\n'
        "deployments = [\n"
        '  { provider = "sima", upstream_id = "triple-a" },\n'
        '  { provider = "simb", upstream_id = "triple-b" },\n'
        '  { provider = "simc", upstream_id = "triple-c" },\n]\n'
    )


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float | None
    errors: int


async def load(
    url: str, key: str, body: dict[str, Any], *, concurrency: int, duration: float, pid: int
) -> Run:
    payload = orjson.dumps({**body, "messages": MESSAGES, "max_tokens": 64})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + duration
    stream = bool(body.get("stream"))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < end:
            start = time.perf_counter()
            try:
                async with session.post(url, data=payload, headers=headers) as resp:
                    data = await resp.read()
                    ok = resp.status == 200 and (b"[DONE]" in data if stream else True)
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        ticks0, t0 = cpu_ticks(pid), time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        ticks1, t1 = cpu_ticks(pid), time.perf_counter()
    latencies.sort()
    n = len(latencies)
    cpu = (ticks1 - ticks0) / CLK_TCK / n * 1e6 if n else None
    return Run(
        rps=n / (t1 - t0),
        p50_ms=latencies[n // 2] * 1000 if n else 0.0,
        p99_ms=latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        cpu_us=cpu,
        errors=errors,
    )


def merge(runs: list[Run]) -> Run:
    """The rounds of one case: means of the rounds (they alternate with the other case)."""
    k = len(runs)
    cpus = [r.cpu_us for r in runs if r.cpu_us is not None]
    return Run(
        rps=sum(r.rps for r in runs) / k,
        p50_ms=sum(r.p50_ms for r in runs) / k,
        p99_ms=sum(r.p99_ms for r in runs) / k,
        cpu_us=sum(cpus) / len(cpus) if cpus else None,
        errors=sum(r.errors for r in runs),
    )


def micro(workdir: Path) -> list[tuple[str, float]]:
    """In-process cost of the routing steps (µs per call), free of the machine's load."""
    from aigw.catalog.loader import load_catalog
    from aigw.config import load_settings
    from aigw.providers.byok import ByokKeys
    from aigw.providers.registry import ProviderRegistry, load_adapters
    from aigw.routing.health import Health
    from aigw.routing.router import Route, Router
    from aigw.server.metering import Meter
    from aigw.server.observe import Observer

    (workdir / "micro.toml").write_text(catalog("http://127.0.0.1:9"))
    settings = load_settings(environ={}, overrides={"catalog_file": str(workdir / "micro.toml")})
    cat = load_catalog(settings.catalog_file)

    class NoKeys(ByokKeys):
        def __init__(self) -> None:
            self._by_account: dict[Any, Any] = {}
            self._by_id: dict[Any, Any] = {}

    async def measure() -> list[tuple[str, float]]:
        registry = ProviderRegistry(cat, settings, load_adapters(), {})
        health = Health.from_settings(settings)
        router, observer, keys = Router(cat, registry, health, settings), Observer(health), NoKeys()
        out = []
        for case, body in CASES.items():
            plan = router.plan(dict(body), "acct", keys)  # warm the caches
            n = 20_000
            t0 = time.perf_counter()
            for _ in range(n):
                plan = router.plan(dict(body), "acct", keys)
            out.append((f"plan: {case}", (time.perf_counter() - t0) / n * 1e6))
        meter = Meter("req_x")
        route = Route(plan)
        route.candidate, route.started, route.attempts = plan.candidates[0], time.monotonic(), 1
        meter.model, meter.route = plan.candidates[0].model, route
        t0 = time.perf_counter()
        for _ in range(n):
            observer.finish(meter, "chat")
        out.append(("finish: health + metrics", (time.perf_counter() - t0) / n * 1e6))
        await registry.close()
        return out

    return asyncio.run(measure())


def report(
    table: list[tuple[str, int, str, Run]], costs: list[tuple[str, float]], args: argparse.Namespace
) -> str:
    lines = [
        "## Routing",
        "",
        "`bench/routing.py`: the same gateway and simulator, one deployment (no `routing` in",
        "the request) against three deployments under `lowest_latency` (the routing parsed,",
        "three candidates ordered by their health statistics, fallbacks planned); every first",
        f"attempt succeeds. {args.rounds} alternating rounds of {args.duration:g} s per cell,",
        "gateway pinned to one CPU, simulator and load generator to the other; 64 output",
        f"tokens. Load average at the start: {os.getloadavg()[0]:.1f}.",
        "",
        "| mode | concurrency | case | req/s | p50 ms | p99 ms | gateway CPU µs/req | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, conc, case, r in table:
        cpu = f"{r.cpu_us:.0f}" if r.cpu_us is not None else "-"
        lines.append(
            f"| {mode} | {conc} | {case} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {cpu} | {r.errors} |"
        )
    lines.append("")
    lines.append("In-process cost of the routing steps per request (no I/O; µs):")
    lines.append("")
    lines.extend(f"- {name}: {us:.1f} µs" for name, us in costs)
    lines.append("")
    lines.append(
        "The end-to-end rows move with whatever else runs on the machine: compare the two\n"
        "cases of one run (they alternate). The in-process costs are the routing code's own\n"
        "work per request; an end-to-end gap beyond them is not explained by it (three\n"
        "deployments are three providers, each with its own connection pool)."
    )
    lines.append("")
    lines.append("Difference (three deployments minus one), per mode and concurrency:")
    lines.append("")
    by_key = {(m, c, case): r for m, c, case, r in table}
    for mode in args.modes:
        for conc in args.concurrency:
            one = by_key[(mode, conc, "1 deployment")]
            three = by_key[(mode, conc, "3 deployments, lowest_latency")]
            cpu = (
                f", CPU {three.cpu_us - one.cpu_us:+.0f} µs/req"
                if one.cpu_us is not None and three.cpu_us is not None
                else ""
            )
            lines.append(
                f"- {mode}, c={conc}: p50 {three.p50_ms - one.p50_ms:+.3f} ms, "
                f"req/s {100 * (three.rps / one.rps - 1):+.1f}%{cpu}"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--modes", nargs="+", default=["nonstream", "stream"])
    parser.add_argument("--sim-cpu", type=int, default=0)
    parser.add_argument("--gw-cpu", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    args.duration = min(args.duration, 60.0)
    with tempfile.TemporaryDirectory(prefix="aigw-routing-bench-") as tmp:
        table: list[tuple[str, int, str, Run]] = []
        with running(Stack(Path(tmp), args.sim_cpu, args.gw_cpu, catalog=catalog)) as stack:
            for mode in args.modes:
                for conc in args.concurrency:
                    runs: dict[str, list[Run]] = {case: [] for case in CASES}
                    for round_ in range(args.rounds + 1):  # round 0 warms up
                        for case, body in CASES.items():
                            body = {**body, "stream": mode == "stream"}
                            duration = 0.5 if round_ == 0 else args.duration
                            run = asyncio.run(
                                load(
                                    stack.gw_url,
                                    stack.key,
                                    body,
                                    concurrency=conc,
                                    duration=duration,
                                    pid=stack.gw_pid,
                                )  # fmt: skip
                            )
                            if round_:
                                runs[case].append(run)
                    for case in CASES:
                        table.append((mode, conc, case, merge(runs[case])))
        with tempfile.TemporaryDirectory(prefix="aigw-routing-micro-") as tmp:
            costs = micro(Path(tmp))
    section = report(table, costs, args)
    print(section)
    if not args.no_write:
        write(section, BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
