"""Builds the OpenAPI 3.1 document from the app's router: every API route is in it, with the
summary and body from ``operations.py`` where given, else the handler's docstring."""

from __future__ import annotations

import inspect
import re
from typing import Any

from aiohttp import web

from aigw.apidocs.operations import OPERATIONS

API_PREFIXES = ("/v1/", "/admin/", "/anthropic/")
API_PATHS = ("/mcp", "/healthz", "/metrics", "/openapi.json", "/llms.txt", "/llms-full.txt")
MCP_PATHS = ("/mcp/sse", "/mcp/message", "/mcp/inspect")  # legacy SSE transport, inspector
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")

ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": ["integer", "string", "null"]},
                "param": {"type": ["string", "null"]},
            },
            "required": ["message", "type"],
        }
    },
    "required": ["error"],
}


def api_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """(method, path, handler) of every API route (no HEAD twins, no web pages)."""
    found = []
    for route in app.router.routes():
        if route.method in ("HEAD", "*") or route.resource is None:
            continue
        path = route.resource.canonical
        if path.startswith(API_PREFIXES) or path in API_PATHS or path in MCP_PATHS:
            found.append((route.method, path, route.handler))
    return found


def _summary(handler: Any) -> str:
    doc = inspect.getdoc(handler) or inspect.getdoc(inspect.getmodule(handler)) or ""
    line = doc.strip().split("\n\n", 1)[0].replace("\n", " ")
    return line[:200] or getattr(handler, "__name__", "operation")


def _operation(method: str, path: str, handler: Any) -> dict[str, Any]:
    known = OPERATIONS.get((method, path), {})
    op: dict[str, Any] = {
        "operationId": f"{method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
        "summary": known.get("summary") or _summary(handler),
        "tags": known.get("tags") or [path.split("/")[1] if path.count("/") > 1 else "ops"],
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(path)
    ]
    params += [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in known.get("query", {}).items()
    ]
    if params:
        op["parameters"] = params
    if "body" in known:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": known["body"]}},
        }
    elif "multipart" in known:
        op["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": known["multipart"]}},
        }
    ok: dict[str, Any] = {"description": "Success."}
    if known.get("binary"):
        ok["content"] = {"application/octet-stream": {"schema": {"type": "string"}}}
    elif "response" in known:
        ok["content"] = {"application/json": {"schema": known["response"]}}
    elif "content_type" in known:  # an HTML page or an event stream
        ok["content"] = {known["content_type"]: {"schema": {"type": "string"}}}
    op["responses"] = {
        "2XX": ok,
        "default": {
            "description": "Error (OpenAI shape).",
            "content": {"application/json": {"schema": ERROR}},
        },
    }
    if known.get("public"):
        op["security"] = []
    return op


def build(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in api_routes(app):
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, handler)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "aigw",
            "version": "1",
            "summary": "A self-hosted AI gateway: one OpenAI-compatible API for every model.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
        },
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
    }
