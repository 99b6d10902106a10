"""What the router cannot tell about an operation: its summary and its request body.

Keyed by (method, path) as registered; an entry for a route that does not exist fails
``tests/jobs/test_apidocs.py``, so this table cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

S = dict[str, Any]


def obj(properties: S, required: tuple[str, ...] = ()) -> S:
    out: S = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


STR: S = {"type": "string"}
NUM: S = {"type": "number"}
INT: S = {"type": "integer"}
BOOL: S = {"type": "boolean"}
URL: S = {"type": "string", "format": "uri"}

_JOB = {"prompt": STR, "model": STR, "webhook_url": URL, "seed": INT}
_CHAT = obj(
    {
        "model": STR,
        "messages": {
            "type": "array",
            "items": obj({"role": STR, "content": STR}, ("role", "content")),
        },
        "max_tokens": INT,
        "temperature": NUM,
        "stream": BOOL,
    },
    ("model", "messages"),
)

OPERATIONS: dict[tuple[str, str], S] = {
    ("POST", "/v1/chat/completions"): {"summary": "Create a chat completion.", "body": _CHAT},
    ("POST", "/v1/videos/generations"): {
        "summary": "Generate a video (async job; 202).",
        "tags": ["async"],
        "body": obj(
            {**_JOB, "duration": NUM, "aspect_ratio": STR, "resolution": STR, "image_url": STR},
            ("prompt",),
        ),
    },
    ("POST", "/v1/audio/music"): {
        "summary": "Generate music (async job; 202).",
        "tags": ["async"],
        "body": obj({**_JOB, "duration": NUM, "lyrics": STR, "is_instrumental": BOOL}, ("prompt",)),
    },
    ("POST", "/v1/3d/generations"): {
        "summary": "Generate a 3D asset (async job; 202).",
        "tags": ["async"],
        "body": obj({**_JOB, "image_url": STR, "format": STR}, ("prompt",)),
    },
    ("GET", "/v1/jobs/{id}"): {"summary": "Poll an async job.", "tags": ["async"]},
    ("DELETE", "/v1/jobs/{id}"): {"summary": "Cancel a queued or running job.", "tags": ["async"]},
    ("POST", "/v1/files"): {
        "summary": "Upload a file (multipart; purpose batch or batch_output).",
        "tags": ["files"],
        "multipart": obj(
            {"file": {"type": "string", "format": "binary"}, "purpose": STR}, ("file",)
        ),
    },
    ("GET", "/v1/files"): {
        "summary": "List uploaded files.",
        "tags": ["files"],
        "query": {"purpose": STR, "limit": INT},
    },
    ("GET", "/v1/files/{id}"): {"summary": "A file's metadata.", "tags": ["files"]},
    ("DELETE", "/v1/files/{id}"): {"summary": "Delete a file.", "tags": ["files"]},
    ("GET", "/v1/files/{id}/content"): {
        "summary": "A file's bytes.",
        "tags": ["files"],
        "binary": True,
    },
    ("GET", "/v1/files/jobs/{job_id}/{filename}"): {
        "summary": "Download a completed job's result.",
        "tags": ["async"],
        "binary": True,
    },
    ("GET", "/v1/files/jobs/{job_id}/{filename}/signed"): {
        "summary": "Mint a signed URL for a job result (expires_in 60..604800 s).",
        "tags": ["async"],
        "query": {"expires_in": INT},
    },
    ("GET", "/v1/files/jobs/{job_id}/{filename}/public"): {
        "summary": "Fetch a job result with a signed token, no key.",
        "tags": ["async"],
        "public": True,
        "binary": True,
        "query": {"token": STR, "exp": INT, "k": STR},
    },
    ("GET", "/v1/webhook-secret"): {"summary": "The webhook signing secret.", "tags": ["webhooks"]},
    ("POST", "/v1/webhook-secret/rotate"): {
        "summary": "Rotate the webhook secret (the old one dies at once).",
        "tags": ["webhooks"],
    },
    ("POST", "/v1/webhooks"): {
        "summary": "Add a webhook endpoint for event types.",
        "tags": ["webhooks"],
        "body": obj({"url": URL, "events": {"type": "array", "items": STR}}, ("url",)),
    },
    ("GET", "/v1/webhooks"): {"summary": "List webhook endpoints.", "tags": ["webhooks"]},
    ("DELETE", "/v1/webhooks/{id}"): {
        "summary": "Remove a webhook endpoint.",
        "tags": ["webhooks"],
    },
    ("GET", "/v1/webhooks/deliveries"): {
        "summary": "Recent webhook deliveries with every attempt.",
        "tags": ["webhooks"],
        "query": {"limit": INT},
    },
    ("POST", "/v1/batches"): {
        "summary": "Create an OpenAI-compatible batch.",
        "tags": ["batches"],
        "body": obj(
            {
                "input_file_id": STR,
                "endpoint": STR,
                "completion_window": STR,
                "metadata": {"type": "object", "additionalProperties": STR},
            },
            ("input_file_id", "endpoint", "completion_window"),
        ),
    },
    ("GET", "/v1/batches"): {
        "summary": "List batches.",
        "tags": ["batches"],
        "query": {"after": STR, "limit": INT},
    },
    ("GET", "/v1/batches/{id}"): {"summary": "A batch.", "tags": ["batches"]},
    ("POST", "/v1/batches/{id}/cancel"): {"summary": "Cancel a batch.", "tags": ["batches"]},
    ("POST", "/mcp"): {
        "summary": "MCP (Streamable HTTP, JSON-RPC 2.0): the gateway as tools.",
        "tags": ["mcp"],
        "body": obj({"jsonrpc": STR, "id": INT, "method": STR, "params": {"type": "object"}}),
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
}
