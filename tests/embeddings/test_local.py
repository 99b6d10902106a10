"""The numpy MiniLM against sentence-transformers' published numbers, and its properties."""

from __future__ import annotations

import asyncio
import math

import pytest

from aigw.embeddings.local import DIMENSIONS, LocalEmbedder, load_model

# sbert.net's quickstart (docs/sentence_transformer/usage/usage.html) prints these
# similarities for all-MiniLM-L6-v2, computed by sentence-transformers on torch.
QUICKSTART = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
PUBLISHED = {(0, 1): 0.6660, (0, 2): 0.1046, (1, 2): 0.1411}


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    embedder = LocalEmbedder()
    assert embedder.available(), "dev setup installs the model: scripts/_venv.sh"
    return embedder


def test_matches_the_published_similarities(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed_sync(QUICKSTART)
    for (i, j), expected in PUBLISHED.items():
        assert _cos(vectors[i], vectors[j]) == pytest.approx(expected, abs=5e-4), (i, j)


def test_384_dimensions_unit_norm(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed_sync(["hello", "a much longer sentence about gateways " * 20, ""])
    for vector in vectors:
        assert len(vector) == DIMENSIONS
        assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-5)


def test_paraphrases_score_clearly_above_unrelated(embedder: LocalEmbedder) -> None:
    q, para, other = embedder.embed_sync(
        [
            "What is the capital of France?",
            "Which city is the capital of France?",
            "How do I bake sourdough bread at home?",
        ]
    )
    assert _cos(q, para) > 0.85
    assert _cos(q, other) < 0.3


def test_batch_equals_single_whatever_the_padding(embedder: LocalEmbedder) -> None:
    texts = ["short", "a somewhat longer sentence that needs more tokens than the first", "mid"]
    batch = embedder.embed_sync(texts)
    for text, row in zip(texts, batch, strict=True):
        single = embedder.embed_sync([text])[0]
        assert max(abs(a - b) for a, b in zip(row, single, strict=True)) < 1e-5


def test_long_input_is_truncated_not_refused(embedder: LocalEmbedder) -> None:
    model = load_model()
    assert len(model.tokenizer.encode("word " * 2000).ids) == 256
    assert len(embedder.embed_sync(["word " * 2000])[0]) == DIMENSIONS


async def test_embed_runs_off_the_event_loop(embedder: LocalEmbedder) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    vectors = await embedder.embed(["the loop keeps running " * 30] * 16)
    task.cancel()
    assert len(vectors) == 16
    assert ticks > 3  # the loop ran while the batch was embedded in a worker thread
    assert await embedder.embed([]) == []
