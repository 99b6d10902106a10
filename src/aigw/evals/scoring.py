"""Scoring an eval (pure): matching an answer against the expected one, the judge's prompt
and the parsing of its verdict, per-model summaries and the winner."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import orjson

METRICS = ("quality", "cost", "speed")
MATCHES = ("normalized", "exact", "json", "contains")
_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = ".,;:!?\"'`"
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)

JUDGE_SYSTEM = (
    "You are a strict grader. Rate how well the answer responds to the question, from 0 "
    "(wrong or useless) to 10 (fully correct and helpful). Reply with the number only."
)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", text).strip().strip(_EDGE_PUNCT).strip()


def _json_value(text: str) -> Any:
    fenced = _FENCE.match(text.strip())
    return orjson.loads(fenced.group(1) if fenced else text)


def match_mode(expected: Any, item_match: Any, run_match: str) -> str:
    """The item's own ``match``, else JSON for a non-string expected value, else the run's."""
    if isinstance(item_match, str) and item_match in MATCHES:
        return item_match
    if not isinstance(expected, str):
        return "json"
    return run_match


def matches(answer: str, expected: Any, mode: str) -> bool:
    """Whether ``answer`` is right: exact, normalized text, contains, or equal JSON values."""
    if mode == "json":
        try:
            want = _json_value(expected) if isinstance(expected, str) else expected
            return bool(_json_value(answer) == want)
        except (orjson.JSONDecodeError, TypeError):
            return False
    want = expected if isinstance(expected, str) else orjson.dumps(expected).decode()
    if mode == "exact":
        return answer == want
    if mode == "contains":
        return normalize(want) in normalize(answer)
    return normalize(answer) == normalize(want)


def judge_messages(question: str, answer: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": JUDGE_SYSTEM},
        {"role": "user", "content": f"Question:\n{question}\n\nAnswer:\n{answer}\n\nScore (0-10):"},
    ]


_OUT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/|out of)\s*10\b", re.I)
_LABELLED = re.compile(r"(?:score|rating|grade)\s*(?:is|of|:|=)?\s*\**\s*(\d+(?:\.\d+)?)", re.I)
_NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?!\.?\d)")


def parse_judge(text: str) -> float | None:
    """The judge's 0-10 verdict as 0-1: "7/10", "Score: 7", "**8**", "I'd say 6." ...;
    None when it gave no number in range."""
    for pattern in (_OUT_OF, _LABELLED, _NUMBER):
        for found in pattern.finditer(text):
            value = float(found.group(1))
            if 0 <= value <= 10:
                return round(value / 10, 6)
    return None


@dataclass(slots=True)
class ItemResult:
    model: str
    index: int
    ok: bool
    output: str | None
    score: float | None  # 0-1; None: not scored
    cost: int  # micro-cents of the candidate's call
    judge_cost: int
    latency_ms: int
    error: str | None = None
    request_id: str | None = None  # the candidate call's request (log and ledger)

    def view(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "index": self.index,
            "request_id": self.request_id,
            "ok": self.ok,
            "output": self.output,
            "score": self.score,
            "cost_micro_cents": self.cost,
            "latency_ms": self.latency_ms,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class ModelSummary:
    score: float | None
    cost: int  # micro-cents over every item
    judge_cost: int
    latency_ms: int  # mean over successful calls
    errors: int
    items: int

    def view(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "cost_cents": self.cost / 1_000_000,
            "cost_micro_cents": self.cost,
            "judge_cost_cents": self.judge_cost / 1_000_000,
            "latency_ms": self.latency_ms,
            "errors": self.errors,
            "items": self.items,
        }


def summarize(models: list[str], results: list[ItemResult]) -> dict[str, ModelSummary]:
    out: dict[str, ModelSummary] = {}
    for model in models:
        mine = [r for r in results if r.model == model]
        scored = [r.score for r in mine if r.score is not None]
        ok = [r for r in mine if r.ok]
        out[model] = ModelSummary(
            score=round(sum(scored) / len(scored), 6) if scored else None,
            cost=sum(r.cost for r in mine),
            judge_cost=sum(r.judge_cost for r in mine),
            latency_ms=round(sum(r.latency_ms for r in ok) / len(ok)) if ok else 0,
            errors=len(mine) - len(ok),
            items=len(mine),
        )
    return out


def winner(metric: str, models: list[str], summary: dict[str, ModelSummary]) -> str | None:
    """The best candidate for ``metric``; ties go to the cheaper, then faster, then the one
    listed first. A model that answered nothing cannot win."""

    def rank(model: str) -> tuple[Any, ...]:
        s = summary[model]
        score = -(s.score or 0.0)
        if metric == "cost":
            return (s.errors, s.cost, score, s.latency_ms, models.index(model))
        if metric == "speed":
            return (s.errors, s.latency_ms, score, s.cost, models.index(model))
        return (score, s.errors, s.cost, s.latency_ms, models.index(model))

    alive = [m for m in models if summary[m].errors < summary[m].items]
    return min(alive, key=rank) if alive else None
