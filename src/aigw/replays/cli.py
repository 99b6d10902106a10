"""``aigw replay`` and ``aigw eval run``: clients of a running gateway over HTTP.

The gateway's URL, the API key, HTTP errors and tables are those of every HTTP command
(aigw.clients.connect: ``--url`` / ``AIGW_URL``, ``--key`` / ``AIGW_API_KEY``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from aigw.clients.connect import Gateway, gateway_options, table

POLL_SECONDS = 0.5
# A replay or an eval run waits for model answers: far longer than a usage read.
CALL_TIMEOUT = 600.0


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
@gateway_options
def replay(request_id: str, model: str, shadow: bool, as_json: bool, url: str, key: str) -> None:
    """Re-run a past request (its X-Request-Id) on another model and compare."""
    record = Gateway(url, key, CALL_TIMEOUT).post(
        "/v1/replays", {"source_request_id": request_id, "target_model": model, "shadow": shadow}
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
@gateway_options
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
    gateway = Gateway(url, key, CALL_TIMEOUT)
    run = gateway.post("/v1/evals", body)
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
            run = gateway.get(f"/v1/evals/{run['id']}")
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
