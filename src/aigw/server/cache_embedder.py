"""The semantic cache's embedder for catalog models (``cache_embedding_model =
"openai/text-embedding-3-small"``, say): each lookup embeds the request's trailing user text
through ``embed_texts``, the path ``POST /v1/embeddings`` takes.

Cost: that embedding call is billed to the account whose request is looked up (its key, so
sub-account caps and the request's tag apply) at the model's catalog price, and written to
the request log under its own id (``emb_...``), like any embeddings call. It happens on every
semantic lookup that misses the exact key, hit or miss; a refused call (empty wallet, upstream
down) only turns the lookup into an exact-match one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from aigw.cache.semantic import Embedder, Payer
from aigw.server.appkeys import CATALOG
from aigw.server.embed_api import embed_texts

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("aigw.cache")


class CatalogEmbedder:
    """``Embedder`` over a catalog embedding model, billed to the lookup's payer."""

    def __init__(self, app: web.Application, name: str) -> None:
        self._app = app
        self.name = name

    async def embed(self, texts: Sequence[str], payer: Payer | None = None) -> list[list[float]]:
        if payer is None:
            raise ValueError("an upstream embedding model needs an account to bill")
        vectors = await embed_texts(self._app, payer.key, self.name, list(texts), tag=payer.tag)
        return [_unit(v) for v in vectors]


def _unit(vector: list[float]) -> list[float]:
    """Cosine as a dot product needs unit vectors; not every provider sends them."""
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


def catalog_embedder(app: web.Application) -> Callable[[str], Embedder | None]:
    """The ``upstream`` factory of ``embedder_for``: a catalog embedding model or None."""

    def make(name: str) -> Embedder | None:
        model = app[CATALOG].get(name)
        if model is None or model.modality != "embedding":
            log.error(
                "semantic cache off: cache_embedding_model %r is not an embedding model in the "
                "catalog (GET /v1/models?modality=embedding)",
                name,
            )
            return None
        return CatalogEmbedder(app, name)

    return make
