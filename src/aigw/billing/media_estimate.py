"""Upper bounds of what a non-chat call can cost, for the reservation before it (pure).

Each bound is the request's own size at worst-case rates: the text at the low bytes-per-token
bound, images at ``IMAGE_TOKENS_MAX`` output tokens each, speech at ``SPEECH_MIN_CHARS_PER_S``,
audio uploads at ``AUDIO_MIN_BYTES_PER_S`` (8 kbit/s, below any speech codec in use).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from aigw.billing.estimate import max_prompt_tokens
from aigw.billing.units import max_units_cost_micro_cents
from aigw.core.units import Units
from aigw.core.usage import Usage
from aigw.formats.openai_media import MediaRequest, search_units

if TYPE_CHECKING:
    from aigw.catalog.models import Model

IMAGE_TOKENS_MAX = 10_000  # gpt-image-1 at high quality, 1536x1024, is 6,240
SPEECH_MIN_CHARS_PER_S = 5
AUDIO_MIN_BYTES_PER_S = 1_000
AUDIO_TOKENS_PER_S = 25  # gpt-4o-transcribe counts about 10
TRANSCRIPT_TOKENS_PER_S = 10  # fast speech is 3-4 tokens a second


def media_bound(op: str, req: MediaRequest) -> tuple[Usage, Units]:
    """The most tokens and units ``req`` can be billed for."""
    prompt = (max_prompt_tokens(req.text_bytes) if req.texts else 0) + req.token_inputs
    if op == "images":
        return (
            Usage(prompt_tokens=prompt, completion_tokens=IMAGE_TOKENS_MAX * req.count),
            Units(images=req.count),
        )
    if op == "speech":
        chars = len(req.texts[0])
        seconds = Decimal(chars) / SPEECH_MIN_CHARS_PER_S + 1
        return Usage(prompt_tokens=prompt), Units(characters=chars, seconds=seconds)
    if op == "transcriptions":
        secs = len(req.file) // AUDIO_MIN_BYTES_PER_S + 1
        usage = Usage(
            prompt_tokens=prompt + secs * AUDIO_TOKENS_PER_S,
            completion_tokens=secs * TRANSCRIPT_TOKENS_PER_S,
        )
        return usage, Units(seconds=Decimal(secs))
    if op == "rerank":
        # Cohere splits documents longer than its chunk size into more search units.
        units = search_units(req.count) + prompt // 50_000
        return Usage(prompt_tokens=prompt), Units(queries=units)
    return Usage(prompt_tokens=prompt), Units()


def media_reserve_amount(model: Model, op: str, req: MediaRequest) -> int:
    usage, units = media_bound(op, req)
    return max_units_cost_micro_cents(model.price, usage, units)
