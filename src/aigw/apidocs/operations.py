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
        # The auto-router (model "auto", "auto/<modality>" or no model): docs/api.md.
        "baseline_model": STR,
        "x-routing": {"type": "string", "enum": ["cost", "speed", "quality", "auto"]},
    },
    ("messages",),
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
    # --- non-chat endpoints (server/routes/media.py) ---
    ("POST", "/v1/embeddings"): {
        "summary": "Create embeddings (OpenAI shape; float or base64).",
        "tags": ["core"],
        "body": obj(
            {
                "model": STR,
                "input": {
                    "oneOf": [
                        STR,
                        {"type": "array", "items": STR},
                        {"type": "array", "items": INT},
                        {"type": "array", "items": {"type": "array", "items": INT}},
                    ]
                },
                "encoding_format": {"type": "string", "enum": ["float", "base64"]},
                "dimensions": INT,
                "user": STR,
            },
            ("model", "input"),
        ),
    },
    ("POST", "/v1/images/generations"): {
        "summary": "Generate images (OpenAI shape).",
        "tags": ["core"],
        "body": obj(
            {
                "model": STR,
                "prompt": STR,
                "n": INT,
                "size": STR,
                "quality": STR,
                "response_format": {"type": "string", "enum": ["url", "b64_json"]},
            },
            ("model", "prompt"),
        ),
    },
    ("POST", "/v1/audio/speech"): {
        "summary": "Synthesize speech; answers with the audio bytes.",
        "tags": ["core"],
        "binary": True,
        "body": obj(
            {
                "model": STR,
                "input": STR,
                "voice": STR,
                "response_format": {
                    "type": "string",
                    "enum": ["mp3", "opus", "aac", "flac", "wav", "pcm"],
                },
                "speed": NUM,
                "instructions": STR,
            },
            ("model", "input", "voice"),
        ),
    },
    ("POST", "/v1/audio/transcriptions"): {
        "summary": "Transcribe audio (multipart upload, like OpenAI).",
        "tags": ["core"],
        "multipart": obj(
            {
                "file": {"type": "string", "format": "binary"},
                "model": STR,
                "language": STR,
                "prompt": STR,
                "response_format": {
                    "type": "string",
                    "enum": ["json", "text", "srt", "verbose_json", "vtt"],
                },
                "temperature": NUM,
            },
            ("file", "model"),
        ),
    },
    ("POST", "/v1/moderations"): {
        "summary": "Moderate content (default model openai/omni-moderation-latest).",
        "tags": ["core"],
        "body": obj(
            {"model": STR, "input": {"oneOf": [STR, {"type": "array", "items": STR}]}},
            ("input",),
        ),
    },
    ("POST", "/v1/rerank"): {
        "summary": "Score documents against a query for RAG re-ranking (Cohere / Jina shape).",
        "tags": ["utility"],
        "body": obj(
            {
                "model": STR,
                "query": STR,
                "documents": {
                    "type": "array",
                    "items": {"oneOf": [STR, obj({"text": STR}, ("text",))]},
                },
                "top_n": INT,
                "return_documents": BOOL,
                "max_tokens_per_doc": INT,
            },
            ("model", "query", "documents"),
        ),
    },
}

# -- replays, shadow rules, evals (replays/, evals/) ---------------------------------------

_ARR_STR: S = {"type": "array", "items": STR}
OPERATIONS.update(
    {
        ("POST", "/v1/replays"): {
            "summary": "Replay (or, with shadow, start in the background) a past request on "
            "another model; 201 with the Replay record.",
            "tags": ["replays"],
            "body": obj(
                {"source_request_id": STR, "target_model": STR, "shadow": BOOL},
                ("source_request_id", "target_model"),
            ),
        },
        ("GET", "/v1/replays"): {
            "summary": "List replays (newest first).",
            "tags": ["replays"],
            "query": {
                "limit": INT,
                "after": STR,
                "shadow": BOOL,
                "rule_id": STR,
                "target_model": STR,
            },
        },
        ("GET", "/v1/replays/{id}"): {"summary": "A replay.", "tags": ["replays"]},
        ("POST", "/v1/shadow-rules"): {
            "summary": "Mirror a share of live traffic for a model to a candidate model.",
            "tags": ["replays"],
            "body": obj(
                {"source_model": STR, "target_model": STR, "share": NUM},
                ("source_model", "target_model"),
            ),
        },
        ("GET", "/v1/shadow-rules"): {"summary": "List shadow rules.", "tags": ["replays"]},
        ("DELETE", "/v1/shadow-rules/{id}"): {
            "summary": "Delete a shadow rule.",
            "tags": ["replays"],
        },
        ("POST", "/v1/evals"): {
            "summary": "Run an eval across candidate models (201 finished, 202 running).",
            "tags": ["evals"],
            "body": obj(
                {
                    "name": STR,
                    "metric": {"type": "string", "enum": ["quality", "cost", "speed"]},
                    "candidate_models": _ARR_STR,
                    "dataset": {"type": "array", "items": {"type": "object"}},
                    "judge_model": STR,
                    "match": {
                        "type": "string",
                        "enum": ["normalized", "exact", "json", "contains"],
                    },
                    "params": {"type": "object"},
                    "wait": BOOL,
                },
                ("name", "candidate_models", "dataset"),
            ),
        },
        ("GET", "/v1/evals"): {
            "summary": "List eval runs.",
            "tags": ["evals"],
            "query": {"limit": INT, "after": STR},
        },
        ("GET", "/v1/evals/{id}"): {
            "summary": "An eval run (?include=results adds every call).",
            "tags": ["evals"],
            "query": {"include": STR},
        },
    }
)

# -- alerts and key rotation (webhooks/, server/routes/account_keys.py) ---------------------

OPERATIONS.update(
    {
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
)

# -- response schemas (the API reference page and schemathesis check the answers) ---------

NULL_STR: S = {"type": ["string", "null"]}
NULL_INT: S = {"type": ["integer", "null"]}
USD_LIST: S = {"type": "array", "items": NUM}
FILE = obj(
    {
        "id": STR,
        "object": STR,
        "bytes": INT,
        "created_at": INT,
        "filename": STR,
        "purpose": STR,
        "status": STR,
    },
    ("id", "object", "bytes", "created_at", "filename", "purpose"),
)
BATCH = obj(
    {
        "id": STR,
        "object": STR,
        "endpoint": STR,
        "input_file_id": STR,
        "completion_window": STR,
        "status": STR,
        "output_file_id": NULL_STR,
        "error_file_id": NULL_STR,
        "created_at": INT,
        "expires_at": INT,
        "in_progress_at": NULL_INT,
        "finalizing_at": NULL_INT,
        "completed_at": NULL_INT,
        "failed_at": NULL_INT,
        "expired_at": NULL_INT,
        "cancelling_at": NULL_INT,
        "cancelled_at": NULL_INT,
        "request_counts": obj({"total": INT, "completed": INT, "failed": INT}),
    },
    ("id", "object", "status", "completion_window", "created_at", "expires_at"),
)
ALERTS = obj(
    {
        "object": STR,
        "balance_low_threshold": {"type": ["number", "null"]},
        "usage_thresholds": {"type": ["array", "null"], "items": NUM},
        "effective": obj({"balance_low_threshold": NUM, "usage_thresholds": USD_LIST}),
    },
    ("object", "effective"),
)


def _list_of(item: S) -> S:
    return obj({"object": STR, "data": {"type": "array", "items": item}}, ("object", "data"))


for _key, _schema in {
    ("POST", "/v1/files"): FILE,
    ("GET", "/v1/files"): _list_of(FILE),
    ("GET", "/v1/files/{id}"): FILE,
    ("POST", "/v1/batches"): BATCH,
    ("GET", "/v1/batches"): _list_of(BATCH),
    ("GET", "/v1/batches/{id}"): BATCH,
    ("POST", "/v1/batches/{id}/cancel"): BATCH,
    ("GET", "/v1/alerts"): ALERTS,
    ("PUT", "/v1/alerts"): ALERTS,
}.items():
    OPERATIONS[_key]["response"] = _schema
