"""Build ``src/aigw/catalog/data/catalog.json`` from a model price file plus hand-kept overrides.

    python scripts/build_catalog.py [PRICES_JSON] [--overrides TOML] [--out JSON] [--as-of DATE]

The price file is a LiteLLM-style ``model_prices_and_context_window.json``; overrides
(``src/aigw/catalog/data/overrides.toml``) hold the providers and the facts the price file
lacks or gets wrong. Everything written is derived from those two inputs (no clock, no
network) and keys are sorted, so re-running with the same inputs gives the same bytes.
Every entry goes through the catalog loader's validation before it is written.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
import tomllib
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import orjson

from aigw.catalog.loader import catalog_from_data
from aigw.catalog.models import model_to_data, provider_to_data
from aigw.catalog.naming import date_in_id

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PRICES = ROOT.parent / "shared" / "reference" / "model-prices.json"
DEFAULT_OVERRIDES = ROOT / "src" / "aigw" / "catalog" / "data" / "overrides.toml"
DEFAULT_OUT = ROOT / "src" / "aigw" / "catalog" / "data" / "catalog.json"
DEFAULT_AS_OF = "2026-05-22"  # the seed page's date; entries deprecated by then are dropped

# LiteLLM provider name -> (our provider id, prefix LiteLLM puts on that provider's keys)
SOURCES: dict[str, tuple[str, str]] = {
    "xai": ("xai", "xai/"),
    "openai": ("openai", "openai/"),
    "anthropic": ("anthropic", "anthropic/"),
    "gemini": ("google", "gemini/"),
    "mistral": ("mistral", "mistral/"),
    "deepseek": ("deepseek", "deepseek/"),
    "groq": ("groq", "groq/"),
    "together_ai": ("together", "together_ai/"),
    "fireworks_ai": ("fireworks", "fireworks_ai/"),
    "cohere": ("cohere", "cohere/"),
    "cohere_chat": ("cohere", "cohere/"),
    "perplexity": ("perplexity", "perplexity/"),
    "ollama": ("ollama", "ollama/"),
    "azure": ("azure", "azure/"),
    "bedrock_converse": ("bedrock", "bedrock/"),
}
MODES = {
    "chat": "text",
    "embedding": "embedding",
    "image_generation": "image",
    "audio_speech": "tts",
    "audio_transcription": "stt",
    "moderation": "moderation",
    "rerank": "rerank",
}
# Per-unit prices (USD per unit) by modality: the price file's keys, first found wins.
UNIT_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "image": {"per_image": ("output_cost_per_image", "input_cost_per_image")},
    "tts": {
        "per_character": ("input_cost_per_character",),
        "per_second": ("output_cost_per_second",),
    },
    "stt": {"per_second": ("input_cost_per_second",)},
    "rerank": {"per_query": ("input_cost_per_query",)},
}
UNIT_PRICED = ("image", "tts", "stt", "moderation", "rerank", "embedding")
PER_MILLION = Decimal(1_000_000)
_TIER_KEY = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")
_NON_CHAT_USES = {
    "tts": ("Text-to-speech", "Voice interfaces"),
    "stt": ("Transcription", "Captions"),
    "moderation": ("Content moderation",),
    "rerank": ("Search re-ranking", "Retrieval-augmented generation"),
}
_CODE = re.compile(r"cod(e|er|estral|ex)|devstral", re.IGNORECASE)


def per_million(per_token: Any) -> str | None:
    """USD per token (a float in the price file) -> USD per 1M tokens, exact to 1e-6 USD."""
    if per_token is None or isinstance(per_token, bool):
        return None
    value = (Decimal(repr(float(per_token))) * PER_MILLION).quantize(
        Decimal("0.000001"), rounding=ROUND_HALF_UP
    )
    return format(value.normalize(), "f")


def upstream_of(key: str, source: str, prefix: str) -> str:
    upstream = key[len(prefix) :] if key.startswith(prefix) else key
    if source == "fireworks_ai" and not upstream.startswith("accounts/"):
        upstream = "accounts/fireworks/models/" + upstream
    return upstream


def model_id_of(provider: str, upstream: str) -> str:
    if provider == "fireworks":  # accounts/fireworks/models/x -> fireworks/x
        return f"{provider}/{upstream.rsplit('/', 1)[-1]}"
    return f"{provider}/{upstream}"


def per_unit(value: Any) -> str | None:
    """USD per unit (image, character, second, query), exact to 1e-9 USD."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    amount = Decimal(repr(float(value))).quantize(Decimal("0.000000001"), rounding=ROUND_HALF_UP)
    return format(amount.normalize(), "f")


def unit_prices(e: Mapping[str, Any], modality: str) -> dict[str, str]:
    units: dict[str, str] = {}
    for unit, keys in UNIT_KEYS.get(modality, {}).items():
        for key in keys:
            value = per_unit(e.get(key))
            if value is not None and Decimal(value) > 0:
                units[unit] = value
                break
    return units


def price_of(e: Mapping[str, Any], modality: str) -> dict[str, Any] | None:
    inp = per_million(e.get("input_cost_per_token"))
    out = per_million(e.get("output_cost_per_token"))
    if modality == "image":
        out = per_million(e.get("output_cost_per_image_token", e.get("output_cost_per_token")))
    elif modality == "tts" and e.get("output_cost_per_audio_token") is not None:
        out = per_million(e.get("output_cost_per_audio_token"))
    units = unit_prices(e, modality)
    if modality == "image" and out is not None and Decimal(out) > 0:
        units.pop("per_image", None)  # billed by image tokens; the per-image figure is derived
    if modality in UNIT_PRICED:
        # Not every unit is a token: a model priced per image, second or query only has no
        # token prices, and an embedding produces no output tokens.
        if inp is None and out is None and not units and modality != "moderation":
            return None
        inp, out = inp or "0", out or "0"
    if inp is None or out is None:
        return None
    price: dict[str, Any] = {
        "input": inp,
        "output": out,
        "cached_input": per_million(
            e.get("cache_read_input_token_cost", e.get("input_cost_per_token_cache_hit"))
        ),
    }
    reasoning = per_million(e.get("output_cost_per_reasoning_token"))
    if reasoning is not None and reasoning != out:
        price["reasoning"] = reasoning
    tiers = []
    for key in sorted(e, key=lambda k: (len(k), k)):
        m = _TIER_KEY.match(key)
        if not m:
            continue
        n = m.group(1)
        tiers.append(
            {
                "above_tokens": int(n) * 1000,
                "input": per_million(e[key]),
                "output": per_million(e.get(f"output_cost_per_token_above_{n}k_tokens")) or out,
                "cached_input": per_million(
                    e.get(f"cache_read_input_token_cost_above_{n}k_tokens")
                ),
            }
        )
    price["tiers"] = sorted(tiers, key=lambda t: t["above_tokens"])
    price.update(units)
    return price


def modalities_of(e: Mapping[str, Any], modality: str) -> tuple[list[str], list[str]]:
    if modality == "embedding":
        return (["text", "image"] if e.get("supports_embedding_image_input") else ["text"]), [
            "embedding"
        ]
    if modality == "image":
        return ["text"], ["image"]
    if modality == "tts":
        return ["text"], ["audio"]
    if modality == "stt":
        return ["audio"], ["text"]
    if modality in ("moderation", "rerank"):
        return ["text"], ["text"]
    media = ("text", "image", "audio", "video")
    if "supported_modalities" in e:
        inputs = [m for m in media if m in e["supported_modalities"]]
    else:
        flags = (True, e.get("supports_vision"), e.get("supports_audio_input"))
        inputs = [
            m for m, on in zip(media, (*flags, e.get("supports_video_input")), strict=True) if on
        ]
    if e.get("supports_pdf_input"):
        inputs.append("file")
    if "supported_output_modalities" in e:
        outputs = [m for m in media if m in e["supported_output_modalities"]]
    else:
        outputs = ["text", "audio"] if e.get("supports_audio_output") else ["text"]
    return inputs, outputs or ["text"]


def capabilities_of(
    e: Mapping[str, Any], modality: str, provider: str, build: Mapping[str, Any]
) -> dict[str, Any]:
    chat = modality == "text"
    reasoning = bool(chat and e.get("supports_reasoning"))
    caps: dict[str, Any] = {
        "streaming": chat and e.get("supports_native_streaming") is not False,
        "tools": chat and bool(e.get("supports_function_calling")),
        "parallel_tools": chat and bool(e.get("supports_parallel_function_calling")),
        "vision": chat and bool(e.get("supports_vision")),
        "structured_outputs": chat and bool(e.get("supports_response_schema")),
        "json_mode": False,
        "prompt_caching": chat and bool(e.get("supports_prompt_caching")),
        "reasoning": reasoning,
        "sampling_params": e.get("supports_sampling_params") is not False,
        "reasoning_efforts": [],
    }
    if chat:
        caps.update(build.get("capability_defaults", {}).get(provider, {}))
    if reasoning:
        levels = e.get("reasoning_effort_levels")
        if not isinstance(levels, list):
            levels = list(build.get("reasoning_efforts", {}).get(provider, []))
            if levels:  # flags only refine a provider's documented base levels
                for effort in ("none", "minimal", "low", "xhigh", "max"):
                    flag = e.get(f"supports_{effort}_reasoning_effort")
                    if flag is True and effort not in levels:
                        levels.append(effort)
                    elif flag is False and effort in levels:
                        levels.remove(effort)
        caps["reasoning_efforts"] = levels
    return caps


def strengths_and_uses(entry: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Prose tags derived only from the entry's own facts."""
    modality, caps, price = entry["modality"], entry.get("capabilities", {}), entry["price"]
    coding = bool(_CODE.search(entry["upstream_id"]))
    if modality in ("video", "music", "3d"):  # async jobs, priced per second or per item
        return [], [{"video": "Video generation", "music": "Music generation"}.get(
            modality, "3D asset generation")]  # fmt: skip
    if modality == "embedding":
        return [], ["Semantic search", "Retrieval-augmented generation", "Classification"]
    if modality == "image":
        return [], ["Image generation"]
    if modality in _NON_CHAT_USES:
        return [], list(_NON_CHAT_USES[modality])
    strengths = ["Coding"] if coding else ["General-purpose chat"]
    if (entry.get("context_window") or 0) >= 200_000:
        strengths.append("Long context")
    strengths += [label for flag, label in (("tools", "Tool use"), ("vision", "Vision"),
                  ("reasoning", "Reasoning")) if caps.get(flag)]  # fmt: skip
    if Decimal(price["input"]) == 0 and Decimal(price["output"]) == 0:
        strengths.append("Free")
    elif Decimal(price["input"]) <= Decimal("0.2") and Decimal(price["output"]) <= Decimal("0.8"):
        strengths.append("Low cost")
    uses = ["Coding assistants"] if coding else ["Chatbots", "Content generation"]
    uses += [label for flag, label in (("tools", "Agentic workflows"),
             ("vision", "Document and image understanding"),
             ("structured_outputs", "Data extraction")) if caps.get(flag)]  # fmt: skip
    return strengths, uses


def entries_from_prices(
    prices: Mapping[str, Any], build: Mapping[str, Any], as_of: str
) -> dict[str, dict[str, Any]]:
    skip = list(build.get("skip", []))
    chosen: dict[str, tuple[int, dict[str, Any]]] = {}
    for key in sorted(prices):
        e = prices[key]
        if not isinstance(e, dict) or e.get("litellm_provider") not in SOURCES:
            continue
        modality = MODES.get(str(e.get("mode")))
        if modality is None or key.startswith("ft:") or re.search(r"\d-x-\d", key):
            continue
        if str(e.get("deprecation_date") or "9999") <= as_of:
            continue
        provider, prefix = SOURCES[e["litellm_provider"]]
        upstream = upstream_of(key, e["litellm_provider"], prefix)
        mid = model_id_of(provider, upstream)
        if any(fnmatch.fnmatchcase(mid, pattern) for pattern in skip):
            continue
        price = price_of(e, modality)
        if price is None:
            continue
        inputs, outputs = modalities_of(e, modality)
        context = e.get("max_input_tokens") or (e.get("max_tokens") if modality != "text" else None)
        entry: dict[str, Any] = {
            "upstream_id": upstream,
            "modality": modality,
            "input_modalities": inputs,
            "output_modalities": outputs,
            "context_window": context if isinstance(context, int) else None,
            "max_output_tokens": e.get("max_output_tokens") if modality == "text" else None,
            "price": price,
            "capabilities": capabilities_of(e, modality, provider, build),
            "released": date_in_id(upstream),
        }
        # Prefer the key spelled with the provider's own prefix (LiteLLM's canonical entry).
        rank = 1 if key.startswith(prefix) else 0
        if mid not in chosen or rank > chosen[mid][0]:
            chosen[mid] = (rank, entry)
    entries = {mid: entry for mid, (_, entry) in chosen.items()}
    _date_aliases(entries)
    return entries


def _date_aliases(entries: dict[str, dict[str, Any]]) -> None:
    """An alias (``gpt-4o``) was released with its earliest same-priced dated snapshot."""
    for mid, entry in entries.items():
        if entry["released"] is None:
            continue
        alias = re.sub(r"[-_@]20\d\d-?\d\d-?\d\d$", "", mid)
        target = entries.get(alias)
        if target is None or target["price"]["input"] != entry["price"]["input"]:
            continue
        if target["released"] is None or entry["released"] < target["released"]:
            target["released"] = entry["released"]


def build(prices: Mapping[str, Any], overrides: Mapping[str, Any], as_of: str) -> bytes:
    """The catalog file's bytes for these inputs (pure; the CLI only reads and writes files)."""
    settings = overrides.get("build", {})
    providers = overrides.get("providers", {})
    entries = entries_from_prices(prices, settings, as_of)
    entries = {mid: e for mid, e in entries.items() if mid.split("/", 1)[0] in providers}
    model_overrides = overrides.get("models", {})
    # Mirrors last, so a reseller copies the source model with its own overrides applied.
    for mid in sorted(model_overrides, key=lambda m: "mirror" in model_overrides[m]):
        extra = dict(model_overrides[mid])
        mirror = extra.pop("mirror", None)
        if mirror is not None:  # a router reselling another model at the same price
            if mirror not in entries:
                raise ValueError(f'models."{mid}": mirror "{mirror}" is not in the catalog')
            source = {k: v for k, v in entries[mirror].items() if k != "description"}
            entries[mid] = {**source, "upstream_id": extra.pop("upstream_id", mirror)}
        if extra.pop("remove", False):
            entries.pop(mid, None)
            continue
        base = entries.get(mid, {})
        for nested in ("price", "capabilities"):
            if nested in extra and nested in base:
                extra[nested] = {**base[nested], **extra[nested]}
        entries[mid] = {**base, **extra}
    for entry in entries.values():
        if "strengths" not in entry or "use_cases" not in entry:
            strengths, uses = strengths_and_uses(entry)
            entry.setdefault("strengths", strengths)
            entry.setdefault("use_cases", uses)
    # Parse everything with the runtime loader: the file can only hold valid entries, and
    # names, families and descriptions are filled in the same way as for operator models.
    catalog = catalog_from_data({"providers": providers, "models": entries}, source="build")
    out = {
        "providers": {p.id: provider_to_data(p) for p in catalog.providers.values()},
        "models": {m.id: model_to_data(m) for m in catalog.models},
    }
    return orjson.dumps(out, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prices", nargs="?", type=Path, default=DEFAULT_PRICES)
    parser.add_argument("--overrides", type=Path, default=DEFAULT_OVERRIDES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--as-of", default=DEFAULT_AS_OF, help="drop entries deprecated by then")
    args = parser.parse_args(argv)
    prices = orjson.loads(args.prices.read_bytes())
    overrides = tomllib.loads(args.overrides.read_text())
    data = build(prices, overrides, args.as_of)
    args.out.write_bytes(data)
    counts = orjson.loads(data)
    print(
        f"wrote {args.out}: {len(counts['providers'])} providers, {len(counts['models'])} models",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
