"""``/llms.txt`` (what the gateway is and where to look) and ``/llms-full.txt`` (every model
with its price and capabilities), written from the catalog the gateway actually serves."""

from __future__ import annotations

from dataclasses import fields

from aigw.catalog.loader import Catalog
from aigw.catalog.models import Capabilities, Model
from aigw.jobs.models import job_models

HEADER = """# aigw

> A self-hosted AI gateway: one OpenAI-compatible (and Anthropic-compatible) API in front of
> every model provider, with a priced catalog, prepaid wallets, rate limits, routing with
> fallbacks, async jobs (video, music, 3D) with signed webhooks, batches and an MCP endpoint.

Authenticate with `Authorization: Bearer sk-aig-...`. Point the OpenAI SDK at `<gateway>/v1`.
"""

LINKS = """## Docs

- [OpenAPI](/openapi.json): every endpoint, generated from the running code
- [Models](/v1/models): the catalog as JSON; `/v1/models/{id}/schema` for one model's inputs
- [Full model list](/llms-full.txt): every model with price and capabilities
- [MCP](/mcp): Streamable HTTP; tools chat, embed, generate_image, speak, transcribe,
  moderate, rerank, generate_video, generate_music, generate_3d, get_job, cancel_job,
  list_models, search_models, replay, run_eval, get_eval, get_balance, get_usage,
  clear_cache
- [MCP over SSE](/mcp/sse): the legacy HTTP+SSE transport (2024-11-05), same tools
- [MCP inspector](/mcp/inspect): try every tool in a browser

## Endpoints

- `POST /v1/chat/completions`, `POST /v1/messages`: chat (OpenAI, Anthropic formats)
- `POST /v1/videos/generations`, `/v1/audio/music`, `/v1/3d/generations`: async jobs (202);
  poll `GET /v1/jobs/{id}`, cancel with `DELETE`
- `POST /v1/files`, `POST /v1/batches`: OpenAI-compatible batches at half price
- `GET /v1/webhook-secret`: verify `X-Gateway-Signature: t=...,v1=...` (HMAC-SHA256 of "t.body")
"""


def _flags(caps: Capabilities) -> str:
    on = [f.name for f in fields(caps) if getattr(caps, f.name) is True]
    return ", ".join(on) or "-"


def _line(m: Model) -> str:
    price = f"${m.price.input}/1M in, ${m.price.output}/1M out"
    if m.price.is_free:
        price = "free"
    context = f"{m.context_window} ctx" if m.context_window else "ctx n/a"
    return f"- `{m.id}` ({m.name}): {m.modality}; {price}; {context}; {_flags(m.capabilities)}"


def short(catalog: Catalog) -> str:
    by_modality: dict[str, int] = {}
    for m in catalog:
        by_modality[m.modality] = by_modality.get(m.modality, 0) + 1
    counts = ", ".join(f"{n} {k}" for k, n in sorted(by_modality.items()))
    return (
        f"{HEADER}\n{LINKS}\n## Catalog\n\n{len(catalog)} models ({counts}) from "
        f"{len(catalog.providers)} providers, {len(job_models(catalog))} of the models async "
        "jobs priced per unit; see /llms-full.txt.\n"
    )


def full(catalog: Catalog) -> str:
    lines = [HEADER, "## Models", ""]
    for provider in sorted({m.provider for m in catalog}):
        lines.append(f"### {provider}")
        lines.extend(
            _line(m) for m in sorted(catalog, key=lambda m: m.id) if m.provider == provider
        )
        lines.append("")
    lines += ["## Job models (priced per unit)", ""]
    for jm in job_models(catalog):
        lines.append(f"- `{jm.id}`: {jm.modality}; ${jm.price_per_unit} per {jm.unit}")
    return "\n".join(lines) + "\n"
