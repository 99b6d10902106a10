#!/usr/bin/env python3
"""Added latency and throughput of the gateway versus calling the simulator directly.

Starts ``aigw simulate`` pinned to one CPU and ``aigw serve`` pinned to the other (with a
fresh SQLite database, an account and an API key, so authentication and the request log are
on), then runs a closed-loop load generator (this process, pinned to the simulator's CPU)
for each mode (non-streaming, streaming) and concurrency, first straight at the simulator,
then through the gateway. Reports requests/s, p50 / p99 latency, time to first byte on
streams, the added latency (gateway p50 minus direct p50) and the gateway's CPU use, and
writes them into its own section of ``bench/RESULTS.md``.

Everything listens on 127.0.0.1 and every load run is bounded in time (``--duration``,
``--warmup``) and in requests (``--max-requests``).

    .venv/bin/python bench/overhead.py                       # 5 s per cell, writes RESULTS.md
    .venv/bin/python bench/overhead.py --duration 2 --concurrency 1 16 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from stack import CLK_TCK, Stack, cpu_ticks, running

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
MODEL = "openai/gpt-4o-mini"  # the catalog routes it to OPENAI_BASE_URL = the simulator
UPSTREAM_MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "In two sentences, what does an LLM API gateway do?"},
]
MAX_DURATION = 120.0


# -- load ------------------------------------------------------------------------------------


@dataclass
class Result:
    requests: int  # measured (started after warmup) and OK
    rps: float  # of those, completed inside the window, per second
    p50: float | None
    p99: float | None
    ttfb_p50: float | None
    ttfb_p99: float | None
    errors: int
    error_kinds: dict[str, int]
    cpu_pct: float | None  # of the watched process over the window

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.cpu_pct is None or not self.rps:
            return None
        return self.cpu_pct / 100 / self.rps * 1e6


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (values sorted)."""
    if not values:
        return None
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


async def load(
    url: str,
    key: str,
    model: str,
    *,
    stream: bool,
    concurrency: int,
    duration: float,
    warmup: float,
    max_requests: int,
    watch_pid: int | None,
) -> Result:
    """Closed loop: ``concurrency`` workers send requests back to back until the end."""
    body: dict[str, Any] = {"model": model, "messages": MESSAGES, "max_tokens": 64}
    if stream:
        body["stream"] = True
    payload = orjson.dumps(body)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=60)
    timeout = aiohttp.ClientTimeout(total=30)
    samples: list[tuple[float, float, float]] = []  # (start, ttfb, total), s
    errors: dict[str, int] = {}
    sent = 0
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    t_measure, t_end = t0 + warmup, t0 + warmup + duration
    loop_t0 = loop.time()
    ticks: dict[str, tuple[float, int]] = {}

    def snapshot(name: str) -> Callable[[], None]:
        def take() -> None:
            if watch_pid is not None:
                ticks[name] = (time.perf_counter(), cpu_ticks(watch_pid))

        return take

    loop.call_at(loop_t0 + warmup, snapshot("a"))
    loop.call_at(loop_t0 + warmup + duration, snapshot("b"))

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async def one(session: aiohttp.ClientSession) -> None:
        start = time.perf_counter()
        try:
            async with session.post(url, data=payload, headers=headers) as resp:
                if stream:
                    ttfb = None
                    tail = b""
                    async for chunk in resp.content.iter_any():
                        if ttfb is None:
                            ttfb = time.perf_counter() - start
                        tail = (tail + chunk)[-32:]
                    ok = resp.status == 200 and b"[DONE]" in tail
                else:
                    ttfb = time.perf_counter() - start
                    data = await resp.read()
                    ok = resp.status == 200 and b'"choices"' in data
                total = time.perf_counter() - start
                if not ok:
                    error(f"HTTP {resp.status}")
                    return
        except (aiohttp.ClientError, TimeoutError) as exc:
            error(type(exc).__name__)
            return
        if start >= t_measure:
            samples.append((start, ttfb if ttfb is not None else total, total))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while time.perf_counter() < t_end and sent < max_requests:
            sent += 1
            await one(session)

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, skip_auto_headers=("User-Agent",)
    ) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    cpu_pct = None
    if "a" in ticks and "b" in ticks:
        (ta, ca), (tb, cb) = ticks["a"], ticks["b"]
        cpu_pct = 100.0 * (cb - ca) / CLK_TCK / (tb - ta)
    totals = sorted(s[2] for s in samples)
    ttfbs = sorted(s[1] for s in samples)
    in_window = sum(1 for s in samples if s[0] + s[2] <= t_end)
    return Result(
        requests=len(samples),
        rps=in_window / duration,
        p50=percentile(totals, 50),
        p99=percentile(totals, 99),
        ttfb_p50=percentile(ttfbs, 50) if stream else None,
        ttfb_p99=percentile(ttfbs, 99) if stream else None,
        errors=sum(errors.values()),
        error_kinds=errors,
        cpu_pct=cpu_pct,
    )


# -- report ----------------------------------------------------------------------------------


@dataclass
class Cell:
    mode: str
    concurrency: int
    direct: Result
    gateway: Result


def ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value * 1000:.{digits}f}"


def added(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{(a - b) * 1000:+.2f}"


def num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(cells: list[Cell]) -> str:
    head = (
        "| mode | conc | direct req/s | aigw req/s | aigw/direct | direct p50 ms | aigw p50 ms "
        "| **added p50 ms** | direct p99 ms | aigw p99 ms | direct TTFB p50 | aigw TTFB p50 "
        "| added TTFB p50 | aigw CPU % | aigw CPU µs/req | errors (direct/aigw) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for c in cells:
        d, g = c.direct, c.gateway
        ratio = f"{g.rps / d.rps:.0%}" if d.rps else "-"
        lines.append(
            f"| {c.mode} | {c.concurrency} | {num(d.rps)} | {num(g.rps)} | {ratio} "
            f"| {ms(d.p50)} | {ms(g.p50)} | **{added(g.p50, d.p50)}** "
            f"| {ms(d.p99)} | {ms(g.p99)} | {ms(d.ttfb_p50)} | {ms(g.ttfb_p50)} "
            f"| {added(g.ttfb_p50, d.ttfb_p50)} | {num(g.cpu_pct, 1)} "
            f"| {num(g.cpu_us_per_request)} | {d.errors}/{g.errors} |"
        )
    return "\n".join(lines)


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        # The results file itself is not code: runs written one after another into it
        # must not call the next run's code "uncommitted".
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)bench/RESULTS.md",
            ],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" + uncommitted changes" if dirty else "")


def code_origin() -> str:
    """Where the gateway's code comes from when PYTHONPATH overrides the checkout."""
    path = os.environ.get("PYTHONPATH")
    return f" (code run from PYTHONPATH={path})" if path else ""


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def section(cells: list[Cell], args: argparse.Namespace, stack: Stack, argv: list[str]) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    errors = {
        f"{c.mode} c={c.concurrency} {who}": r.error_kinds
        for c in cells
        for who, r in (("direct", c.direct), ("aigw", c.gateway))
        if r.error_kinds
    }
    out = [
        f"<!-- overhead.py {args.label}:begin (generated; do not edit by hand) -->",
        f"### aigw vs the simulator directly (`bench/overhead.py`, {args.label})",
        "",
        f"- Date: {now}; aigw revision {git_revision()}{code_origin()}",
        f"- Machine: {os.cpu_count()} CPUs ({cpu_model()}), Linux {platform.release()}, "
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}",
        f"- Pinning: simulator + load generator on CPU {args.sim_cpu}, "
        f"gateway on CPU {args.gw_cpu} (`taskset`)",
        f"- Runs: {args.warmup:g} s warmup + {args.duration:g} s measured per cell, closed loop "
        "(N workers = concurrency, keep-alive pool of N connections); only requests started "
        "after the warmup count; req/s = those completed inside the window / duration.",
        "- Gateway: `aigw serve` with its defaults (access log off, log level INFO), "
        "authentication (an `sk-aig-` key) and the request log (SQLite) on, wallet billing "
        f"**{args.billing}**"
        + (f", environment {' '.join(args.env)}" if args.env else "")
        + f"; model `{MODEL}` routed to the simulator as `{UPSTREAM_MODEL}`.",
        f"- Simulator: `aigw simulate {shlex.join(args.sim_args)}`.",
        "- Latency = whole response; TTFB = first body bytes (streams). Added = aigw minus "
        "direct at the same mode and concurrency. At c=16/64 the gateway's core is busy, so "
        "the added p50 there is mostly queueing; c=1 is the per-request cost.",
        f"- Command: `{shlex.join(argv)}`",
        "",
        table(cells),
        "",
        "Processes started:",
        "",
        "```",
        *stack.commands,
        "```",
    ]
    if errors:
        out += ["", "Errors: " + ", ".join(f"{k}: {v}" for k, v in errors.items())]
    out.append(f"<!-- overhead.py {args.label}:end -->")
    return "\n".join(out)


def write_section(path: Path, text: str) -> None:
    """Replace the section delimited by ``text``'s first and last lines (its begin and end
    markers) in ``path``, or append it; the rest of the file is left alone."""
    lines = text.splitlines()
    begin, end = lines[0].split(" (generated")[0], lines[-1]
    old = path.read_text() if path.exists() else "# aigw benchmarks\n"
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        tail = rest.split(end, 1)[1]
        new = head + text + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new)


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=5.0, help="measured seconds per cell")
    ap.add_argument("--warmup", type=float, default=1.0, help="warmup seconds per cell")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    ap.add_argument("--modes", nargs="+", choices=["nonstream", "stream"])
    ap.add_argument("--sim-cpu", type=int, default=0, help="CPU of simulator + load generator")
    ap.add_argument("--gw-cpu", type=int, default=1, help="CPU of the gateway")
    ap.add_argument(
        "--sim-args",
        default="--output-tokens 20",
        help="extra arguments of `aigw simulate` (default: fixed 20-token answers)",
    )
    ap.add_argument(
        "--billing",
        choices=["on", "off"],
        default="on",
        help="wallet billing (on = the default config; the account is topped up first)",
    )
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the gateway, e.g. AIGW_LOG_FLUSH_SECONDS=0.5",
    )
    ap.add_argument("--label", default=None, help="section name (default: billing-on/off)")
    ap.add_argument("--max-requests", type=int, default=1_000_000, help="cap per cell")
    ap.add_argument("--pause", type=float, default=0.5, help="seconds between cells")
    ap.add_argument("--output", type=Path, default=RESULTS, help="markdown file to update")
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    args = ap.parse_args(argv)
    args.modes = args.modes or ["nonstream", "stream"]
    args.label = args.label or f"billing-{args.billing}"
    args.sim_args = shlex.split(args.sim_args)
    if any("=" not in e for e in args.env):
        ap.error("--env takes NAME=VALUE")
    if not 0 < args.duration <= MAX_DURATION or not 0 <= args.warmup <= 30:
        ap.error(f"--duration must be in (0, {MAX_DURATION:g}] and --warmup in [0, 30]")
    if args.sim_cpu == args.gw_cpu or max(args.sim_cpu, args.gw_cpu) >= (os.cpu_count() or 1):
        ap.error("--sim-cpu and --gw-cpu must be two different CPUs of this machine")
    return args


def gateway_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(e.split("=", 1) for e in args.env)
    if args.billing == "off":
        env["AIGW_BILLING_ENABLED"] = "false"
    return env


def install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if shutil.which("taskset") is None:
        sys.exit("taskset (util-linux) is needed to pin the processes")
    install_uvloop()
    os.sched_setaffinity(0, {args.sim_cpu})  # the load generator shares the simulator's CPU
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="aigw-bench-") as tmp:
        stack = Stack(Path(tmp), args.sim_cpu, args.gw_cpu, args.sim_args, gateway_env(args))
        with running(stack):
            for mode in args.modes:
                for conc in args.concurrency:
                    results = []
                    for who, url, model, pid in (
                        ("direct", stack.sim_url, UPSTREAM_MODEL, stack.procs[0].pid),
                        ("aigw", stack.gw_url, MODEL, stack.gw_pid),
                    ):
                        r = asyncio.run(
                            load(
                                url,
                                stack.key,
                                model,
                                stream=mode == "stream",
                                concurrency=conc,
                                duration=args.duration,
                                warmup=args.warmup,
                                max_requests=args.max_requests,
                                watch_pid=pid,
                            )
                        )
                        results.append(r)
                        print(
                            f"{mode:9s} c={conc:<3d} {who:6s} {r.rps:8.1f} req/s  "
                            f"p50 {ms(r.p50)} ms  p99 {ms(r.p99)} ms  "
                            f"TTFB p50 {ms(r.ttfb_p50)} ms  CPU {num(r.cpu_pct, 1)} %  "
                            f"errors {r.errors}",
                            flush=True,
                        )
                        time.sleep(args.pause)
                    cells.append(Cell(mode, conc, results[0], results[1]))
        text = section(cells, args, stack, ["bench/overhead.py", *argv])
    print()
    print(table(cells))
    if not args.no_write:
        write_section(args.output, text)
        print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
