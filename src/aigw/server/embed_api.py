"""Embed texts for an account from inside the gateway (no HTTP): the semantic cache and other
in-process callers get vectors through exactly the path ``POST /v1/embeddings`` takes, so the
call is routed, reserved, billed at the catalog price and request-logged like any other.

    vectors = await embed_texts(app, key_or_account, "openai/text-embedding-3-small", texts)

``key_or_account`` is an authenticated ``KeyInfo`` (the call is billed to its account, under
its sub-account cap) or an account id (billed to the account itself, no key in the log).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from aigw.auth.keys import KeyInfo
from aigw.errors import GatewayError
from aigw.formats.embedding_vectors import vectors_of
from aigw.formats.openai_media import check_embeddings
from aigw.providers.media import OPERATIONS
from aigw.server.appkeys import OBSERVER, REQUEST_LOG
from aigw.server.media_call import run_media
from aigw.server.metering import Meter

if TYPE_CHECKING:
    from aiohttp import web


async def embed_texts(
    app: web.Application,
    key_or_account: KeyInfo | str,
    model: str,
    texts: list[str],
    *,
    dimensions: int | None = None,
    tag: str | None = None,
) -> list[list[float]]:
    """One vector per text, in order. Raises the ``GatewayError`` the endpoint would answer
    with (unknown model 404, not an embedding model 400, empty wallet 402, upstream 5xx)."""
    key = (
        key_or_account
        if isinstance(key_or_account, KeyInfo)
        else KeyInfo("", key_or_account, "", None)
    )
    body: dict[str, object] = {"model": model, "input": texts, "encoding_format": "float"}
    if dimensions is not None:
        body["dimensions"] = dimensions
    meter = Meter("emb_" + secrets.token_hex(14))
    meter.key, meter.tag = key, tag
    op = OPERATIONS["embeddings"]
    try:
        answer = await run_media(app, meter, op, check_embeddings(body))
        assert isinstance(answer.body, dict)
        return vectors_of(answer.body)
    except GatewayError as err:
        meter.fail(err)
        raise
    except BaseException:
        meter.status, meter.error_type = 500, "server_error"
        raise
    finally:
        await meter.release()
        meter.write(app[REQUEST_LOG])
        app[OBSERVER].finish(meter, op.name)
