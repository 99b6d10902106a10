"""The capability vocabulary and each model's ``schema`` block ("how do I call this model").

Everything here is computed from a model's catalog data (flags, prices, limits, provider), never
written per model, so a page, the API and the router can never disagree about what a model does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

from aigw.catalog.models import Model, Provider

CHAT_PATH = "/v1/chat/completions"
EXAMPLE_CREATED = 1776947082
API_KEY_ENV = "AIGW_API_KEY"


@dataclass(frozen=True, slots=True)
class CapabilityInfo:
    id: str
    description: str
    endpoint: str


CAPABILITIES: tuple[CapabilityInfo, ...] = (
    CapabilityInfo(
        "streaming", 'Streams the answer as server-sent events ("stream": true).', CHAT_PATH
    ),
    CapabilityInfo("tools", 'Calls functions declared in "tools" (function calling).', CHAT_PATH),
    CapabilityInfo("parallel_tools", "Returns several tool calls in one turn.", CHAT_PATH),
    CapabilityInfo("vision", "Accepts images as input (image_url content parts).", CHAT_PATH),
    CapabilityInfo(
        "structured_outputs",
        'Answers in JSON matching a schema (response_format {"type": "json_schema"}).',
        CHAT_PATH,
    ),
    CapabilityInfo(
        "json_mode", 'Answers in valid JSON (response_format {"type": "json_object"}).', CHAT_PATH
    ),
    CapabilityInfo(
        "prompt_caching", "Reuses cached prompt prefixes, billed at a lower rate.", CHAT_PATH
    ),
    CapabilityInfo(
        "reasoning", "Thinks before answering; reasoning tokens are billed as output.", CHAT_PATH
    ),
    CapabilityInfo("embeddings", "Turns text into embedding vectors.", "/v1/embeddings"),
    CapabilityInfo(
        "image_generation", "Generates images from a text prompt.", "/v1/images/generations"
    ),
    CapabilityInfo("text_to_speech", "Speaks text aloud as audio.", "/v1/audio/speech"),
    CapabilityInfo("speech_to_text", "Transcribes audio into text.", "/v1/audio/transcriptions"),
    CapabilityInfo(
        "video_generation", "Generates video from a text prompt.", "/v1/videos/generations"
    ),
    CapabilityInfo("music_generation", "Generates music from a text prompt.", "/v1/audio/music"),
    CapabilityInfo(
        "3d_generation", "Generates a 3D asset from a text prompt.", "/v1/3d/generations"
    ),
)
"""The fixed vocabulary: flag capabilities first, then one per non-chat modality."""

_FLAG_CAPABILITIES = (
    "streaming",
    "tools",
    "parallel_tools",
    "vision",
    "structured_outputs",
    "json_mode",
    "prompt_caching",
    "reasoning",
)
MODALITY_CAPABILITY = {
    "embedding": "embeddings",
    "image": "image_generation",
    "tts": "text_to_speech",
    "stt": "speech_to_text",
    "video": "video_generation",
    "music": "music_generation",
    "3d": "3d_generation",
}
_ENDPOINTS = {c.id: c.endpoint for c in CAPABILITIES}


def endpoint_path(model: Model) -> str:
    """The gateway path a model is called on."""
    return _ENDPOINTS.get(MODALITY_CAPABILITY.get(model.modality, ""), CHAT_PATH)


def capability_ids(model: Model) -> list[str]:
    """The vocabulary ids that hold for this model, in vocabulary order."""
    caps = model.capabilities
    ids = [name for name in _FLAG_CAPABILITIES if getattr(caps, name)]
    if model.modality in MODALITY_CAPABILITY:
        ids.append(MODALITY_CAPABILITY[model.modality])
    return ids


def _usd(amount: Any) -> str:
    return f"${amount:,.2f}" if amount == round(amount, 2) else f"${amount:,f}".rstrip("0")


def _uses_max_completion_tokens(model: Model, provider: Provider) -> bool:
    return provider.id == "openai" and model.capabilities.reasoning


def quirks(model: Model, provider: Provider) -> list[str]:
    """What a caller must know beyond the OpenAI defaults, derived from the model's data."""
    caps, price, out = model.capabilities, model.price, []
    if provider.wire_format != "openai":
        out.append(
            f"Upstream speaks the {provider.wire_format} format: aigw translates the OpenAI-format "
            "request and the response in both directions."
        )
    if not provider.key_required:
        out.append(
            f"Served by a local {provider.name} server ({provider.base_url}); no key needed."
        )
    if model.modality != "text":
        out.append(f"Call POST {endpoint_path(model)}, not {CHAT_PATH}.")
    if model.context_window:
        text = f"Context window: {model.context_window:,} tokens"
        if model.max_output_tokens:
            text += f"; output is capped at {model.max_output_tokens:,} tokens per response"
        out.append(text + ".")
    if caps.reasoning:
        out.append(
            "Reasoning model: the answer may carry message.reasoning_content "
            "(delta.reasoning_content when streaming); reasoning tokens count as output tokens "
            "(usage.completion_tokens_details.reasoning_tokens)."
        )
        if caps.reasoning_efforts:
            out.append("Accepts reasoning_effort: " + ", ".join(caps.reasoning_efforts) + ".")
        else:
            out.append("No reasoning_effort levels are listed for this model; omit the field.")
    if price.reasoning is not None:
        out.append(f"Reasoning tokens are billed at {_usd(price.reasoning)} per 1M tokens.")
    if _uses_max_completion_tokens(model, provider):
        out.append(
            "Takes max_completion_tokens instead of max_tokens; the limit covers reasoning "
            "and visible output."
        )
    if not caps.sampling_params:
        out.append("Rejects temperature and top_p: leave them out.")
    for tier in price.tiers:
        out.append(
            f"Long-context pricing: when the prompt exceeds {tier.above_tokens:,} tokens the "
            f"whole request is billed at {_usd(tier.input)} input / {_usd(tier.output)} output "
            "per 1M tokens."
        )
    if caps.prompt_caching and price.cached_input is not None:
        out.append(
            f"Cached prompt tokens are billed at {_usd(price.cached_input)} per 1M "
            "(usage.prompt_tokens_details.cached_tokens)."
        )
    if price.is_free:
        out.append("Free: no per-token charge.")
    if model.modality == "text":
        if not caps.vision:
            out.append("Text-only input: image content parts are rejected.")
        if not caps.tools:
            out.append("No tool calling: requests with tools are rejected.")
        if not caps.streaming:
            out.append('No streaming: "stream": true is rejected.')
        if caps.json_mode and not caps.structured_outputs:
            out.append('Use response_format {"type": "json_object"}; json_schema is not listed.')
    return out


# --- examples ---------------------------------------------------------------------------------


def _chat_request(model: Model, provider: Provider, *, stream: bool) -> dict[str, Any]:
    caps = model.capabilities
    body: dict[str, Any] = {
        "model": model.id,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"},
        ],
    }
    if caps.sampling_params:
        body["temperature"] = 0.7
        body["top_p"] = 0.95
    limit = min(1024, model.max_output_tokens or 1024)
    body[
        "max_completion_tokens" if _uses_max_completion_tokens(model, provider) else "max_tokens"
    ] = limit
    if caps.reasoning_efforts:
        body["reasoning_effort"] = (
            "low" if "low" in caps.reasoning_efforts else caps.reasoning_efforts[0]
        )
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def _chat_usage(model: Model) -> dict[str, Any]:
    reasoning = 20 if model.capabilities.reasoning else 0
    usage: dict[str, Any] = {
        "prompt_tokens": 24,
        "completion_tokens": 12 + reasoning,
        "total_tokens": 36 + reasoning,
    }
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def _chat_response(model: Model) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "Hello! How can I help you today?"}
    if model.capabilities.reasoning:
        message["reasoning_content"] = "The user greeted me; a short friendly reply fits."
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": EXAMPLE_CREATED,
        "model": model.id,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": _chat_usage(model),
    }


def _chat_stream(model: Model) -> list[str]:
    """SSE lines as the gateway sends them: role, (reasoning), content, finish, usage, DONE."""

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
        body = {
            "id": "chatcmpl-abc123",
            "object": "chat.completion.chunk",
            "created": EXAMPLE_CREATED,
            "model": model.id,
            "choices": choices,
            **extra,
        }
        return "data: " + orjson.dumps(body).decode()

    def delta(d: dict[str, Any], finish: str | None = None) -> str:
        return chunk([{"index": 0, "delta": d, "finish_reason": finish}])

    lines = [delta({"role": "assistant", "content": ""})]
    if model.capabilities.reasoning:
        lines.append(delta({"reasoning_content": "The user greeted me."}))
    lines += [delta({"content": "Hello"}), delta({"content": "! How can I help you today?"})]
    lines.append(delta({}, "stop"))
    lines.append(chunk([], usage=_chat_usage(model)))
    lines.append("data: [DONE]")
    return lines


def _other_examples(model: Model) -> tuple[dict[str, Any], dict[str, Any] | str]:
    if model.modality == "embedding":
        return {"model": model.id, "input": "Hello!"}, {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.0123, -0.0456, 0.0789]}],
            "model": model.id,
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        }
    if model.modality == "tts":
        return {"model": model.id, "input": "Hello!", "voice": "alloy"}, "<audio bytes>"
    if model.modality == "stt":
        return {"model": model.id, "file": "@speech.mp3"}, {"text": "Hello!"}
    if model.modality in ("video", "music", "3d"):  # async jobs: 202 and a job to poll
        request: dict[str, Any] = {"model": model.id, "prompt": "A lighthouse at dawn"}
        if model.price.per_second is not None:
            request["duration"] = int(model.price.default_seconds or 5)
        return request, {
            "id": "job_0123456789abcdef01234567",
            "object": "job",
            "status": "queued",
            "modality": model.modality,
            "model": model.id,
            "created_at": EXAMPLE_CREATED,
            "result_url": None,
        }
    return {"model": model.id, "prompt": "A lighthouse at dawn", "n": 1}, {
        "created": EXAMPLE_CREATED,
        "data": [{"b64_json": "<base64 data>"}],
    }


# --- snippets -----------------------------------------------------------------------------------


def _snippets(model: Model, request: dict[str, Any], base_url: str) -> dict[str, str]:
    path = endpoint_path(model)
    body = {k: v for k, v in request.items() if k != "stream_options"}
    if model.modality == "text":
        body = {"model": model.id, "messages": [{"role": "user", "content": "Hello!"}]}
        if model.capabilities.streaming:
            body["stream"] = True
    auth = f'  -H "Authorization: Bearer ${API_KEY_ENV}" \\\n'
    if model.modality == "stt":
        curl = f"curl {base_url}{path} \\\n{auth}  -F model={model.id} -F file=@speech.mp3"
    else:
        curl = (
            f"curl {base_url}{path} \\\n{auth}"
            '  -H "Content-Type: application/json" \\\n'
            f"  -d '{orjson.dumps(body).decode()}'"
        )
    kwargs = ", ".join(f"{k}={_py(v)}" for k, v in body.items())
    ts_args = json.dumps(body)
    call = {
        "text": "chat.completions.create",
        "embedding": "embeddings.create",
        "image": "images.generate",
        "tts": "audio.speech.create",
        "stt": "audio.transcriptions.create",
    }.get(model.modality)
    py_head = (
        "import os\n\nfrom openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{base_url}/v1", api_key=os.environ["{API_KEY_ENV}"])\n'
    )
    ts_head = (
        'import OpenAI from "openai";\n\n'
        f'const client = new OpenAI({{ baseURL: "{base_url}/v1", '
        f"apiKey: process.env.{API_KEY_ENV} }});\n"
    )
    if model.modality == "stt":
        python = py_head + 'with open("speech.mp3", "rb") as audio:\n'
        python += f'    result = client.{call}(model="{model.id}", file=audio)\n'
        python += "print(result.text)\n"
        ts = 'import fs from "node:fs";\n' + ts_head
        ts += f'const result = await client.{call}({{ model: "{model.id}", '
        ts += 'file: fs.createReadStream("speech.mp3") });\nconsole.log(result.text);\n'
    elif call is None:  # no SDK method: post the JSON body directly
        rel = path.removeprefix("/v1")
        python = py_head + f'result = client.post("{rel}", body={_py(body)}, cast_to=object)\n'
        python += "print(result)\n"
        ts = ts_head + f'const result = await client.post("{rel}", {{ body: {ts_args} }});\n'
        ts += "console.log(result);\n"
    elif model.modality == "text" and model.capabilities.streaming:
        python = py_head + f"stream = client.{call}({kwargs})\n"
        python += "for chunk in stream:\n    if chunk.choices:\n"
        python += '        print(chunk.choices[0].delta.content or "", end="", flush=True)\n'
        ts = ts_head + f"const stream = await client.{call}({ts_args});\n"
        ts += "for await (const chunk of stream) {\n"
        ts += '  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");\n}\n'
    else:
        python = py_head + f"result = client.{call}({kwargs})\nprint(result)\n"
        ts = ts_head + f"const result = await client.{call}({ts_args});\nconsole.log(result);\n"
    return {"curl": curl, "python": python, "typescript": ts}


def _py(value: Any) -> str:
    """A Python literal for a JSON value (True/False/None spelled the Python way)."""
    return repr(orjson.loads(orjson.dumps(value)))


def model_schema(model: Model, provider: Provider, base_url: str) -> dict[str, Any]:
    """The ``schema`` block: endpoint, examples, quirks and snippets for one model."""
    base_url = base_url.rstrip("/")
    path = endpoint_path(model)
    if model.modality == "text":
        request = _chat_request(model, provider, stream=False)
        response: dict[str, Any] | str = _chat_response(model)
        stream = _chat_stream(model) if model.capabilities.streaming else []
    else:
        request, response = _other_examples(model)
        stream = []
    return {
        "endpoint": f"POST {base_url}{path}",
        "method": "POST",
        "url": f"{base_url}{path}",
        "content_type": "multipart/form-data" if model.modality == "stt" else "application/json",
        "auth": "Authorization: Bearer <aigw API key>",
        "request": request,
        "response": response,
        "stream": stream,
        "quirks": quirks(model, provider),
        "snippets": _snippets(model, request, base_url),
    }
