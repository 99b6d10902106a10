"""Templates and static files: one Jinja environment, assets held in memory.

Templates compile once per process. Static files are read at start-up and served from
memory with a content-hash version in their URL, so browsers may cache them for a year and
still see a new release at once. Pages carry a Content-Security-Policy that allows only this
origin: the API key lives in the browser's localStorage, and no third-party script, style or
connection may ever reach it.
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from aigw.web import fmt

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    version: str


@functools.cache
def assets() -> dict[str, Asset]:
    """Every file under ``static/`` by name, read once."""
    found = {}
    for path in sorted(STATIC.iterdir()):
        if path.is_file():
            body = path.read_bytes()
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith("javascript"):
                kind += "; charset=utf-8"
            found[path.name] = Asset(body, kind, hashlib.sha256(body).hexdigest()[:12])
    return found


def static_url(name: str) -> str:
    return f"/static/{name}?v={assets()[name].version}"


def pretty_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _num(value: int | float) -> str:
    return f"{value:,}"


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        usd=fmt.usd,
        tokens=fmt.compact_tokens,
        big=fmt.big,
        pct=fmt.percent,
        num=_num,
        pretty_json=pretty_json,
    )
    env.globals["static"] = static_url
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def page(template: str, *, status: int = 200, **context: Any) -> web.Response:
    """A rendered page with the security headers every page carries."""
    return web.Response(
        text=render(template, **context),
        status=status,
        content_type="text/html",
        headers=PAGE_HEADERS,
    )


def json_block(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block (``</script>`` cannot occur)."""
    text = orjson.dumps(value).decode()
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


async def static_file(request: web.Request) -> web.Response:
    asset = assets().get(request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound()
    immutable = request.query.get("v") == asset.version
    cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
    return web.Response(
        body=asset.body,
        headers={
            "Content-Type": asset.content_type,
            "Cache-Control": cache,
            "ETag": f'"{asset.version}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
