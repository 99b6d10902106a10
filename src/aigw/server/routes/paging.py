"""``?limit=&after=`` lists in OpenAI's list envelope (``first_id``/``last_id``/``has_more``),
shared by the batch, eval and replay routes so every list pages the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from aigw.server.routes.common import json_response, query_limit

# Reads one more row than asked: the extra row only says whether there is a next page.
Fetch = Callable[[str | None, int], Awaitable[list[Any]]]


async def list_page(
    request: web.Request,
    fetch: Fetch,
    view: Callable[[Any], dict[str, Any]],
    *,
    default: int,
    maximum: int = 100,
) -> web.Response:
    """One page: ``fetch(after, limit + 1)`` gives the rows, ``view`` renders each."""
    limit = query_limit(request, default=default, maximum=maximum)
    rows = await fetch(request.query.get("after"), limit + 1)
    data = [view(r) for r in rows[:limit]]
    return json_response(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(rows) > limit,
        }
    )
