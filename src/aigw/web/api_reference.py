"""The API reference page (``/api``): every operation of the generated ``/openapi.json``,
grouped by tag, with its method, path, summary, parameters and request / response schemas.

It reads the same document the gateway serves (``apidocs/openapi.py``, cached per app), so
the page cannot drift from the routes: a new route shows up here without touching the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from aigw.apidocs import openapi
from aigw.web.render import page, pretty_json

_DOC: web.AppKey[list[dict[str, Any]]] = web.AppKey("web_api_reference", list)
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    where: str  # path | query
    required: bool
    type: str


@dataclass(frozen=True, slots=True)
class Body:
    status: str  # "request", or the response's status ("2XX", "default")
    description: str
    content_type: str
    schema: str  # pretty JSON, "" when none


@dataclass(slots=True)
class Operation:
    id: str
    method: str
    path: str
    summary: str
    public: bool
    params: list[Param] = field(default_factory=list)
    request: Body | None = None
    responses: list[Body] = field(default_factory=list)


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "any")
    return " | ".join(kind) if isinstance(kind, list) else str(kind)


def _bodies(content: dict[str, Any], status: str, description: str) -> list[Body]:
    if not content:
        return [Body(status, description, "", "")]
    return [
        Body(status, description, kind, pretty_json(media["schema"]) if "schema" in media else "")
        for kind, media in content.items()
    ]


def operations(doc: dict[str, Any]) -> list[tuple[str, list[Operation]]]:
    """(tag, operations) in tag order, each tag's operations by path then method."""
    groups: dict[str, list[Operation]] = {}
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            op = Operation(
                id=raw["operationId"],
                method=method.upper(),
                path=path,
                summary=raw.get("summary", ""),
                public=raw.get("security") == [],
                params=[
                    Param(p["name"], p["in"], bool(p.get("required")), _type(p.get("schema", {})))
                    for p in raw.get("parameters", [])
                ],
            )
            body = raw.get("requestBody")
            if body is not None:
                op.request = _bodies(body.get("content", {}), "request", "")[0]
            for status, response in raw.get("responses", {}).items():
                op.responses += _bodies(
                    response.get("content", {}), status, response.get("description", "")
                )
            groups.setdefault((raw.get("tags") or ["other"])[0], []).append(op)
    return sorted(groups.items())


async def api_reference_page(request: web.Request) -> web.Response:
    app = request.app
    if not app[_DOC]:
        # The served document itself, as bytes then parsed: exactly what /openapi.json says.
        app[_DOC].append(orjson.loads(orjson.dumps(openapi.build(app))))
    doc = app[_DOC][0]
    groups = operations(doc)
    return page(
        "api.html",
        nav="api",
        title="API reference",
        groups=groups,
        count=sum(len(ops) for _, ops in groups),
        version=doc["openapi"],
    )


def setup_routes(app: web.Application) -> None:
    app[_DOC] = []
    app.router.add_get("/api", api_reference_page)
