"""Names derived from model ids (display name, family, release date) and a generic true
description built from a model's own data: both the build script and operator overrides
need them for entries that do not say."""

from __future__ import annotations

import re

from aigw.catalog.models import Capabilities

_WORDS = {
    "ai": "AI",
    "api": "API",
    "claude": "Claude",
    "deepseek": "DeepSeek",
    "embed": "Embed",
    "fp4": "FP4",
    "fp8": "FP8",
    "gemini": "Gemini",
    "glm": "GLM",
    "gpt": "GPT",
    "hd": "HD",
    "hf": "HF",
    "it": "IT",
    "minimax": "MiniMax",
    "moe": "MoE",
    "nvidia": "NVIDIA",
    "oss": "OSS",
    "pplx": "PPLX",
    "qwq": "QwQ",
    "tts": "TTS",
    "vl": "VL",
    "zai": "Z.ai",
}
_SIZE = re.compile(r"^(\d+x)?\d+(\.\d+)?[bmk]$|^a\d+(\.\d+)?b$", re.IGNORECASE)
_DATE_SUFFIX = re.compile(r"[-_@](20\d\d)-?(\d\d)-?(\d\d)$")
_MONTH_YEAR_SUFFIX = re.compile(r"-(\d\d)-(20\d\d)$")
_SMALL_INT = re.compile(r"^\d{1,2}$")
_SEPARATORS = re.compile(r"[-_\s:]+")


def date_in_id(upstream_id: str) -> str | None:
    """The ``YYYY-MM-DD`` a dated snapshot id carries (``gpt-4o-2024-08-06``), if any."""
    m = _DATE_SUFFIX.search(upstream_id)
    if not m:
        return None
    year, month, day = m.groups()
    if not ("01" <= month <= "12" and "01" <= day <= "31"):
        return None
    return f"{year}-{month}-{day}"


def _word(token: str) -> str:
    low = token.lower()
    if low in _WORDS:
        return _WORDS[low]
    if re.fullmatch(r"o\d+", low):  # OpenAI's o-series keep their lowercase names
        return low
    if _SIZE.match(token):
        return token.upper().replace("X", "x")
    if token.islower() and token[0].isalpha():
        return token[0].upper() + token[1:]
    return token


def derive_name(upstream_id: str) -> str:
    """A readable name from an upstream id: ``claude-opus-4-5`` -> ``Claude Opus 4.5``."""
    base = upstream_id.rsplit("/", 1)[-1]
    suffix = ""
    if (date := date_in_id(base)) is not None:
        base = _DATE_SUFFIX.sub("", base)
        suffix = f" ({date})"
    elif m := _MONTH_YEAR_SUFFIX.search(base):
        base = base[: m.start()]
        suffix = f" ({m.group(2)}-{m.group(1)})"
    base = re.sub(r"(?<=\d)p(?=\d)", ".", base)  # Fireworks spells 3.1 as 3p1
    tokens = [t for t in _SEPARATORS.split(base) if t]
    # Anthropic-style versions: claude-opus-4-5 -> 4.5 (adjacent small integers).
    joined: list[str] = []
    for tok in tokens:
        if joined and _SMALL_INT.match(tok) and re.fullmatch(r"\d{1,2}(\.\d{1,2})?", joined[-1]):
            if "." not in joined[-1]:
                joined[-1] = f"{joined[-1]}.{tok}"
                continue
        joined.append(tok)
    words: list[str] = []
    for tok in joined:
        word = _word(tok)
        if words and words[-1] == "GPT":
            words[-1] = f"GPT-{word}"
        else:
            words.append(word)
    return " ".join(words) + suffix if words else upstream_id


def derive_family(name: str) -> str:
    """The name up to its major version: ``Grok 4.3`` -> ``Grok 4``; ``GPT-4o Mini`` -> ``GPT-4o``.

    Hand-kept families in overrides.toml win over this.
    """
    words = [w for w in name.split(" ") if not w.startswith("(")]
    for i, word in enumerate(words):
        if not any(c.isdigit() for c in word):
            continue
        if _SIZE.match(word):
            return " ".join(words[:i]) or word
        major = re.match(r"^(.*?\d+[a-zA-Z]?)(?:\.\d.*)?$", word)
        head = major.group(1) if major else word
        return " ".join([*words[:i], head])
    return words[0] if words else name


_MODALITY_WORDS = {
    "text": "text",
    "image": "image generation",
    "embedding": "embedding",
    "tts": "text-to-speech",
    "stt": "speech-to-text",
    "video": "video generation",
    "moderation": "moderation",
    "rerank": "reranking",
}


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def describe(
    *,
    name: str,
    provider_name: str,
    modality: str,
    input_modalities: tuple[str, ...],
    output_modalities: tuple[str, ...],
    context_window: int | None,
    max_output_tokens: int | None,
    capabilities: Capabilities,
) -> str:
    """A generic but true description, built only from the model's own data."""
    kind = _MODALITY_WORDS.get(modality, modality)
    article = "an" if kind[0] in "aeiou" else "a"
    text = f"{name} is {article} {kind} model from {provider_name}"
    if context_window:
        text += f" with a {context_window:,}-token context window"
        if max_output_tokens:
            text += f" and up to {max_output_tokens:,} output tokens"
    text += "."
    text += f" Input: {_join(list(input_modalities))}; output: {_join(list(output_modalities))}."
    caps = capabilities
    features = [
        label
        for flag, label in (
            (caps.tools, "tool calling"),
            (caps.vision, "image input"),
            (caps.structured_outputs, "structured outputs"),
            (caps.prompt_caching, "prompt caching"),
        )
        if flag
    ]
    if caps.reasoning:
        features.append(
            "reasoning effort (" + ", ".join(caps.reasoning_efforts) + ")"
            if caps.reasoning_efforts
            else "reasoning"
        )
    if features:
        text += f" Supports {_join(features)}."
    return text
