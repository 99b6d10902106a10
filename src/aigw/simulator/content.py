"""Deterministic, plausible prose for simulated answers (no I/O, no wire format).

The same prompt always yields the same answer (the RNG is seeded from a hash of the prompt),
so tests can assert on content and a cache can keep answers. Text is built from token pieces
produced by ``tokenize``; usage is the number of pieces, so what is streamed and what is
billed always agree.
"""

from __future__ import annotations

import hashlib
import random
import re

from aigw.simulator import wordbank

# One token: optional leading whitespace plus up to 8 word characters or one punctuation mark.
# ``"".join(tokenize(s)) == s`` for every string, which keeps stream and usage consistent.
_TOKEN_RE = re.compile(r"\s*(?:\w{1,8}|[^\w\s])|\s+")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z-]{3,}")
_DEFAULT_TOPIC = "this topic"


def tokenize(text: str) -> list[str]:
    """Split text into the simulator's tokens (roughly one per short word or punctuation)."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """Token count by the same rule as ``tokenize`` (~4-5 characters per token for English)."""
    return len(_TOKEN_RE.findall(text))


def seed_of(*parts: object) -> int:
    """A stable 64-bit seed from any mix of strings and numbers (``hash()`` is salted)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def topics_of(text: str, limit: int = 3) -> list[str]:
    """Content words of the prompt, in order of appearance, used to make answers on-topic."""
    found: list[str] = []
    for word in _WORD_RE.findall(text[-2000:]):
        lower = word.lower()
        if lower in wordbank.STOPWORDS or lower in found:
            continue
        found.append(lower)
        if len(found) == limit:
            break
    return found or [_DEFAULT_TOPIC]


def _fill(template: str, rng: random.Random, topics: list[str]) -> str:
    topic = rng.choice(topics)
    return template.format(
        t=topic,
        noun=rng.choice(wordbank.NOUNS),
        noun2=rng.choice(wordbank.NOUNS),
        verb=rng.choice(wordbank.VERBS),
        verb2=rng.choice(wordbank.VERBS),
        adj=rng.choice(wordbank.ADJECTIVES),
        adj2=rng.choice(wordbank.ADJECTIVES),
    )


def prose(rng: random.Random, topics: list[str], target: int, exact: bool) -> list[str]:
    """Tokens of an answer of about ``target`` tokens (exactly ``target`` when ``exact``).

    Without ``exact`` the answer ends at a sentence boundary with a closing line, the way a
    model picks its own length; with it the text is cut at the token budget.
    """
    if target <= 0:
        return []
    tokens = tokenize(_fill(rng.choice(wordbank.OPENERS), rng, topics))
    closer = tokenize(" " + _fill(rng.choice(wordbank.CLOSERS), rng, topics))
    budget = target if exact else target - len(closer)
    in_paragraph = 1
    while len(tokens) < budget:
        if in_paragraph >= rng.randint(3, 5):
            separator, in_paragraph = "\n\n", 0
        else:
            separator = " "
        tokens += tokenize(separator + _fill(rng.choice(wordbank.SENTENCES), rng, topics))
        in_paragraph += 1
    if exact:
        return tokens[:target]
    return tokens + closer


def reasoning(rng: random.Random, topics: list[str], target: int) -> list[str]:
    """Tokens of a short chain of thought of exactly ``target`` tokens."""
    tokens: list[str] = []
    while len(tokens) < target:
        prefix = " " if tokens else ""
        tokens += tokenize(prefix + _fill(rng.choice(wordbank.REASONING), rng, topics))
    return tokens[:target]


def phrase(rng: random.Random, topics: list[str]) -> str:
    """One sentence, for string values in generated JSON."""
    return _fill(rng.choice(wordbank.SENTENCES), rng, topics)
