"""``aigw usage`` and ``aigw tail`` against a live gateway (and the simulator upstream)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aigw.cli import main
from aigw.clients.usage_tail import dollars
from aigw.simulator import SimConfig, SimulatorThread
from tests.server.conftest import AWS_SECRET_ACCESS_KEY, Stack, start_stack

ASK = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with SimulatorThread(SimConfig(aws_secret_access_key=AWS_SECRET_ACCESS_KEY)) as sim:
        path: Path = tmp_path_factory.mktemp("cli") / "aigw.db"
        yield from start_stack(f"sqlite:///{path}", sim)


def _call(stack: Stack, model: str, tag: str | None = None) -> str:
    headers = {"x-aig-tag": tag} if tag else {}
    raw = stack.client().chat.completions.with_raw_response.create(
        model=model, messages=ASK, extra_headers=headers
    )
    return raw.headers["x-request-id"]


def _cli(stack: Stack, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--url", stack.gw.url, "--key", stack.key])
    assert result.exit_code == 0, result.output
    return result.output


def test_usage_by_model_day_and_tag(stack: Stack) -> None:
    _call(stack, "xai/grok-4.3", tag="search")
    _call(stack, "xai/grok-4.3", tag="search")
    _call(stack, "openai/gpt-4o-mini")
    stack.gw.flush_log()
    out = _cli(stack, "usage")
    lines = out.splitlines()
    assert lines[0] == "Usage by model, last 30d"
    assert lines[1].split()[:3] == ["model", "requests", "errors"]
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    assert rows["xai/grok-4.3"][1] == "2" and rows["openai/gpt-4o-mini"][1] == "1"
    assert rows["total"][1] == "3"
    assert rows["total"][5].startswith("$") and rows["total"][5] != "$0"
    by_day = _cli(stack, "usage", "--by", "day", "--window", "7d")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert any(line.startswith(today) and line.split()[1] == "3" for line in by_day.splitlines())
    by_tag = _cli(stack, "usage", "--by", "tag")
    tags = {line.split()[0]: line.split()[1] for line in by_tag.splitlines()[3:]}
    assert tags["search"] == "2" and tags["(untagged)"] == "1" and tags["total"] == "3"
    assert '"by_model"' in _cli(stack, "usage", "--json")


def test_usage_errors_are_one_line(stack: Stack) -> None:
    result = CliRunner().invoke(
        main, ["usage", "--url", stack.gw.url, "--key", "sk-aig-nope", "--window", "7d"]
    )
    assert result.exit_code == 1
    assert "401 authentication_error" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(
        main, ["usage", "--url", stack.gw.url, "--key", stack.key, "--window", "nope"]
    )
    assert result.exit_code == 1 and "400 invalid_request_error" in result.output
    result = CliRunner().invoke(main, ["usage", "--url", "http://127.0.0.1:9", "--key", "k"])
    assert result.exit_code == 1 and "cannot reach the gateway" in result.output


def test_tail_shows_the_backlog_then_follows(stack: Stack) -> None:
    first = _call(stack, "xai/grok-4.3", tag="tailtest")
    stack.gw.flush_log()
    new_ids: list[str] = []

    def later() -> None:
        time.sleep(0.5)
        for model in ("openai/gpt-4o-mini", "xai/grok-4.3"):
            new_ids.append(_call(stack, model))
        stack.gw.flush_log()

    worker = threading.Thread(target=later)
    worker.start()
    out = _cli(stack, "tail", "--lines", "1", "--count", "3", "--interval", "0.1")
    worker.join()
    lines = out.splitlines()
    assert len(lines) == 3
    assert first in lines[0] and "tag=tailtest" in lines[0] and " 200 " in lines[0]
    assert [line.split()[2] for line in lines[1:]] == new_ids, "followed in log order"
    assert "openai/gpt-4o-mini (openai)" in lines[1] and "tok" in lines[1]


def test_tail_filters(stack: Stack) -> None:
    _call(stack, "openai/gpt-4o-mini")
    stack.gw.flush_log()
    out = _cli(stack, "tail", "--lines", "50", "--count", "1", "--model", "xai/grok-4.3")
    assert "xai/grok-4.3" in out and "gpt-4o-mini" not in out


def test_commands_run_as_a_subprocess_with_env(stack: Stack) -> None:
    env = {**os.environ, "AIGW_URL": stack.gw.url, "AIGW_API_KEY": stack.key}
    done = subprocess.run(
        [sys.executable, "-m", "aigw", "usage", "--by", "model"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "total" in done.stdout and "requests" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "aigw", "tail", "--lines", "2", "--count", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2


def test_dollars_are_exact() -> None:
    assert dollars(0) == "$0"
    assert dollars(0.000825) == "$0.000008" or dollars(0.000825) == "$0.00000825"
    assert dollars(12345.5) == "$123.455"
