"""Web UI fixtures: a gateway with traffic in its log, and one headless Chromium per session.

``web_stack`` is a real gateway in front of the simulator (paced at 250 tokens/s so streams
take long enough to watch) with a few requests already logged. ``browser`` drives Debian's
Chromium through Playwright; when Chromium or Playwright is missing the browser tests skip,
or fail when ``CI=true`` (scripts/_chromium.sh installs Chromium). Screenshots go to
``tests/web/screenshots/`` (or ``$AIGW_SCREENSHOTS``), named in the run's summary.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.conftest import AWS_SECRET_ACCESS_KEY, Stack, start_stack

from aigw.simulator import SimConfig, SimulatorThread

CHROMIUM = os.environ.get("AIGW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("AIGW_SCREENSHOTS", Path(__file__).parent / "screenshots"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WARM_UP = (
    ("simulator/chat", 3),
    ("simulator/free", 2),
    ("xai/grok-4.3", 1),
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real headless Chromium")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"web UI screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = SimConfig(
        aws_secret_access_key=AWS_SECRET_ACCESS_KEY,
        tokens_per_second=250,
        min_output_tokens=60,
        max_output_tokens=120,
    )
    path = tmp_path_factory.mktemp("web") / "aigw.db"
    with SimulatorThread(config) as sim:
        stacks = start_stack(f"sqlite:///{path}", sim)
        stack = next(stacks)
        client = stack.client()
        for model, times in WARM_UP:
            for i in range(times):
                client.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": f"warm up {i}"}]
                )
        stack.gw.flush_log()
        yield stack
        stacks.close()


def _fail_or_skip(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the browser test module (they all live in test_browser.py).

    Module scope, not session: Playwright's sync API keeps its event loop marked as running
    in this thread while it is open, and later tests that call ``asyncio.run`` need it gone.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _fail_or_skip("playwright is not installed (pip install -e '.[dev]')")
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        _fail_or_skip(
            f"Chromium not found at {CHROMIUM}: run scripts/test (it installs Debian's "
            "chromium) or apt-get install chromium"
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / ".gitignore").write_text("*\n")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageWatch:
    """A page plus what went wrong on it: console errors, script errors, foreign requests."""

    def __init__(self, page: Any, origin: str) -> None:
        self.page = page
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "request",
            lambda r: None if r.url.startswith((origin, "data:")) else self.foreign.append(r.url),
        )

    def shot(self, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        assert not self.errors, self.errors
        assert not self.foreign, f"requests left this gateway: {self.foreign}"


def until(page: Any, expression: str, timeout: float = 10.0) -> Any:
    """Poll a JavaScript expression until it is truthy; returns its value.

    ``page.wait_for_function`` evaluates with ``eval`` inside the page, which the pages'
    Content-Security-Policy forbids; ``page.evaluate`` goes through the DevTools protocol.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not reached within {timeout}s: {expression}")
        page.wait_for_timeout(15)


def new_page(browser: Any, stack: Stack, *, phone: bool = False, key: str | None = None) -> Any:
    """A fresh context (own localStorage); ``key`` pre-signs it in."""
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
    )
    context.set_default_timeout(10_000)
    if key is not None:
        context.add_init_script(f"localStorage.setItem('aigw.key', {key!r})")
    return PageWatch(context.new_page(), stack.gw.url)
