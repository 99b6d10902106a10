"""The providers of the contract matrix and the cases each one opts out of, with the reason.

Every provider runs every case in ``test_contract.py`` unless it is listed here. An opt-out
is a fact about the provider's API, written down where a reader looks for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Provider:
    name: str
    model: str  # a catalog id whose provider the test stack points at the simulator
    opt_out: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


SAME_FORMAT = "same-format pass-through: every parameter is forwarded, nothing is dropped"

PROVIDERS = [
    Provider("openai", "openai/gpt-4o-mini", {"warning": SAME_FORMAT, "refusal": SAME_FORMAT}),
    Provider("anthropic", "anthropic/claude-haiku-4-5"),
    Provider("gemini", "google/gemini-2.5-flash"),
    Provider(
        "cohere",
        "cohere/command-a-03-2025",
        {
            "error 429_quota": "Cohere answers an exhausted trial key with the same 429 as a "
            "rate limit, with no structured field to tell them apart",
            "reasoning usage": "Cohere's usage has no separate count of thinking tokens",
        },
    ),
    Provider("azure", "azure/gpt-4o-mini", {"warning": SAME_FORMAT, "refusal": SAME_FORMAT}),
    Provider(
        "bedrock",
        "bedrock/us.anthropic.claude-sonnet-4-6",
        {
            "image URL input": "Converse takes images only as bytes; the gateway does not "
            "fetch URLs (it refuses them with a 400 naming the part)",
            "structured output": "Converse has no JSON-schema output for every model; the "
            "gateway refuses response_format rather than answer unstructured",
            "reasoning usage": "Converse's usage has no separate count of reasoning tokens",
        },
    ),
]
