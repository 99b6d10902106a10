"""``aigw replay`` and ``aigw eval run``: clients of a running gateway over HTTP.

The gateway's URL and an API key come from ``--url`` / ``AIGW_URL`` (default
http://127.0.0.1:8080) and ``--key`` / ``AIGW_API_KEY``. Plain urllib: nothing to install.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

DEFAULT_URL = "http://127.0.0.1:8080"
POLL_SECONDS = 0.5

url_option = click.option(
    "--url",
    envvar="AIGW_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="The gateway's base URL. Env: AIGW_URL.",
)
key_option = click.option(
    "--key",
    envvar="AIGW_API_KEY",
    required=True,
    help="An API key of the account (sk-aig-...). Env: AIGW_API_KEY.",
)


def call(url: str, key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """(status, decoded JSON) of one call; an error answer becomes a ClickException."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        try:
            message = json.loads(err.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = err.reason
        raise click.ClickException(f"HTTP {err.code}: {message}") from None
    except urllib.error.URLError as err:
        raise click.ClickException(f"cannot reach the gateway at {url}: {err.reason}") from None


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _short(text: Any, width: int = 60) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _num(value: Any, fmt: str = "{:.4f}") -> str:
    return "-" if value is None else fmt.format(value)


@click.command("replay")
@click.argument("request_id")
@click.option("--model", "-m", required=True, help="The model to re-run the request on.")
@click.option("--shadow", is_flag=True, help="Run it in the background (answers at once).")
@click.option("--json", "as_json", is_flag=True, help="Print the Replay record as JSON.")
@url_option
@key_option
def replay(request_id: str, model: str, shadow: bool, as_json: bool, url: str, key: str) -> None:
    """Re-run a past request (its X-Request-Id) on another model and compare."""
    _, record = call(
        url,
        key,
        "POST",
        "/v1/replays",
        {"source_request_id": request_id, "target_model": model, "shadow": shadow},
    )
    if as_json:
        click.echo(json.dumps(record, indent=2))
        return
    rows = [
        [
            "source",
            str(record["source_model"]),
            _num(record["cost_source_cents"]),
            _num(record["latency_source_ms"], "{}"),
            _short(record["source_output"]),
        ],
        [
            "target",
            str(record["target_model"]),
            _num(record["cost_target_cents"]),
            _num(record["latency_target_ms"], "{}"),
            _short(record["target_output"]),
        ],
    ]
    click.echo(table(["", "model", "cost ¢", "latency ms", "output"], rows))
    click.echo(
        f"\nreplay {record['id']}  status {record['status']}  "
        f"similarity {_num(record['score_delta'], '{:.3f}')}"
    )


@click.group("eval")
def eval_group() -> None:
    """Run evals on a running gateway."""


def _dataset(path: str) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise click.BadParameter(f"line {n} is not JSON", param_hint="FILE") from None
        if not isinstance(item, dict) or "input" not in item:
            raise click.BadParameter(f"line {n} has no 'input'", param_hint="FILE")
        items.append(item)
    if not items:
        raise click.BadParameter("the file has no items", param_hint="FILE")
    return items


@eval_group.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--models", required=True, help="Candidate models, comma-separated.")
@click.option(
    "--metric",
    type=click.Choice(["quality", "cost", "speed"]),
    default="quality",
    show_default=True,
    help="What picks the winner.",
)
@click.option("--name", help="The run's name (default: the file's name).")
@click.option("--judge", "judge_model", help="Judge model for items without 'expected'.")
@click.option("--json", "as_json", is_flag=True, help="Print the finished EvalRun as JSON.")
@url_option
@key_option
def eval_run(
    file: str,
    models: str,
    metric: str,
    name: str | None,
    judge_model: str | None,
    as_json: bool,
    url: str,
    key: str,
) -> None:
    """Run every model on every line of FILE.jsonl ({"input", "expected"?}) and show the
    summary; the winner is then routable as model "eval:<run id>"."""
    body: dict[str, Any] = {
        "name": name or Path(file).stem,
        "metric": metric,
        "candidate_models": [m.strip() for m in models.split(",") if m.strip()],
        "dataset": _dataset(file),
        "wait": False,
    }
    if judge_model:
        body["judge_model"] = judge_model
    _, run = call(url, key, "POST", "/v1/evals", body)
    total = int(run["progress"]["total"]) or 1
    shown = 0
    with click.progressbar(length=total, label=f"eval {run['id']}", file=None) as bar:
        while True:
            done = int(run["progress"]["done"])
            if done > shown:
                bar.update(done - shown)
                shown = done
            if run["status"] != "running":
                bar.update(total - shown)
                break
            time.sleep(POLL_SECONDS)
            _, run = call(url, key, "GET", f"/v1/evals/{run['id']}")
    if as_json:
        click.echo(json.dumps(run, indent=2))
        return
    summary = run.get("summary") or {}
    rows = [
        [
            ("* " if model == run["winner_model"] else "  ") + model,
            _num(s.get("score"), "{:.3f}"),
            _num(s.get("cost_cents")),
            _num(s.get("latency_ms"), "{}"),
            str(s.get("errors", 0)),
        ]
        for model, s in summary.items()
    ]
    if rows:
        click.echo(table(["model", "score", "cost ¢", "latency ms", "errors"], rows))
    click.echo(f"\nstatus {run['status']}  winner {run['winner_model'] or '-'}")
    if run["winner_model"]:
        click.echo(f'route to it with model "eval:{run["id"]}"')
    if run.get("error"):
        click.echo(f"error: {run['error']}")
    if run["status"] != "completed":
        raise SystemExit(1)
