"""Deterministic content for the simulator's non-chat endpoints: embedding vectors derived from
the text, a small PNG, speech audio, a transcript, moderation scores and rerank scores. Pure:
the same request always gives the same answer, so tests can compare exact values."""

from __future__ import annotations

import hashlib
import math
import random
import re
import struct
import zlib

from aigw.simulator import wordbank
from aigw.simulator.content import count_tokens, seed_of

DEFAULT_DIMENSIONS = {
    "text-embedding-3-large": 3072,
    "gemini-embedding-001": 3072,
    "embed-v4.0": 1536,
}
FALLBACK_DIMENSIONS = 1536
SPEECH_RATE = 24_000  # Hz, 16-bit mono, as OpenAI's pcm and wav
FLAG_WORDS = {
    "violence": ("kill", "attack", "murder", "weapon"),
    "harassment": ("idiot", "stupid", "loser"),
    "self-harm": ("suicide", "self-harm"),
}
CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual",
    "sexual/minors", "violence", "violence/graphic",
)  # fmt: skip
_WORDS = re.compile(r"[a-z0-9]+")


def dimensions_of(model: str, asked: int | None) -> int:
    return asked or DEFAULT_DIMENSIONS.get(model, FALLBACK_DIMENSIONS)


def embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector from the text's SHAKE-256 stream: equal texts give equal vectors."""
    raw = hashlib.shake_256(text.encode()).digest(dimensions * 2)
    values = [(v - 32768) / 32768 for v in struct.unpack(f">{dimensions}H", raw)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def tokens_of(item: str | list[int]) -> int:
    return len(item) if isinstance(item, list) else max(1, count_tokens(item))


def text_of(item: str | list[int]) -> str:
    return item if isinstance(item, str) else " ".join(map(str, item))


def png(seed: str, size: int = 8) -> bytes:
    """A small valid PNG, its colour from the prompt."""
    r, g, b = hashlib.blake2b(seed.encode(), digest_size=3).digest()
    row = b"\x00" + bytes((r, g, b)) * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def speech_seconds(text: str) -> float:
    return max(0.5, len(text) / 15)


def speech(text: str, fmt: str) -> bytes:
    """Audio for ``text``: a real WAV / PCM tone for those formats, else tagged bytes."""
    samples = int(speech_seconds(text) * SPEECH_RATE / 10)  # a tenth of the length: small
    freq = 200 + seed_of(text) % 400
    pcm = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / SPEECH_RATE)))
        for i in range(samples)
    )
    if fmt == "pcm":
        return pcm
    if fmt == "wav":
        header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt "
        header += struct.pack("<IHHIIHH", 16, 1, 1, SPEECH_RATE, SPEECH_RATE * 2, 2, 16)
        return header + b"data" + struct.pack("<I", len(pcm)) + pcm
    tag = {"mp3": b"ID3\x04\x00\x00", "flac": b"fLaC", "opus": b"OggS", "aac": b"\xff\xf1"}
    return tag.get(fmt, b"") + hashlib.shake_256(text.encode()).digest(64 + len(text))


def transcript(audio: bytes, prompt: str = "") -> str:
    """A sentence picked by the audio's hash (what the "speaker" said)."""
    rng = random.Random(seed_of(hashlib.blake2b(audio, digest_size=8).hexdigest()))
    nouns = rng.sample(wordbank.NOUNS, 2)
    return (
        f"The {nouns[0]} was ready before the {nouns[1]} arrived{', ' + prompt if prompt else ''}."
    )


def audio_seconds(audio: bytes) -> float:
    """The upload's length as 16 kHz 16-bit mono, at least a second (rounded to 0.1 s)."""
    return max(1.0, round(len(audio) / 32_000, 1))


def moderation(text: str) -> dict[str, object]:
    """OpenAI's result object: a category is flagged when the text has one of its words."""
    words = set(_WORDS.findall(text.lower()))
    scores = {c: round((seed_of(text, c) % 1000) / 100_000, 6) for c in CATEGORIES}
    flags = {c: False for c in CATEGORIES}
    for category, triggers in FLAG_WORDS.items():
        if words & set(triggers):
            flags[category] = True
            scores[category] = 0.97
    return {
        "flagged": any(flags.values()),
        "categories": flags,
        "category_scores": scores,
        "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
    }


def relevance(query: str, document: str) -> float:
    """Word overlap of query and document (Jaccard), nudged by a hash to break ties."""
    q, d = set(_WORDS.findall(query.lower())), set(_WORDS.findall(document.lower()))
    overlap = len(q & d) / len(q | d) if q | d else 0.0
    return round(0.9 * overlap + (seed_of(query, document) % 1000) / 10_000, 6)
