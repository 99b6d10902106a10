"""``aigw simulate``: help text, option validation, and a real process serving requests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import openai
from click.testing import CliRunner

from aigw.simulator.command import simulate


def test_help_lists_options_faults_and_control_api() -> None:
    result = CliRunner().invoke(simulate, ["--help"])
    assert result.exit_code == 0
    for text in ("--latency-ms", "--ttft-ms", "--tokens-per-second", "--fault-rate",
                 "--require-key", "429_quota", "slow_first_token", "/_sim/faults"):  # fmt: skip
        assert text in result.output


def test_rejects_unknown_fault() -> None:
    result = CliRunner().invoke(simulate, ["--fault", "explode"])
    assert result.exit_code == 2 and "unknown fault" in result.output


def test_serves_until_sigterm() -> None:
    code = "from aigw.simulator.command import simulate; simulate()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--output-tokens", "9", "--require-key", "k1"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"(http://\S+/v1)", line)
        assert match, line
        with openai.OpenAI(base_url=match.group(1), api_key="k1", max_retries=0) as client:
            out = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}]
            )
        assert out.usage is not None and out.usage.completion_tokens == 9
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
