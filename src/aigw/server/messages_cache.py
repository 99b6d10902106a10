"""The response cache on ``POST /v1/messages``: the chat cache's modes, headers and hit price,
keyed apart from chat (``cache/messages_keys.py``) and answered in Anthropic's format.

``serve_messages_from_cache`` runs after auth, rate limits and planning, before the
reservation: a hit is billed at the hit price (``server/cache.bill_hit``), logged with
provider ``cache`` (``cache-semantic``) and sent as a Message, or as Anthropic's event
sequence when the client streams. ``remember_messages`` stores a finished miss: a whole
Message from its body, a streamed one from the SSE bytes the client was sent (the chat
cache's tee).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from aigw.cache import messages_entry
from aigw.cache.messages_keys import plan
from aigw.server.cache import CACHE, bill_hit, find, lookup_of, missed
from aigw.server.middleware import REQUEST_ID, client_request_id

if TYPE_CHECKING:
    from aigw.server.metering import Meter

SSE = "text/event-stream"


async def serve_messages_from_cache(
    request: web.Request, meter: Meter, body: dict[str, Any], stream: bool
) -> web.Response | None:
    """A hit's whole answer (Message or event stream), or None: the request goes upstream."""
    found = await find(request, meter, body, plan)
    if found is None:
        return None
    cache, lookup, hit = found
    payload = None
    if hit is not None:
        answer = messages_entry.stream_answer if stream else messages_entry.whole_answer
        payload = answer(hit.entry)
    if hit is None or payload is None:  # an unreadable entry is a miss (and is replaced)
        missed(request, lookup, stream)
        return None
    headers = await bill_hit(request, meter, cache, hit, messages_entry.usage_of(hit.entry))
    headers[REQUEST_ID] = client_request_id(request) or meter.request_id
    if stream:
        headers["Cache-Control"] = "no-cache"
        return web.Response(body=payload, content_type=SSE, headers=headers)
    return web.Response(body=payload, content_type="application/json", headers=headers)


def remember_messages(request: web.Request, meter: Meter, response: web.StreamResponse) -> None:
    """Store a miss's finished answer (in the background), if it ended well."""
    lookup = lookup_of(request)
    cache = request.app.get(CACHE)
    if lookup is None or cache is None or meter.status != 200 or response.status != 200:
        return
    if meter.model is None:
        return
    if lookup.capture is None:
        if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
            return
        entry = messages_entry.from_whole(response.body, meter.cost)
    else:
        if lookup.captured > cache.max_entry_bytes:
            return
        sse = b"".join(lookup.capture)
        entry = messages_entry.from_stream(sse, meter.model.id, meter.cost)
    if entry is not None:
        cache.store_soon(lookup, entry)
