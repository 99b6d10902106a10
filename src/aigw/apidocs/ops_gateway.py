"""Operations of the gateway itself: MCP, its docs, health and metrics, the response cache,
alert thresholds and key rotation, with the alerts response schema."""

from __future__ import annotations

from aigw.apidocs.schema_parts import INT, NUM, STR, USD_LIST, S, obj

GATEWAY_OPERATIONS: dict[tuple[str, str], S] = {
    ("POST", "/mcp"): {
        "summary": "MCP (Streamable HTTP, JSON-RPC 2.0): the gateway as tools.",
        "tags": ["mcp"],
        "body": obj({"jsonrpc": STR, "id": INT, "method": STR, "params": {"type": "object"}}),
    },
    ("GET", "/mcp/sse"): {
        "summary": "MCP legacy SSE transport (2024-11-05): opens an event stream whose first "
        "event (endpoint) names the /mcp/message URL to post to; answers come as message "
        "events, with keep-alive comments in between.",
        "tags": ["mcp"],
        "content_type": "text/event-stream",
    },
    ("POST", "/mcp/message"): {
        "summary": "Post one JSON-RPC message (or a batch) to an MCP SSE session; 202, and "
        "the answer goes out on the session's stream.",
        "tags": ["mcp"],
        "query": {"session_id": STR},
        "body": obj({"jsonrpc": STR, "id": INT, "method": STR, "params": {"type": "object"}}),
    },
    ("GET", "/mcp/inspect"): {
        "summary": "Live MCP inspector (HTML): paste a key and try every tool in the browser.",
        "tags": ["mcp"],
        "public": True,
        "content_type": "text/html",
    },
    ("GET", "/openapi.json"): {"summary": "This document.", "tags": ["docs"], "public": True},
    ("GET", "/llms.txt"): {
        "summary": "The gateway for LLMs, short.",
        "tags": ["docs"],
        "public": True,
        "text": True,
    },
    ("GET", "/llms-full.txt"): {
        "summary": "Every model with price and capabilities, for LLMs.",
        "tags": ["docs"],
        "public": True,
        "text": True,
    },
    ("GET", "/healthz"): {"summary": "Liveness.", "tags": ["ops"], "public": True},
    ("GET", "/metrics"): {
        "summary": "Prometheus metrics.",
        "tags": ["ops"],
        "public": True,
        "text": True,
    },
    ("DELETE", "/v1/cache"): {
        "summary": "Clear this account's response cache (exact and semantic).",
        "tags": ["account"],
    },
    ("GET", "/v1/alerts"): {
        "summary": "The account's balance.low and usage.threshold webhook thresholds.",
        "tags": ["webhooks"],
    },
    ("PUT", "/v1/alerts"): {
        "summary": "Set the account's alert thresholds in USD (null = the gateway default).",
        "tags": ["webhooks"],
        "body": obj(
            {
                "balance_low_threshold": {"type": ["number", "string", "null"]},
                "usage_thresholds": {
                    "type": ["array", "null"],
                    "items": {"type": ["number", "string"]},
                },
            }
        ),
    },
    ("POST", "/v1/keys/{id}/rotate"): {
        "summary": "Replace an API key with a new one (same name); the old one is revoked.",
        "tags": ["keys"],
    },
    ("POST", "/admin/keys/{key_id}/rotate"): {
        "summary": "Replace any API key with a new one; the old one is revoked.",
        "tags": ["admin"],
    },
}

ALERTS = obj(
    {
        "object": STR,
        "balance_low_threshold": {"type": ["number", "null"]},
        "usage_thresholds": {"type": ["array", "null"], "items": NUM},
        "effective": obj({"balance_low_threshold": NUM, "usage_thresholds": USD_LIST}),
    },
    ("object", "effective"),
)
GATEWAY_OPERATIONS[("GET", "/v1/alerts")]["response"] = ALERTS
GATEWAY_OPERATIONS[("PUT", "/v1/alerts")]["response"] = ALERTS
