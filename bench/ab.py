"""A/B of gateway builds under load: rounds of alternating targets, medians of the rates.

This machine's speed drifts by ±20% within minutes, so a change is judged by alternating the
builds in rounds and comparing medians, never one run against an older one. Each target is
started fresh (a new SQLite database, account, credits and key), warmed for 2 s, then loaded
by ``wrk -c C`` (or peer-bench's ``load.py -c C``: ``--client load``) for ``--duration``
seconds; the line per round gives each target's requests/s, the gateway's CPU per request
(from ``/proc``: all its threads) and p50 latency, and each rate as a share of the first
target's.

Targets: ``NAME=bare`` (peer-bench's aiohttp pass-through), or ``NAME=SRC[,VAR=VALUE...]``:
aigw with ``PYTHONPATH=SRC`` (a ``src`` folder: the checkout's, or a snapshot made with
``git archive REV src | tar -x -C DIR``) and extra environment, e.g.::

    .venv/bin/python bench/ab.py --rounds 5 bare=bare head=src \\
        lane-off=src,AIGW_FAST_LANE=false

Needs peer-bench's tools (``../shared/peer-bench/setup.sh``: wrk, the mock upstream and its
venv under ``$BENCH_DIR``, default /tmp/aigw-peer-bench). Prints only; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from stack import ADMIN_KEY, CLK_TCK, aigw_bin, cpu_ticks, create_key, pin, stop, wait_ready

BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/aigw-peer-bench"))
MOCK_PORT, BARE_PORT, AIGW_PORT = 18000, 18100, 18080


def tree_ticks(pid: int) -> int:
    """CPU ticks of ``pid`` and its children (the aigw command may exec a child)."""
    total = cpu_ticks(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(tree_ticks(int(c)) for c in children)


def start_target(spec: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str, str, str]:
    """(process, URL, key, model) of a started target."""
    python = str(BENCH_DIR / "tools-venv" / "bin" / "python")
    if spec == "bare":
        proc = subprocess.Popen(
            [*pin(1), python, str(BENCH_DIR / "bare_proxy.py")],
            env={**os.environ, "BARE_PORT": str(BARE_PORT), "MOCK_PORT": str(MOCK_PORT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(f"http://127.0.0.1:{BARE_PORT}/health", proc)
        return proc, f"http://127.0.0.1:{BARE_PORT}", "none", "gpt-4o-mini"
    src, *pairs = spec.split(",")
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(src).resolve()),
        "AIGW_ADMIN_KEY": ADMIN_KEY,
        "OPENAI_API_KEY": "sk-bench-upstream",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{MOCK_PORT}/v1",
        **dict(p.split("=", 1) for p in pairs),
    }
    aigw, db = aigw_bin(), f"sqlite:///{workdir / 'bench.db'}"

    def run(argv: list[str]) -> str:
        done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
        return done.stdout

    key = create_key(aigw, db, run)
    proc = subprocess.Popen(
        [*pin(1), aigw, "--db", db, "serve", "--host", "127.0.0.1", "--port", str(AIGW_PORT)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(f"http://127.0.0.1:{AIGW_PORT}/healthz", proc)
    return proc, f"http://127.0.0.1:{AIGW_PORT}", key, "openai/gpt-4o-mini"


def wrk(url: str, key: str, model: str, conc: int, seconds: int) -> dict[str, float]:
    argv = [*pin(0), "wrk", "-t1", f"-c{conc}", f"-d{seconds}s", "--timeout", "30s"]
    argv += ["-s", str(BENCH_DIR / "wrk_post.lua"), "-H", f"Authorization: Bearer {key}"]
    out = subprocess.run(
        [*argv, url + "/v1/chat/completions"],
        env={**os.environ, "BENCH_MODEL": model},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    if "WRKJSON " not in out:
        sys.exit(f"wrk gave no result:\n{out}")
    result: dict[str, float] = json.loads(out.split("WRKJSON ", 1)[1])
    return result


def load(url: str, key: str, model: str, conc: int, seconds: int) -> dict[str, float]:
    """peer-bench's load.py (a Python aiohttp client, the binding cell of issue #2's goal),
    in wrk's result shape (the warm-up is wrk's, as for wrk)."""
    argv = [*pin(0), str(BENCH_DIR / "tools-venv" / "bin" / "python"), str(BENCH_DIR / "load.py")]
    argv += ["--url", url + "/v1/chat/completions", "--model", model, "-c", str(conc)]
    argv += ["-d", str(seconds), "-w", "0", "-H", f"Authorization: Bearer {key}"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
    try:
        got = json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        sys.exit(f"load.py gave no result:\n{out}")
    return {
        "rps": got["rps"],
        "requests": got["requests_measured"],
        "p50_ms": got["lat_ms"]["p50"] or 0.0,
        "err_load": got["errors"],
    }


CLIENTS = {"wrk": wrk, "load": load}


def measure(spec: str, conc: int, seconds: int, client: str = "wrk") -> tuple[float, float, float]:
    """(requests/s, CPU µs per request, p50 ms) of one fresh run of ``spec``."""
    run = CLIENTS[client]
    with tempfile.TemporaryDirectory(prefix="aigw-ab-") as tmp:
        proc, url, key, model = start_target(spec, Path(tmp))
        try:
            wrk(url, key, model, conc, 2)  # warm-up
            before = tree_ticks(proc.pid)
            result = run(url, key, model, conc, seconds)
            ticks = tree_ticks(proc.pid) - before
        finally:
            stop(proc)
    errors = sum(result[k] for k in result if k.startswith("err_"))
    if errors:
        print(f"  ({spec}: {errors:.0f} errors)", flush=True)
    cpu_us = ticks / CLK_TCK / max(result["requests"], 1) * 1e6
    return result["rps"], cpu_us, result["p50_ms"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("targets", nargs="+", help="NAME=bare or NAME=SRC[,VAR=VALUE...]")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5, help="measured seconds per target")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument(
        "--client", choices=sorted(CLIENTS), default="wrk", help="the load generator (default wrk)"
    )
    args = ap.parse_args(argv)
    targets = [t.split("=", 1) for t in args.targets]
    if any(len(t) != 2 for t in targets):
        ap.error("each target is NAME=SPEC")
    python = str(BENCH_DIR / "tools-venv" / "bin" / "python")
    if not Path(python).exists():
        sys.exit(f"no peer-bench tools in {BENCH_DIR}: run ../shared/peer-bench/setup.sh")
    mock = subprocess.Popen(
        [*pin(0), python, str(BENCH_DIR / "mock_upstream.py")],
        env={**os.environ, "MOCK_PORT": str(MOCK_PORT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rates: dict[str, list[float]] = {name: [] for name, _ in targets}
    cpu: dict[str, list[float]] = {name: [] for name, _ in targets}
    try:
        wait_ready(f"http://127.0.0.1:{MOCK_PORT}/health", mock)
        for _ in range(args.rounds):
            cells = []
            for name, spec in targets:
                rps, us, p50 = measure(spec, args.concurrency, args.duration, args.client)
                rates[name].append(rps)
                cpu[name].append(us)
                cells.append(f"{name} {rps:,.0f}/s {us:.0f} µs p50 {p50:.2f} ms")
            first = targets[0][0]
            shares = " ".join(f"{n}={rates[n][-1] / rates[first][-1]:.2f}" for n, _ in targets[1:])
            print(" | ".join(cells) + f" | vs {first}: {shares}", flush=True)
    finally:
        stop(mock)
    first = targets[0][0]
    for name, _ in targets:
        print(
            f"median {name}: {statistics.median(rates[name]):,.0f} req/s, "
            f"{statistics.median(cpu[name]):.0f} µs CPU/request"
        )
    for name, _ in targets[1:]:
        ratio = statistics.median(a / b for a, b in zip(rates[name], rates[first], strict=True))
        print(f"median of {name}/{first} per round: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
