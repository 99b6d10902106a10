"""Talking to a running gateway from the CLI: ``--url`` / ``AIGW_URL`` and ``--key`` /
``AIGW_API_KEY``, one JSON GET, errors as one readable line, a spinner and plain tables."""

from __future__ import annotations

import itertools
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import orjson

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_URL = "http://127.0.0.1:8080"
TIMEOUT = 30.0


def gateway_options(func: F) -> F:
    """The ``--url`` and ``--key`` options every HTTP command takes."""
    func = click.option(
        "--key",
        envvar="AIGW_API_KEY",
        required=True,
        help="API key of the account (sk-aig-...). Env: AIGW_API_KEY.",
    )(func)
    return click.option(
        "--url",
        envvar="AIGW_URL",
        default=DEFAULT_URL,
        show_default=True,
        help="Base URL of the running gateway. Env: AIGW_URL.",
    )(func)


@dataclass(frozen=True, slots=True)
class Gateway:
    url: str
    key: str
    timeout: float = TIMEOUT

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON API path; API errors and connection failures end the command."""
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        return self._call("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""))

    def post(self, path: str, body: Any) -> Any:
        """POST a JSON body; the decoded JSON answer (errors end the command, as for GET)."""
        return self._call("POST", path, orjson.dumps(body))

    def _call(self, method: str, path: str, body: bytes | None = None) -> Any:
        url = self.url.rstrip("/") + path
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return orjson.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            raise click.ClickException(_api_error(err.code, err.read())) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise click.ClickException(
                f"cannot reach the gateway at {self.url}: {reason}"
            ) from None
        except orjson.JSONDecodeError:
            raise click.ClickException(f"{url} did not answer with JSON") from None


def _api_error(status: int, body: bytes) -> str:
    try:
        error = orjson.loads(body)["error"]
        return f"{status} {error.get('type')}: {error.get('message')}"
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return f"the gateway answered {status}"


@contextmanager
def spinner(text: str) -> Iterator[None]:
    """A spinner on stderr while something slow runs (only on a terminal)."""
    if not sys.stderr.isatty():
        yield
        return
    done = threading.Event()

    def spin() -> None:
        for frame in itertools.cycle("|/-\\"):
            sys.stderr.write(f"\r{frame} {text}")
            sys.stderr.flush()
            if done.wait(0.1):
                break
        sys.stderr.write("\r" + " " * (len(text) + 2) + "\r")
        sys.stderr.flush()

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(1)


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()
) -> str:
    """Plain aligned columns; columns in ``right`` (numbers) are right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        out = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])
