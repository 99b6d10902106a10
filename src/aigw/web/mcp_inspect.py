"""``GET /mcp/inspect``: the live MCP inspector. The page is static; its script (static/
mcp_inspect.js) calls ``POST /mcp`` (``tools/list``, ``tools/call``) with the key pasted into
the page, which stays in the tab's sessionStorage and never goes into a URL."""

from __future__ import annotations

from aiohttp import web

from aigw.web.render import page


async def inspect_page(request: web.Request) -> web.Response:
    return page("mcp_inspect.html", nav="mcp", title="MCP inspector")
