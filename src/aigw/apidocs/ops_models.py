"""Operations that call models: chat, the async media jobs, embeddings, images, audio,
moderations and rerank (server/routes/chat.py, media.py, jobs.py)."""

from __future__ import annotations

from aigw.apidocs.schema_parts import BOOL, INT, NUM, STR, URL, S, obj

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


MODEL_OPERATIONS: dict[tuple[str, str], S] = {
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
