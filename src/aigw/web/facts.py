"""What a model page says, derived from the model's catalog data and the gateway's settings.

Every sentence on a model page (overview, capability table, FAQ, pricing notes) is computed
here from one ``Model``, so the page cannot contradict itself the way the seed page does (its
FAQ denied tool calling that its description claimed). The free-text fields (description,
strengths, use cases) are the one exception, so they are checked against the flags: a
description that claims a capability the flags deny, or a different context window, is
replaced by the generated one; a strength or use case that does is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from aigw.catalog.models import DEFAULT_JOB_SECONDS, MAX_JOB_SECONDS, Model, Provider
from aigw.catalog.naming import describe
from aigw.catalog.schema import CAPABILITIES, CHAT_PATH, capability_ids, endpoint_path
from aigw.config import Settings
from aigw.web.fmt import compact_tokens, usd

CAPABILITY_LABELS = {
    "streaming": "Streaming",
    "tools": "Tool calling",
    "parallel_tools": "Parallel tool calls",
    "vision": "Vision (image input)",
    "structured_outputs": "Structured outputs",
    "json_mode": "JSON mode",
    "prompt_caching": "Prompt caching",
    "reasoning": "Reasoning",
    "embeddings": "Embeddings",
    "image_generation": "Image generation",
    "text_to_speech": "Text to speech",
    "speech_to_text": "Speech to text",
    "video_generation": "Video generation",
    "music_generation": "Music generation",
    "3d_generation": "3D generation",
}
FLAG_CAPABILITIES = (
    "streaming",
    "tools",
    "parallel_tools",
    "vision",
    "structured_outputs",
    "json_mode",
    "prompt_caching",
    "reasoning",
)
_DESCRIPTIONS = {c.id: c.description for c in CAPABILITIES}

# Phrases that claim a capability. Checked after the model's own name is removed (names such
# as "Qwen3 VL Thinking" or "Grok 4.20 Non Reasoning" are not claims).
_CLAIMS: dict[str, re.Pattern[str]] = {
    "tools": re.compile(r"function[- ]calling|tool[- ]calling|tool[- ]use|calls? tools"),
    "vision": re.compile(r"image inputs?|vision input|accepts (?:text and )?images?|\bvision\b"),
    "structured_outputs": re.compile(r"structured outputs?"),
    "json_mode": re.compile(r"json mode"),
    "reasoning": re.compile(r"reasoning effort|configurable reasoning|extended thinking"),
    "prompt_caching": re.compile(r"prompt caching"),
    "streaming": re.compile(r"\bstreams?\b|\bstreaming\b"),
}
_NEGATION = re.compile(r"\b(no|not|without|non|lacks?|never)\b[\w\s,-]{0,24}$")
_CONTEXT_CLAIM = re.compile(r"(?<![\d,.])(\d[\d,]*(?:\.\d+)?)\s*([km])?[- ]token context", re.I)


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """The money rules a page explains, read from the settings (``app[SETTINGS]``)."""

    billing_enabled: bool
    fee_percent: Decimal
    fee_mode: str
    byok_fee_per_1m: Decimal

    @classmethod
    def from_settings(cls, settings: Settings) -> FeePolicy:
        return cls(
            billing_enabled=settings.billing_enabled,
            fee_percent=settings.platform_fee_percent,
            fee_mode=settings.platform_fee_mode,
            byok_fee_per_1m=settings.byok_fee_per_1m,
        )

    @property
    def percent(self) -> str:
        return f"{self.fee_percent.normalize():f}%"


@dataclass(frozen=True, slots=True)
class CapabilityRow:
    id: str
    label: str
    supported: bool
    description: str


def claimed_capabilities(text: str, name: str = "") -> set[str]:
    """Capabilities a free text claims (negated mentions, and the model's name, excluded)."""
    low = text.lower()
    if name:
        low = low.replace(name.lower(), " ")
    found = set()
    for cap, pattern in _CLAIMS.items():
        for match in pattern.finditer(low):
            if not _NEGATION.search(low[max(0, match.start() - 30) : match.start()]):
                found.add(cap)
                break
    return found


def _context_claims(text: str) -> list[int]:
    out = []
    for number, unit in _CONTEXT_CLAIM.findall(text):
        scale = {"k": 1_000, "m": 1_000_000}.get(unit.lower(), 1)
        out.append(int(Decimal(number.replace(",", "")) * scale))
    return out


def conflicts(model: Model, text: str) -> list[str]:
    """What in ``text`` the model's data contradicts (empty when the text is consistent)."""
    caps = model.capabilities
    found = [
        f"claims {CAPABILITY_LABELS[c].lower()}"
        for c in sorted(claimed_capabilities(text, model.name))
        if not getattr(caps, c)
    ]
    window = model.context_window
    for claimed in _context_claims(text):
        # "1M-token" for 1,000,000 or 1,048,576; "128K" for 128,000 or 131,072.
        if window is None or not 0.9 * window <= claimed <= 1.1 * window:
            found.append(f"claims a {claimed:,}-token context window")
    return found


def generated_description(model: Model, provider: Provider) -> str:
    return describe(
        name=model.name,
        provider_name=provider.name,
        modality=model.modality,
        input_modalities=model.input_modalities,
        output_modalities=model.output_modalities,
        context_window=model.context_window,
        max_output_tokens=model.max_output_tokens,
        capabilities=model.capabilities,
    )


def description(model: Model, provider: Provider) -> str:
    """The catalog description, or the generated one when the catalog's contradicts the data."""
    if conflicts(model, model.description):
        return generated_description(model, provider)
    return model.description


def consistent_items(model: Model, items: tuple[str, ...]) -> list[str]:
    """Strengths or use cases, minus any that claim what the model does not do."""
    return [item for item in items if not conflicts(model, item)]


def capability_rows(model: Model) -> list[CapabilityRow]:
    """Every flag, supported or not (chat models), then the model's modality capability."""
    held = set(capability_ids(model))
    ids = list(FLAG_CAPABILITIES) if model.modality == "text" else []
    ids += [c for c in held if c not in FLAG_CAPABILITIES]
    ids += [c for c in FLAG_CAPABILITIES if c in held and c not in ids]
    return [CapabilityRow(c, CAPABILITY_LABELS[c], c in held, _DESCRIPTIONS[c]) for c in ids]


JOB_MODALITIES = frozenset({"video", "music", "3d"})
_UNIT_NAMES = {
    "per_image": "per image",
    "per_character": "per character",
    "per_second": "per second of audio",
    "per_query": "per search (one query over up to 100 documents)",
}


def price_line(model: Model) -> str:
    price = model.price
    if price.is_free:
        return "Free: no per-token charge."
    if model.modality in JOB_MODALITIES:
        return _job_price_line(model)
    parts = [
        f"{usd(getattr(price, unit))} {name}"
        for unit, name in _UNIT_NAMES.items()
        if getattr(price, unit)
    ]
    if price.input or price.output or not parts:
        text = f"Input {usd(price.input)} per 1M tokens; output {usd(price.output)} per 1M tokens."
        parts.insert(0, text.rstrip("."))
    text = "; ".join(parts) + "."
    for tier in price.tiers:
        text += (
            f" Above {tier.above_tokens:,} prompt tokens the whole request costs "
            f"{usd(tier.input)} input / {usd(tier.output)} output per 1M."
        )
    return text


def _job_price_line(model: Model) -> str:
    price = model.price
    if price.per_second is not None:
        default = f"{price.default_seconds or DEFAULT_JOB_SECONDS:f} s"
        most = f"{price.max_seconds or MAX_JOB_SECONDS:f} s"
        return (
            f"{usd(price.per_second)} per second of output ({default} unless the request sets "
            f"duration, at most {most}), charged when the job is accepted."
        )
    return (
        f"{usd(price.per_item or 0)} per {model.modality} output, charged when the job is accepted."
    )


def pricing_notes(model: Model, provider: Provider, fees: FeePolicy) -> list[str]:
    """How a call is billed on this gateway: pass-through price, platform fee, BYOK."""
    notes = []
    if not fees.billing_enabled:
        notes.append(
            "Billing is off on this gateway: calls are free and only logged with their cost."
        )
    elif model.price.is_free:
        notes.append("This model has no per-token price: calls cost nothing from your wallet.")
    else:
        notes.append(f"You pay {provider.name}'s price, passed through without a markup.")
    if fees.billing_enabled and fees.fee_percent:
        if fees.fee_mode == "per_call":
            notes.append(f"A {fees.percent} platform fee is added to each call's charge.")
        else:
            notes.append(
                f"A {fees.percent} platform fee is applied when you top up credits, not per "
                f"call (buying $100 of credits costs ${100 + fees.fee_percent:f})."
            )
    elif fees.billing_enabled:
        notes.append("No platform fee.")
    notes.append(byok_answer(provider, fees))
    if model.price.cached_input is not None and model.capabilities.prompt_caching:
        notes.append(f"Cached prompt tokens cost {usd(model.price.cached_input)} per 1M.")
    if model.price.reasoning is not None:
        notes.append(f"Reasoning tokens cost {usd(model.price.reasoning)} per 1M.")
    return notes


def byok_answer(provider: Provider, fees: FeePolicy) -> str:
    if not provider.key_required:
        return f"{provider.name} runs on your own server and needs no key: nothing to bring."
    if fees.byok_fee_per_1m:
        cost = f"{usd(fees.byok_fee_per_1m)} per 1M tokens from your wallet"
    else:
        cost = "nothing from your wallet (no platform fee either)"
    return (
        f"Bring your own {provider.name} key (dashboard, or POST /v1/provider-keys): calls "
        f"then use it, you pay {provider.name} directly, and they cost {cost}."
    )


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def overview(model: Model, provider: Provider) -> str:
    """The one-paragraph summary under the header, every clause from the data."""
    kind = {"text": "text", "embedding": "embedding", "image": "image generation"}.get(
        model.modality, model.modality
    )
    text = f"{model.name} ({model.id}) is a {kind} model from {provider.name}"
    text += f", released {model.released}." if model.released else "."
    if model.context_window:
        text += f" Context window: {model.context_window:,} tokens"
        if model.max_output_tokens:
            text += f"; max output {model.max_output_tokens:,}"
        text += "."
    text += " " + price_line(model)
    held = [CAPABILITY_LABELS[c].lower() for c in capability_ids(model)]
    if held:
        text += f" Capabilities: {_join(held)}."
    uses = consistent_items(model, model.use_cases)
    if uses:
        text += f" Best for: {_join(uses)}."
    return text


def faq(model: Model, provider: Provider, fees: FeePolicy, base_url: str) -> list[tuple[str, str]]:
    """Questions and answers, each answer computed from the same data as the rest of the page."""
    name, caps = model.name, model.capabilities
    path = endpoint_path(model)
    out = [
        (
            f"What is {name}?",
            f"{description(model, provider)} It is served by {provider.name} and called "
            f"through this gateway as {model.id}.",
        ),
        (
            f"How much does {name} cost here?",
            price_line(model) + " " + " ".join(pricing_notes(model, provider, fees)[:2]),
        ),
    ]
    if model.context_window:
        window = f"{model.context_window:,} tokens ({compact_tokens(model.context_window)})."
        if model.max_output_tokens:
            window += f" Maximum output is {model.max_output_tokens:,} tokens."
    else:
        window = "The catalog does not list a context window for this model."
    out.append((f"What is the context window of {name}?", window))
    call = (
        f"Point the OpenAI SDK at {base_url}/v1 with your gateway key and set model to "
        f'"{model.id}"; the request goes to POST {path}.'
    )
    if path == CHAT_PATH:
        call += " Request and response shapes are OpenAI's."
    out.append((f"How do I call {name}?", call))
    if model.modality == "text":
        answers = [
            f"Streaming: {_yes_no(caps.streaming)}",
            f"tool calling: {_yes_no(caps.tools)}",
            f"vision: {_yes_no(caps.vision)}",
            f"JSON mode: {_yes_no(caps.json_mode)}",
            f"structured outputs: {_yes_no(caps.structured_outputs)}",
            f"prompt caching: {_yes_no(caps.prompt_caching)}",
        ]
        out.append(
            (
                f"Does {name} support streaming, tool calling, vision and JSON mode?",
                "; ".join(answers) + ".",
            )
        )
        if caps.reasoning:
            efforts = (
                "reasoning_effort accepts " + ", ".join(caps.reasoning_efforts) + "."
                if caps.reasoning_efforts
                else "It lists no reasoning_effort levels; leave the field out."
            )
            out.append(
                (
                    f"Does {name} reason before answering?",
                    "Yes; reasoning tokens are billed as output tokens. " + efforts,
                )
            )
    uses = consistent_items(model, model.use_cases)
    strengths = consistent_items(model, model.strengths)
    if uses or strengths:
        answer = f"{_join(uses)}." if uses else ""
        if strengths:
            answer += f" Key strengths: {'; '.join(strengths)}."
        out.append((f"What is {name} best for?", answer.strip()))
    out.append((f"Can I bring my own {provider.name} key (BYOK)?", byok_answer(provider, fees)))
    return out
