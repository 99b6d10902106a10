"""Job prices come from the catalog: an operator's catalog file that reprices a job model
changes what the job is charged, and bad unit prices are refused at load."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.billing import ledger
from aigw.catalog.loader import load_catalog
from aigw.errors import ConfigError
from aigw.server.appkeys import DATABASE
from tests.jobs.conftest import JobStack, job_stack

CATALOG = """
[models."simulator/3d".price]
per_item = "0.07"

[models."simulator/video".price]
per_second = "0.03"
default_seconds = "2"
max_seconds = "4"
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobStack]:
    root = tmp_path_factory.mktemp("prices")
    (root / "catalog.toml").write_text(CATALOG)
    with job_stack(root, catalog_file=str(root / "catalog.toml")) as s:
        yield s


def test_jobs_are_charged_the_catalog_price(stack: JobStack) -> None:
    status, asset = stack.call(
        "POST", "/v1/3d/generations", {"prompt": "a vase", "model": "simulator/3d"}
    )
    assert status == 202 and asset["cost"] == pytest.approx(0.07)
    status, video = stack.call(
        "POST",
        "/v1/videos/generations",
        {"prompt": "waves", "model": "simulator/video", "duration": 9},
    )
    assert status == 202 and video["cost"] == pytest.approx(0.12)  # clamped to 4 s × $0.03
    entries = stack.gw.call(ledger.entries_for(stack.gw.app[DATABASE], stack.account_id))
    charged = {e.request_id: -e.amount_micro_cents for e in entries if e.kind == "charge"}
    assert charged[asset["id"]] == 7_000_000 and charged[video["id"]] == 12_000_000
    status, model = stack.call("GET", "/v1/models/simulator/3d")
    assert status == 200 and model["modality"] == "3d" and model["pricing"]["per_item"] == 0.07


def test_chat_cannot_call_a_queue_model(stack: JobStack) -> None:
    body = {"model": "fal/trellis", "messages": [{"role": "user", "content": "hi"}]}
    status, answer = stack.call("POST", "/v1/chat/completions", body)
    assert status == 503 and answer["error"]["type"] == "provider_not_configured"


@pytest.mark.parametrize(
    ("model", "table", "needle"),
    [
        ("simulator/3d", 'per_second = "1"', "one of"),
        ("simulator/3d", 'max_seconds = "4"', "need 'price.per_second'"),
        ("simulator/video", 'default_seconds = "9"\nmax_seconds = "4"', "default_seconds"),
        ("simulator/3d", 'per_item = "-1"', "per_item"),
    ],
)
def test_bad_unit_prices_are_refused(tmp_path: Path, model: str, table: str, needle: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[models."{model}".price]\n{table}\n')
    with pytest.raises(ConfigError, match=needle):
        load_catalog(path)
