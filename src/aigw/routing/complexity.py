"""How demanding a chat request is: a pure, explainable read for the auto-router.

``classify(body)`` scores a request (OpenAI chat or Anthropic Messages shape) on signals any
operator can check by eye, and maps the score to a level:

| signal | points |
|---|---|
| prompt text over 2,000 / 8,000 / 32,000 characters | +1 / +2 / +3 |
| a fenced code block or code-looking lines | +1 |
| math (LaTeX, "prove", "derive", "integral", ...) | +1 |
| analysis words ("step by step", "trade-off", "architecture", "debug", ...) | +1 |
| tools offered (more than 5: +2) | +1 |
| ``reasoning_effort`` medium / high+ (or Anthropic ``thinking`` on) | +1 / +2 |
| images | +1 |
| ``response_format`` with a JSON schema | +1 |
| more than 8 messages | +1 |
| ``max_tokens`` of 4,000 or more | +1 |

0-1 points: ``simple``; 2-3: ``moderate``; 4 and up: ``complex`` (the names of the
``X-Routing-Complexity`` header). No I/O and no model call: the read costs microseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LEVELS = ("simple", "moderate", "complex")

# Expected output tokens per level, for cost estimates when the request sets no max_tokens.
EXPECTED_OUTPUT = {"simple": 300, "moderate": 800, "complex": 2000}
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
TOKENS_PER_IMAGE = 1000

_MATH = re.compile(
    r"\\(frac|int|sum|sqrt|begin\{(equation|align))|\$\$|\b(prove|proof|theorem|lemma|derive|"
    r"integral|derivative|equation|eigen\w*|probability)\b",
    re.IGNORECASE,
)
_ANALYSIS = re.compile(
    r"\b(step by step|step-by-step|analy[sz]e|trade-?offs?|architecture|design a|debug|"
    r"optimi[sz]e|refactor|compare and|root cause|in depth|rigorous)\b",
    re.IGNORECASE,
)
_CODE_LINE = re.compile(
    r"^\s*(def |class |import |from \S+ import|function |const |let |#include|public |"
    r"SELECT |fn |func |package )",
    re.MULTILINE,
)
_HIGH_EFFORT = frozenset({"high", "xhigh", "max"})


@dataclass(frozen=True, slots=True)
class Read:
    """The classifier's verdict and the facts the router filters on."""

    level: str
    score: int
    signals: tuple[str, ...]
    prompt_tokens: int  # estimated from the text (about 4 characters a token) and images
    images: int
    tools: bool
    code: bool
    json_schema: bool

    @property
    def expected_output(self) -> int:
        return EXPECTED_OUTPUT[self.level]


def classify(body: dict[str, Any]) -> Read:
    """Score the request; see the module docstring for the table."""
    texts: list[str] = []
    images = _collect(body.get("system"), texts)
    messages = body.get("messages")
    messages = messages if isinstance(messages, list) else []
    for message in messages:
        if isinstance(message, dict):
            images += _collect(message.get("content"), texts)
    text = "\n".join(texts)
    signals: list[str] = []
    score = 0

    def add(points: int, name: str) -> None:
        nonlocal score
        if points:
            score += points
            signals.append(name)

    chars = len(text)
    add(3 if chars > 32_000 else 2 if chars > 8000 else 1 if chars > 2000 else 0, "long")
    code = "```" in text or len(_CODE_LINE.findall(text)) >= 2
    add(1 if code else 0, "code")
    add(1 if _MATH.search(text) else 0, "math")
    add(1 if _ANALYSIS.search(text) else 0, "analysis")
    tools = body.get("tools")
    n_tools = len(tools) if isinstance(tools, list) else 0
    add(2 if n_tools > 5 else 1 if n_tools else 0, "tools")
    add(_effort_points(body), "reasoning")
    add(1 if images else 0, "images")
    schema = _wants_schema(body.get("response_format"))
    add(1 if schema else 0, "json_schema")
    add(1 if len(messages) > 8 else 0, "long_conversation")
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    add(1 if isinstance(asked, int) and asked >= 4000 else 0, "long_output")
    level = LEVELS[0] if score <= 1 else LEVELS[1] if score <= 3 else LEVELS[2]
    prompt = chars // CHARS_PER_TOKEN + TOKENS_PER_MESSAGE * max(1, len(messages))
    return Read(
        level=level,
        score=score,
        signals=tuple(signals),
        prompt_tokens=prompt + TOKENS_PER_IMAGE * images,
        images=images,
        tools=bool(n_tools),
        code=code,
        json_schema=schema,
    )


def expected_output_tokens(read: Read, body: dict[str, Any]) -> int:
    """Output tokens to price the estimate with: the level's expectation, capped by the
    request's own ``max_tokens`` (times ``n``)."""
    out = read.expected_output
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0:
        out = min(out, asked)
    n = body.get("n")
    return out * (n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else 1)


def _collect(content: Any, texts: list[str]) -> int:
    """Append the text of a content value (string or parts); return its image count."""
    if isinstance(content, str):
        texts.append(content)
        return 0
    if not isinstance(content, list):
        return 0
    images = 0
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("image_url", "image", "input_image"):
            images += 1
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "tool_result":
            images += _collect(part.get("content"), texts)
    return images


def _effort_points(body: dict[str, Any]) -> int:
    effort = body.get("reasoning_effort")
    reasoning = body.get("reasoning")
    if effort is None and isinstance(reasoning, dict):
        effort = reasoning.get("effort")
    if effort in _HIGH_EFFORT:
        return 2
    if effort == "medium":
        return 1
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        return 2
    return 0


def _wants_schema(response_format: Any) -> bool:
    return isinstance(response_format, dict) and response_format.get("type") == "json_schema"
