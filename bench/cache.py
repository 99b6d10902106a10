#!/usr/bin/env python3
"""Response cache latency: a hit against a miss through the same gateway, concurrency 1.

Starts ``aigw simulate`` pinned to one CPU and ``aigw serve`` pinned to the other (fresh
SQLite database, an account with credits, an API key: authentication, billing and the
request log are on, as in production; in-process cache). Sequential requests (concurrency 1,
one keep-alive connection) from this process, on the simulator's CPU, per case:

- ``GET /healthz``: the floor (aiohttp + the gateway's middleware, no work);
- uncached (``x-cache: skip``): the upstream path;
- miss: a new question each time (``x-cache: force``): the upstream path plus the store;
- hit: the same question again, whole and streamed;
- semantic hit: a paraphrase (the question is embedded on every request).

Then the same hit case on a second gateway with ``cache_hit_wait_for_commit = false`` (the
hit does not wait for its ledger commit; the default waits, as misses do). Cases alternate
in rounds; each row is p50 / p99 over all rounds. Writes its own section of ``bench/RESULTS.md``.

    .venv/bin/python bench/cache.py                 # ~1 min
    .venv/bin/python bench/cache.py --requests 300 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import CLK_TCK, Stack, cpu_ticks, running

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN = "<!-- cache.py:begin (generated; do not edit by hand) -->"
END = "<!-- cache.py:end -->"
MODEL = "sima/single"
QUESTION = "In two sentences, what does an LLM API gateway do?"
# The semantic case: one stored question, then paraphrases of it (each request misses exactly,
# embeds its question and matches the stored one by meaning).
SEM_QUESTION = "What is the capital city of France?"
SEM_PARAPHRASES = [
    "What's the capital of France?",
    "Which city is the capital of France?",
    "Tell me the capital of France.",
    "What is France's capital city?",
    "Name the capital city of France.",
]

Case = Callable[[int], tuple[str, bytes | None, dict[str, str]]]


def catalog(sim_url: str) -> str:
    return (
        f'[providers.sima]\nwire_format = "openai"\nbase_url = "{sim_url}/v1"\n'
        "key_required = false\n\n"
        '[models."sima/single"]\nupstream_id = "single"\nprice = { input = 1, output = 2 }\n'
    )


def body(question: str, *, stream: bool = False) -> bytes:
    return orjson.dumps(
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": question}],
            "temperature": 0,
            "max_tokens": 64,
            "stream": stream,
        }
    )


def cases(base: str, key: str, semantic: bool) -> dict[str, Case]:
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    chat = base + "/v1/chat/completions"
    out: dict[str, Case] = {
        "GET /healthz (floor)": lambda i: (base + "/healthz", None, {}),
        "uncached (x-cache: skip)": lambda i: (chat, body(QUESTION), {**auth, "x-cache": "skip"}),
        "miss (new question, stored)": lambda i: (
            chat,
            body(f"{QUESTION} #{i}-{time.monotonic_ns()}"),
            {**auth, "x-cache": "force"},
        ),
        "hit": lambda i: (chat, body(QUESTION), auth),
        "hit, streamed": lambda i: (chat, body(QUESTION, stream=True), auth),
    }
    if semantic:
        sem = {**auth, "x-aig-cache": "semantic", "x-aig-cache-similarity": "0.85"}

        def paraphrase(i: int) -> tuple[str, bytes | None, dict[str, str]]:
            if i < 0:  # the seed: stored with its vector
                return chat, body(SEM_QUESTION), sem
            # A semantic hit is not stored under its own key, so a paraphrase never hits
            # exactly: every request embeds its question and searches.
            return chat, body(SEM_PARAPHRASES[i % len(SEM_PARAPHRASES)]), sem

        out["semantic hit (paraphrase embedded)"] = paraphrase
    return out


async def measure(
    case: Case, n: int, start_at: int, session: aiohttp.ClientSession
) -> tuple[list[float], dict[str, int]]:
    latencies: list[float] = []
    labels: dict[str, int] = {}
    for i in range(start_at, start_at + n):
        url, data, headers = case(i)
        t0 = time.perf_counter()
        if data is None:
            async with session.get(url, headers=headers) as resp:
                await resp.read()
        else:
            async with session.post(url, data=data, headers=headers) as resp:
                await resp.read()
        latencies.append(time.perf_counter() - t0)
        label = f"{resp.status} {resp.headers.get('x-cache', '-')}"
        labels[label] = labels.get(label, 0) + 1
    return latencies, labels


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


Row = tuple[str, float, float, int, str, float]


async def run_cases(
    base: str, key: str, n: int, rounds: int, semantic: bool, pid: int
) -> list[Row]:
    table = cases(base, key, semantic)
    samples: dict[str, list[float]] = {name: [] for name in table}
    ticks: dict[str, int] = {name: 0 for name in table}
    labels: dict[str, dict[str, int]] = {name: {} for name in table}
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm up: store the questions (the semantic one with its vector), load the model.
        for name, case in table.items():
            if name.startswith("semantic"):
                await measure(case, 1, -1, session)
                await asyncio.sleep(0.3)
            await measure(case, 20, 0, session)
        await asyncio.sleep(0.3)
        for r in range(rounds):
            for name, case in table.items():
                count = n if "semantic" not in name else max(20, n // 10)
                before = cpu_ticks(pid)
                got, seen = await measure(case, count, (r + 1) * 100_000, session)
                ticks[name] += cpu_ticks(pid) - before
                samples[name] += got
                for label, c in seen.items():
                    labels[name][label] = labels[name].get(label, 0) + c
    return [
        (
            name,
            pct(samples[name], 0.5),
            pct(samples[name], 0.99),
            len(samples[name]),
            ", ".join(f"{k}: {v}" for k, v in sorted(labels[name].items())),
            ticks[name] / CLK_TCK / len(samples[name]) * 1e6,
        )
        for name in table
    ]


def report(
    rows: list[Row],
    wait_rows: list[Row],
    args: argparse.Namespace,
    load_avg: float,
) -> str:
    lines = [
        "## Response cache (`bench/cache.py`)",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; command "
        f"`.venv/bin/python bench/cache.py --requests {args.requests} --rounds {args.rounds}`",
        "- Gateway pinned to CPU 1, simulator and client to CPU 0; SQLite, billing and the",
        "  request log on, in-process cache; concurrency 1, one keep-alive connection;",
        f"  load average at the start {load_avg:.1f}. Latency is the client's (request sent",
        "  to last byte read), so it includes the client's own aiohttp work.",
        "",
        "| case | p50 ms | p99 ms | gateway CPU µs/req | requests | status, X-Cache |",
        "|---|---|---|---|---|---|",
    ]
    for name, p50, p99, n, seen, cpu in rows:
        lines.append(f"| {name} | {p50:.3f} | {p99:.3f} | {cpu:.0f} | {n} | {seen} |")
    for name, p50, p99, n, seen, cpu in wait_rows:
        if name.startswith("hit"):
            lines.append(
                f"| {name}, `cache_hit_wait_for_commit = false` | {p50:.3f} | {p99:.3f} "
                f"| {cpu:.0f} | {n} | {seen} |"
            )
    by_name = {r[0]: r for r in rows}
    hit = by_name["hit"][1]
    verdict = "**met**" if hit < 1.0 else "**not met**"
    waited = {r[0]: r for r in wait_rows}.get("hit")
    lines += [
        "",
        f"Goal: a hit served in under 1 ms at concurrency 1 (p50): {verdict} ({hit:.3f} ms; "
        f"the floor, `/healthz`, is {by_name['GET /healthz (floor)'][1]:.3f} ms).",
        "",
        "What a hit does: auth, rate limit, parse and plan (all in memory), the key (blake2b",
        "of the normalised request), one in-process lookup, the hit price reserved and",
        "settled in the live wallet, the request log buffered, and (by default) a wait for",
        "the hit's ledger row: one inline SQLite transaction (`store/sqlite_writer.py`).",
    ]
    if waited is not None:
        lines += [
            "",
            "Not waiting for that commit (`cache_hit_wait_for_commit = false`: the charge",
            "writer commits within 50 ms, several hits to one transaction) changes a hit by",
            f"{waited[1] - hit:+.3f} ms at p50 and {waited[5] - by_name['hit'][5]:+.0f} µs of "
            "gateway CPU; the default keeps the wait, so no served hit can lose its ledger row.",
        ]
    semantic_row = by_name.get("semantic hit (paraphrase embedded)")
    if semantic_row is not None:
        lines += [
            "",
            "A semantic hit embeds the question (all-MiniLM-L6-v2 in numpy, one BLAS thread, in",
            f"a worker thread): {semantic_row[5] / 1000:.1f} ms of CPU per request on this VM,",
            "then compares it with the scope's stored vectors. It is opt-in per request",
            "(`x-aig-cache: semantic`); exact hits are always tried first.",
        ]
    return "\n".join(lines) + "\n"


def write(section: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the section between ``begin`` and ``end`` in RESULTS.md (or append it)."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    block = f"{begin}\n{section}{end}\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(text)


def semantic_available() -> bool:
    from aigw.embeddings.local import LocalEmbedder

    return LocalEmbedder().available()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="per case and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sim-cpu", type=int, default=0)
    parser.add_argument("--gw-cpu", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    args.requests = min(args.requests, 5000)
    load_avg = os.getloadavg()[0]
    semantic = semantic_available()
    results: list[list[Row]] = []
    for env in ({}, {"AIGW_CACHE_HIT_WAIT_FOR_COMMIT": "false"}):
        with tempfile.TemporaryDirectory(prefix="aigw-cache-bench-") as tmp:
            stack = Stack(Path(tmp), args.sim_cpu, args.gw_cpu, env_extra=env, catalog=catalog)
            with running(stack):
                results.append(
                    asyncio.run(
                        run_cases(
                            stack.gw_base,
                            stack.key,
                            args.requests,
                            args.rounds,
                            semantic and not env,
                            stack.gw_pid,
                        )
                    )
                )
    section = report(results[0], results[1], args, load_avg)
    print(section)
    if not args.no_write:
        write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
