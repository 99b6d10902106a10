"""What a rate-limit check costs: the in-process limiter versus the Redis round trip.

Times ``acquire`` (check and count, one Lua script on Redis) for one key with a limit high
enough never to refuse, sequentially (concurrency 1, the added latency a request sees) over
a fixed number of calls, and writes the ``rate limits`` section of bench/RESULTS.md.
Goal (issue 4): the Redis round trip adds under 0.5 ms at p50.

    .venv/bin/python bench/limits.py [--calls 5000] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

from aigw.limits.base import Limit, RateLimiter
from aigw.limits.memory import MemoryLimiter
from aigw.limits.redis_backend import RedisLimiter

sys.path.insert(0, str(Path(__file__).parent))
from overhead import RESULTS, cpu_model, git_revision, write_section

BEGIN = "<!-- limits.py:begin (generated; do not edit by hand) -->"
END = "<!-- limits.py:end -->"


async def timings(limiter: RateLimiter, calls: int) -> list[float]:
    limits = [Limit("bench-" + secrets.token_hex(4), rpm=10**9, tpm=10**12)]
    for _ in range(200):  # warm the connection and the script cache
        await limiter.acquire(limits)
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        await limiter.acquire(limits)
        out.append((time.perf_counter() - started) * 1000)
    await limiter.close()
    return out


def row(name: str, ms: list[float]) -> str:
    ms.sort()
    p50 = statistics.median(ms)
    p99 = ms[int(len(ms) * 0.99) - 1]
    return f"| {name} | {len(ms)} | {p50:.3f} | {p99:.3f} |"


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--redis", default=os.environ.get("AIGW_REDIS_URL", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    memory = asyncio.run(timings(MemoryLimiter(), args.calls))
    redis = asyncio.run(timings(RedisLimiter(args.redis, timeout=1.0), args.calls))
    p50 = statistics.median(redis)
    verdict = "met" if p50 < 0.5 else "missed"
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            BEGIN,
            "## Rate limits: one check, in process and through Redis (`bench/limits.py`)",
            "",
            f"- Date: {now}; aigw revision {git_revision()}; {os.cpu_count()} CPUs "
            f"({cpu_model()}); Redis on 127.0.0.1",
            f"- Command: `.venv/bin/python bench/limits.py {' '.join(argv)}`".rstrip(),
            "- One key, sequential calls (concurrency 1): the latency a request sees.",
            "",
            "| limiter | calls | p50 ms | p99 ms |",
            "|---|---|---|---|",
            row("in-process (`MemoryLimiter`)", memory),
            row("Redis (`RedisLimiter`, one Lua script)", redis),
            "",
            f"Goal: the Redis round trip under 0.5 ms at p50: **{verdict}** ({p50:.3f} ms).",
            END,
        ]
    )
    print(text)
    if not args.no_write:
        write_section(RESULTS, text)


if __name__ == "__main__":
    main(sys.argv[1:])
