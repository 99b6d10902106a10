"""What every MCP tool is made of: its schema, the call context (the /mcp request's key, tag
and base URL) and the shapes a tool may answer with besides plain JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from aigw.auth.keys import KeyInfo


@dataclass(frozen=True, slots=True)
class Ctx:
    """One ``tools/call``: who calls (the bearer key), under which tag, from which base URL
    (job result URLs are built from it)."""

    app: web.Application
    key: KeyInfo
    base: str
    tag: str | None = None


Run = Callable[[Ctx, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    schema: dict[str, Any]
    run: Run

    def listing(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "inputSchema": self.schema}


@dataclass(slots=True)
class Rich:
    """A result with MCP content blocks of its own (audio, images) besides the JSON
    ``structured`` view; plain results are just the JSON value."""

    content: list[dict[str, Any]]
    structured: dict[str, Any] = field(default_factory=dict)


class ToolFailed(Exception):
    """A call refused with the HTTP API's own error body (status and ``param`` kept)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.body = body


def obj(properties: dict[str, Any], required: list[str], *, strict: bool = True) -> dict[str, Any]:
    """An object schema; ``strict`` refuses fields it does not list (a misspelt field is an
    error, not silently ignored)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if strict:
        schema["additionalProperties"] = False
    return schema


def string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def integer(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "integer", "description": description, **extra}


def number(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "number", "description": description, **extra}


def boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}
