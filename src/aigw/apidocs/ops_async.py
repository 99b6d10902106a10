"""Operations of the asynchronous work: jobs, files, webhooks and batches (jobs/, files/,
webhooks/, batches/), with the File and Batch response schemas."""

from __future__ import annotations

from aigw.apidocs.schema_parts import INT, NULL_INT, NULL_STR, STR, URL, S, list_of, obj

ASYNC_OPERATIONS: dict[tuple[str, str], S] = {
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
}

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

for _key, _schema in {
    ("POST", "/v1/files"): FILE,
    ("GET", "/v1/files"): list_of(FILE),
    ("GET", "/v1/files/{id}"): FILE,
    ("POST", "/v1/batches"): BATCH,
    ("GET", "/v1/batches"): list_of(BATCH),
    ("GET", "/v1/batches/{id}"): BATCH,
    ("POST", "/v1/batches/{id}/cancel"): BATCH,
}.items():
    ASYNC_OPERATIONS[_key]["response"] = _schema
