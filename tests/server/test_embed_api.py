"""``embed_texts`` (in-process callers such as the semantic cache) and in-process providers
(``register_local_provider``): both take the /v1/embeddings path, billed and logged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.server.conftest import Stack, start_stack

from aigw.billing import ledger
from aigw.billing.pricing import cost_micro_cents
from aigw.catalog.models import Model
from aigw.core.usage import Usage
from aigw.errors import InvalidRequest, ModelNotFound
from aigw.formats.embedding_vectors import embeddings_body
from aigw.formats.media_answers import MediaAnswer
from aigw.formats.openai_media import MediaRequest
from aigw.providers.media import Operation
from aigw.server.appkeys import CATALOG, DATABASE
from aigw.server.embed_api import embed_texts
from aigw.server.media_call import register_local_provider
from aigw.simulator import SimulatorThread
from aigw.simulator import media_content as mc

CATALOG_TOML = """
[providers.local]
name = "In-process"
wire_format = "openai"
base_url = "http://in-process.invalid"
api_key_env = ""

[models."local/toy-embed"]
modality = "embedding"
input_modalities = ["text"]
output_modalities = ["embedding"]
price = { input = 1, output = 0 }
"""


@pytest.fixture(scope="module")
def local_stack(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("local")
    (root / "catalog.toml").write_text(CATALOG_TOML)
    yield from start_stack(
        f"sqlite:///{root / 'aigw.db'}", sim_server, catalog_file=str(root / "catalog.toml")
    )


def _charges(stack: Stack) -> list[int]:
    stack.gw.drain_charges()  # (journaled charges reach the ledger moments later)
    db = stack.gw.app[DATABASE]
    return [
        -e.amount_micro_cents
        for e in stack.gw.call(ledger.entries_for(db, stack.account_id, ["charge"]))
    ]


def test_embed_texts_bills_the_account(local_stack: Stack) -> None:
    stack = local_stack
    before = _charges(stack)
    texts = ["first text", "second text"]
    vectors = stack.gw.call(
        embed_texts(stack.gw.app, stack.account_id, "openai/text-embedding-3-small", texts)
    )
    assert vectors == [pytest.approx(mc.embedding(t, 1536)) for t in texts]
    tokens = sum(mc.tokens_of(t) for t in texts)
    model = stack.gw.app[CATALOG].get("openai/text-embedding-3-small")
    assert model is not None
    assert _charges(stack)[len(before) :] == [cost_micro_cents(model.price, Usage(tokens))]


def test_embed_texts_refuses_what_the_endpoint_refuses(local_stack: Stack) -> None:
    app = local_stack.gw.app
    with pytest.raises(InvalidRequest) as bad:
        local_stack.gw.call(embed_texts(app, local_stack.account_id, "openai/gpt-4o", ["x"]))
    assert bad.value.param == "model"
    with pytest.raises(ModelNotFound):
        local_stack.gw.call(embed_texts(app, local_stack.account_id, "none/such", ["x"]))


def test_in_process_provider_serves_the_endpoint(local_stack: Stack) -> None:
    stack = local_stack
    stack.sim.reset()
    seen: list[list[str]] = []

    async def toy(op: Operation, model: Model, req: MediaRequest) -> MediaAnswer:
        seen.append(req.texts)
        vectors = [[float(len(t)), 1.0] for t in req.texts]
        tokens = sum(len(t.split()) for t in req.texts)
        body = embeddings_body(vectors, model.id, tokens, req.body.get("encoding_format"))
        return MediaAnswer(body, usage=Usage(prompt_tokens=tokens))

    register_local_provider(stack.gw.app, "local", toy)
    before = _charges(stack)
    with stack.client() as client:  # base64 by default: the gateway encodes, the SDK decodes
        result = client.embeddings.create(model="local/toy-embed", input=["a b c", "de"])
    assert seen == [["a b c", "de"]]
    assert [d.embedding for d in result.data] == [[5.0, 1.0], [2.0, 1.0]]
    assert result.model == "local/toy-embed" and result.usage.prompt_tokens == 4
    assert _charges(stack)[len(before) :] == [4 * 100]  # $1 per 1M tokens is 100 µ¢ a token
    assert not [r for r in stack.sim.requests if r["path"].endswith("/embeddings")]
