#!/usr/bin/env python3
"""aigw beside LiteLLM, Portkey and the bare aiohttp proxy, in one peer-bench run.

Runs ``../shared/peer-bench/run_all.sh`` with aigw as its ``custom`` target (a fresh SQLite
database with an account, credits and an API key; authentication, the request log and, unless
``--billing off``, wallet billing on), then writes the run's tables and the goal check (aigw
versus ``bare`` in the same run) into its own section of ``bench/RESULTS.md``.

    .venv/bin/python bench/peers.py                          # full run: 10 s per cell
    .venv/bin/python bench/peers.py --duration 5 --targets "direct bare custom"

The peer-bench itself pins the gateway under test to CPU 1 and its mock upstream and load
generator to CPU 0, and bounds every load run in time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import RESULTS, code_origin, git_revision, write_section
from stack import ADMIN_KEY, aigw_bin, create_key

ROOT = Path(__file__).resolve().parent.parent
PEER_BENCH = ROOT.parent / "shared" / "peer-bench"
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/aigw-peer-bench"))
MOCK = "http://127.0.0.1:18000/v1"  # the peer-bench mock upstream's fixed address
MODEL = "openai/gpt-4o-mini"
RATE_GOAL = 0.75  # of bare's requests/s at c=16
LATENCY_GOAL_MS = 0.3  # over bare's added latency at c=1


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def run_peer_bench(args: argparse.Namespace, workdir: Path) -> tuple[Path, str]:
    """Run run_all.sh with aigw as ``custom``; returns (results directory, command line)."""
    aigw = aigw_bin()
    db = f"sqlite:///{workdir / 'bench.db'}"

    def run(argv: list[str]) -> str:
        return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout

    key = create_key(aigw, db, run)
    gateway_env = {
        "OPENAI_API_KEY": "sk-bench-upstream",
        "OPENAI_BASE_URL": MOCK,
        "AIGW_ADMIN_KEY": ADMIN_KEY,
    }
    if args.billing == "off":
        gateway_env["AIGW_BILLING_ENABLED"] = "false"
    gateway_env.update(e.split("=", 1) for e in args.env)
    serve = [aigw, "--db", db, "serve", "--host", "127.0.0.1", "--port", str(args.port)]
    env = {
        "CUSTOM_NAME": "aigw",
        "CUSTOM_CMD": shlex.join(["env", *(f"{k}={v}" for k, v in gateway_env.items()), *serve]),
        "CUSTOM_URL": f"http://127.0.0.1:{args.port}/v1/chat/completions",
        "CUSTOM_MODEL": MODEL,
        "CUSTOM_KEY": key,
        "CUSTOM_READY_URL": f"http://127.0.0.1:{args.port}/healthz",
        "TARGETS": args.targets,
        "DURATION": str(args.duration),
        "WARMUP": str(args.warmup),
        "BENCH_DIR": str(BENCH_DIR),
    }
    shown = {k: v for k, v in env.items() if k != "CUSTOM_KEY"}
    command = " ".join(f"{k}={shlex.quote(v)}" for k, v in shown.items())
    command += f" CUSTOM_KEY=sk-aig-... {PEER_BENCH / 'run_all.sh'}"
    print(command, flush=True)
    before = set((BENCH_DIR / "results").glob("2*")) if (BENCH_DIR / "results").exists() else set()
    # Bounded: every load run inside is bounded; the whole run gets a generous ceiling.
    subprocess.run(
        [str(PEER_BENCH / "run_all.sh")],
        env={**os.environ, **env},
        check=True,
        timeout=3600,
    )
    runs = sorted(set((BENCH_DIR / "results").glob("2*")) - before)
    if not runs:
        sys.exit("run_all.sh left no results directory")
    return runs[-1], command


def load_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def wrk_rps(run: Path, target: str, conc: int) -> float | None:
    try:
        text = (run / f"wrk_{target}_nonstream_c{conc}.txt").read_text()
    except OSError:
        return None
    found = re.search(r"WRKJSON (\{.*\})", text)
    return float(json.loads(found.group(1))["rps"]) if found else None


def goal_rows(run: Path) -> list[list[str]]:
    """aigw (``custom``) versus ``bare`` in this run, cell by cell."""

    def cell(target: str, mode: str, conc: int) -> dict[str, Any] | None:
        return load_json(run / f"load_{target}_{mode}_c{conc}.json")

    rows: list[list[str]] = []

    def verdict(ok: bool | None) -> str:
        return "-" if ok is None else ("**met**" if ok else "**missed**")

    for mode in ("nonstream", "stream"):
        ours, bare = cell("custom", mode, 16), cell("bare", mode, 16)
        ratio = ours["rps"] / bare["rps"] if ours and bare and bare["rps"] else None
        rows.append(
            [
                f"req/s, {mode}, c=16",
                f"{ours['rps']:,.0f}" if ours else "-",
                f"{bare['rps']:,.0f}" if bare else "-",
                f"{ratio:.0%} of bare" if ratio is not None else "-",
                f"≥ {RATE_GOAL:.0%}",
                verdict(None if ratio is None else ratio >= RATE_GOAL),
            ]
        )
    ours_w, bare_w = wrk_rps(run, "custom", 16), wrk_rps(run, "bare", 16)
    if ours_w and bare_w:
        ratio = ours_w / bare_w
        rows.append(
            [
                "req/s, nonstream, c=16, wrk",
                f"{ours_w:,.0f}",
                f"{bare_w:,.0f}",
                f"{ratio:.0%} of bare",
                f"≥ {RATE_GOAL:.0%}",
                verdict(ratio >= RATE_GOAL),
            ]
        )
    for mode in ("nonstream", "stream"):
        ours, bare, direct = cell("custom", mode, 1), cell("bare", mode, 1), cell("direct", mode, 1)
        if not (ours and bare and direct):
            rows.append([f"added p50, {mode}, c=1", "-", "-", "-", "-", "-"])
            continue
        base = direct["lat_ms"]["p50"]
        ours_ms, bare_ms = ours["lat_ms"]["p50"] - base, bare["lat_ms"]["p50"] - base
        diff = ours_ms - bare_ms
        rows.append(
            [
                f"added p50 latency, {mode}, c=1",
                f"{ours_ms:+.2f} ms",
                f"{bare_ms:+.2f} ms",
                f"{diff:+.2f} ms vs bare",
                f"≤ +{LATENCY_GOAL_MS} ms",
                verdict(diff <= LATENCY_GOAL_MS),
            ]
        )
    return rows


def md_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def section(run: Path, command: str, args: argparse.Namespace, invoked: str) -> str:
    label = f"peers.py {args.label}"
    summary = (run / "summary.md").read_text() if (run / "summary.md").exists() else ""
    # The peer-bench labels the custom target "custom"; here it is aigw.
    summary = re.sub(r"\| custom \|", "| aigw |", summary)
    summary = re.sub(r"^### ", "##### ", summary, flags=re.M)
    summary = re.sub(r"^## Results", "#### peer-bench tables", summary, flags=re.M)
    versions = (run / "versions.txt").read_text().strip() if (run / "versions.txt").exists() else ""
    commands = (run / "commands.txt").read_text().strip() if (run / "commands.txt").exists() else ""
    commands = re.sub(r"sk-aig-[A-Za-z0-9]+", "sk-aig-...", commands)
    others = ", ".join(f"`{t}`" for t in args.targets.split() if t != "custom")
    config = f"billing {args.billing}" + (f"; {' '.join(args.env)}" if args.env else "")
    if args.label != f"billing-{args.billing}":
        config += f"; {args.label}"
    return "\n".join(
        [
            f"<!-- {label}:begin (generated; do not edit by hand) -->",
            f"### Peer-bench run `{run.name}`: aigw ({config}) beside {others}",
            "",
            f"- aigw revision {args.revision}; run directory `{run}`",
            f"- Command: `{invoked}`, which ran `{command}`",
            f"- Targets: {args.targets.replace('custom', 'aigw')}; {args.warmup} s warmup + "
            f"{args.duration} s per cell (wrk {args.duration} s); gateway on CPU 1, "
            "mock upstream and load generator on CPU 0.",
            "",
            "#### Goal check (aigw vs `bare`, same run)",
            "",
            md_table(["cell", "aigw", "bare", "aigw vs bare", "goal", "verdict"], goal_rows(run)),
            "",
            summary.strip(),
            "",
            "#### Versions",
            "",
            "```",
            versions,
            "```",
            "",
            "#### Exact commands of the run",
            "",
            "```",
            commands,
            "```",
            f"<!-- {label}:end -->",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=10, help="measured seconds per cell")
    ap.add_argument("--warmup", type=int, default=2, help="warmup seconds per cell")
    ap.add_argument("--targets", default="direct bare custom litellm portkey")
    ap.add_argument("--billing", choices=["on", "off"], default="on")
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the gateway, e.g. AIGW_LOG_FLUSH_SECONDS=0.5",
    )
    ap.add_argument("--port", type=int, default=8080, help="aigw's port")
    ap.add_argument("--label", default=None, help="section name (default: billing-on/off)")
    ap.add_argument("--report-only", type=Path, help="rewrite the section from this run dir")
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    args.label = args.label or f"billing-{args.billing}"
    if any("=" not in e for e in args.env):
        ap.error("--env takes NAME=VALUE")
    if not 0 < args.duration <= 120 or not 0 <= args.warmup <= 30:
        ap.error("--duration must be in (0, 120] and --warmup in [0, 30]")
    if args.report_only:
        run = args.report_only
        saved = json.loads((run / "aigw_command.json").read_text())
        invoked, command = saved["peers"], saved["run_all"]
        args.revision = saved.get("revision", "unknown (not recorded by the run)")
        # The run's own parameters, not this invocation's defaults.
        params = (run / "params.txt").read_text() if (run / "params.txt").exists() else ""
        found = dict(re.findall(r"(DURATION|WARMUP)=(\d+)", params))
        args.duration = int(found.get("DURATION", args.duration))
        args.warmup = int(found.get("WARMUP", args.warmup))
        targets = re.search(r"TARGETS=(.*?) WRK=", params)
        args.targets = targets[1] if targets else args.targets
    else:
        if not port_is_free(args.port):
            sys.exit(f"port {args.port} is in use")
        args.revision = f"{git_revision()}{code_origin()}"  # of the code about to run
        with tempfile.TemporaryDirectory(prefix="aigw-peers-") as tmp:
            run, command = run_peer_bench(args, Path(tmp))
        invoked = shlex.join(["bench/peers.py", *argv])
        if os.environ.get("PYTHONPATH"):
            invoked = f"PYTHONPATH={os.environ['PYTHONPATH']} {invoked}"
        saved = {"peers": invoked, "run_all": command, "revision": args.revision}
        (run / "aigw_command.json").write_text(json.dumps(saved) + "\n")
    write_section(args.output, section(run, command, args, invoked))
    print(f"\nwrote {args.output} (run {run})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
