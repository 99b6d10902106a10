"""What to answer, independent of any wire format.

A format module parses its request into a ``SimRequest``; ``plan_answer`` decides the reply
(text, reasoning, tool calls, JSON) as token pieces; the format module renders the ``Answer``
as a body or a stream. Adding Anthropic or Gemini means a new parser and renderer, nothing here.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from aigw.simulator import content, schema

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# "use the weather tool", "call a tool", "using tools": the user asks for a tool without naming it.
_ASKS_FOR_TOOL = re.compile(r"\b(?:use|call|using|invoke|run)\b[^.?!]{0,30}\btools?\b")
_REASONING_TOKENS = {"minimal": 12, "low": 32, "medium": 80, "high": 160, "xhigh": 240}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the client offered."""

    name: str
    parameters: dict[str, Any]
    description: str = ""


@dataclass(frozen=True, slots=True)
class SimRequest:
    """The parts of a chat request that shape the answer, whatever format it came in."""

    model: str
    prompt_text: str
    last_user_text: str
    last_role: str
    prompt_tokens: int
    n: int = 1
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str = "auto"
    forced_tool: str | None = None
    parallel_tool_calls: bool = True
    json_mode: bool = False
    json_schema: dict[str, Any] | None = None
    reasoning_effort: str | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    stream: bool = False
    include_usage: bool = False
    service_tier: str = "default"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call; ``fragments`` are how its arguments are split when streamed."""

    id: str
    name: str
    arguments: str
    fragments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Choice:
    """One generated alternative; ``finish_reason`` uses OpenAI's names (stop/length/tool_calls)."""

    index: int
    reasoning: tuple[str, ...]
    content: tuple[str, ...]
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    content_text: str = field(default="")
    reasoning_text: str = field(default="")

    @property
    def completion_tokens(self) -> int:
        calls = sum(
            content.count_tokens(c.arguments) + content.count_tokens(c.name) + 3
            for c in self.tool_calls
        )
        return len(self.reasoning) + len(self.content) + calls


@dataclass(frozen=True, slots=True)
class Answer:
    """The full reply: choices plus usage totals over all of them."""

    choices: tuple[Choice, ...]
    prompt_tokens: int

    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.choices)

    @property
    def reasoning_tokens(self) -> int:
        return sum(len(c.reasoning) for c in self.choices)


def plan_answer(
    req: SimRequest, output_tokens: int | None, length_range: tuple[int, int]
) -> Answer:
    """Decide the reply to ``req``; same request (and seed) gives the same answer.

    ``output_tokens`` forces the visible answer length; otherwise it is drawn from
    ``length_range``. ``max_tokens`` caps reasoning plus answer, as OpenAI's does.
    """
    base = content.seed_of(req.model, req.prompt_text, req.seed, output_tokens)
    topics = content.topics_of(req.last_user_text or req.prompt_text)
    choices = tuple(
        _plan_choice(req, i, random.Random(base + i), topics, output_tokens, length_range)
        for i in range(req.n)
    )
    return Answer(choices=choices, prompt_tokens=req.prompt_tokens)


def _plan_choice(
    req: SimRequest,
    index: int,
    rng: random.Random,
    topics: list[str],
    output_tokens: int | None,
    length_range: tuple[int, int],
) -> Choice:
    budget = req.max_tokens
    reasoning: list[str] = []
    if req.reasoning_effort and req.reasoning_effort != "none":
        wanted = _REASONING_TOKENS.get(req.reasoning_effort, 80)
        reasoning = content.reasoning(rng, topics, wanted)
        if budget is not None and len(reasoning) >= budget:
            return _choice(index, reasoning[:budget], [], (), "length")
        budget = None if budget is None else budget - len(reasoning)

    calls = _plan_tool_calls(req, rng, topics)
    if calls:
        return _choice(index, reasoning, [], calls, "tool_calls")

    if req.json_schema is not None or req.json_mode:
        text = _json_text(req, rng, topics)
        tokens = content.tokenize(text)
    else:
        exact = output_tokens is not None
        target = output_tokens if output_tokens is not None else rng.randint(*length_range)
        tokens = content.prose(rng, topics, target, exact)
    finish = "stop"
    if req.stop:
        tokens = _apply_stop(tokens, req.stop)
    if budget is not None and len(tokens) > budget:
        tokens, finish = tokens[:budget], "length"
    return _choice(index, reasoning, tokens, (), finish)


def _choice(
    index: int, reasoning: list[str], tokens: list[str], calls: tuple[ToolCall, ...], finish: str
) -> Choice:
    return Choice(
        index=index,
        reasoning=tuple(reasoning),
        content=tuple(tokens),
        tool_calls=calls,
        finish_reason=finish,
        content_text="".join(tokens),
        reasoning_text="".join(reasoning),
    )


def _apply_stop(tokens: list[str], stops: tuple[str, ...]) -> list[str]:
    text = "".join(tokens)
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return tokens if cut < 0 else content.tokenize(text[:cut])


def _json_text(req: SimRequest, rng: random.Random, topics: list[str]) -> str:
    if req.json_schema is not None:
        value = schema.example(req.json_schema, rng, topics)
    else:
        value = {"topic": topics[0], "answer": content.phrase(rng, topics), "confidence": 0.87}
    return orjson.dumps(value).decode()


def _wants_tool(req: SimRequest) -> list[ToolSpec]:
    """Tools to call under tool_choice "auto": the ones the last user turn names, if any."""
    if req.last_role != "user":
        return []
    text = req.last_user_text.lower()
    named = [t for t in req.tools if t.name.lower() in text]
    if named:
        return named
    if _ASKS_FOR_TOOL.search(text):
        return list(req.tools[:1])
    return []


def _plan_tool_calls(
    req: SimRequest, rng: random.Random, topics: list[str]
) -> tuple[ToolCall, ...]:
    if not req.tools or req.tool_choice == "none":
        return ()
    if req.forced_tool is not None:
        chosen = [t for t in req.tools if t.name == req.forced_tool][:1]
    else:
        chosen = _wants_tool(req)
        if not chosen and req.tool_choice == "required":
            chosen = list(req.tools[:1])
    if not req.parallel_tool_calls:
        chosen = chosen[:1]
    return tuple(_tool_call(spec, rng, topics) for spec in chosen)


def _tool_call(spec: ToolSpec, rng: random.Random, topics: list[str]) -> ToolCall:
    args = orjson.dumps(schema.example(spec.parameters, rng, topics)).decode()
    fragments: list[str] = []
    pieces = content.tokenize(args)
    i = 0
    while i < len(pieces):
        step = rng.randint(1, 3)
        fragments.append("".join(pieces[i : i + step]))
        i += step
    call_id = "call_" + "".join(rng.choices(_ALNUM, k=24))
    return ToolCall(id=call_id, name=spec.name, arguments=args, fragments=tuple(fragments))


@dataclass(frozen=True, slots=True)
class Script:
    """A scripted reply: requests for ``model`` (any when None) whose last user turn contains
    ``contains`` get exactly ``text`` (how tests steer evals and judges per model)."""

    contains: str
    text: str
    model: str | None = None

    def applies(self, req: SimRequest) -> bool:
        if self.model is not None and self.model != req.model:
            return False
        return self.contains in (req.last_user_text or req.prompt_text)


def scripted_answer(req: SimRequest, text: str) -> Answer:
    tokens = content.tokenize(text)
    choices = tuple(_choice(i, [], tokens, (), "stop") for i in range(req.n))
    return Answer(choices=choices, prompt_tokens=req.prompt_tokens)
