"""How alike two answers are, 0-1 (pure).

The mean of two cosines: over word counts (what is said) and over character trigrams (how,
tolerant of small spelling and punctuation changes). Identical texts score 1.0, texts with
nothing in common 0.0; two empty texts are identical.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    dot = sum(count * large.get(term, 0) for term, count in small.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.casefold()))


def _trigrams(text: str) -> Counter[str]:
    flat = " " + _SPACE.sub(" ", text.casefold()).strip() + " "
    return Counter(flat[i : i + 3] for i in range(len(flat) - 2))


def similarity(a: str, b: str) -> float:
    """0-1 similarity of two texts (1.0 when equal up to case and spacing)."""
    if _SPACE.sub(" ", a.casefold()).strip() == _SPACE.sub(" ", b.casefold()).strip():
        return 1.0
    score = (_cosine(_words(a), _words(b)) + _cosine(_trigrams(a), _trigrams(b))) / 2
    return round(min(1.0, max(0.0, score)), 6)
