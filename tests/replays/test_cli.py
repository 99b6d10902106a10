"""``aigw replay`` and ``aigw eval run`` end to end: the installed command, run as a
subprocess, against a running gateway over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.replays.kit import ALPHA, BETA, script
from tests.replays.test_replays import chat
from tests.server.conftest import Stack

AIGW = str(Path(sys.executable).with_name("aigw"))


def aigw(stack: Stack, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIGW_URL": stack.gw.url, "AIGW_API_KEY": key or stack.key}
    return subprocess.run(
        [AIGW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_replay_command_prints_both_sides(stack: Stack) -> None:
    rid, text = chat(stack, "Why is the sky blue?")
    done = aigw(stack, "replay", rid, "--model", BETA)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["model", "cost", "¢", "latency", "ms", "output"]
    assert lines[2].split()[:2] == ["source", ALPHA] and lines[3].split()[:2] == ["target", BETA]
    assert " ".join(text.split())[:20] in lines[2]
    assert "status completed" in done.stdout and "similarity 0." in done.stdout
    as_json = aigw(stack, "replay", rid, "--model", ALPHA, "--json")
    record = json.loads(as_json.stdout)
    assert record["score_delta"] == 1.0 and record["source_request_id"] == rid
    missing = aigw(stack, "replay", "req_nope", "--model", BETA)
    assert missing.returncode == 1 and "Error: 404 not_found: No request" in missing.stderr


def test_eval_run_command_shows_progress_and_the_winner(stack: Stack, tmp_path: Path) -> None:
    script(
        stack,
        {"contains": "2+2", "text": "5", "model": "alpha"},
        {"contains": "2+2", "text": "4", "model": "beta"},
        {"contains": "3+3", "text": "6", "model": "beta"},
    )
    data = tmp_path / "arith.jsonl"
    data.write_text(
        json.dumps({"input": "What is 2+2?", "expected": "4"})
        + "\n\n"
        + json.dumps({"input": "What is 3+3?", "expected": "6"})
        + "\n"
    )
    done = aigw(stack, "eval", "run", str(data), "--models", f"{ALPHA},{BETA}", "--name", "cli")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "eval eval_" in out  # the progress bar's label
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line.startswith("* ")}
    assert rows[BETA][2] == "1.000"
    alpha = next(line.split() for line in out.splitlines() if line.strip().startswith(ALPHA))
    assert alpha[1] == "0.000"
    assert f"winner {BETA}" in out and 'route to it with model "eval:eval_' in out
    bad = aigw(stack, "eval", "run", str(data), "--models", "nope/none")
    assert bad.returncode == 1 and "Error: 404 " in bad.stderr
    no_key = aigw(stack, "eval", "run", str(data), "--models", ALPHA, key="sk-aig-wrong")
    assert no_key.returncode == 1 and "Error: 401 authentication_error" in no_key.stderr
