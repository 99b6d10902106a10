"""A chat answer in neutral terms, whole or as stream events (no I/O, no wire format).

Every codec in ``formats/`` decodes its provider's answer into these types and encodes them
for its client format, so N upstream formats and M client formats need N + M codecs, not
N x M translators. Finish reasons use OpenAI's vocabulary (``stop``, ``length``,
``tool_calls``, ``content_filter``), the gateway's lingua franca.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from aigw.core.usage import Usage
from aigw.errors import GatewayError


@dataclass(slots=True)
class ToolCall:
    """One function call; ``arguments`` is a JSON text. ``signature`` is an opaque token
    (Gemini's ``thoughtSignature``) that must go back with the call on the next turn."""

    id: str
    name: str
    arguments: str
    signature: str | None = None


@dataclass(slots=True)
class Completion:
    """A whole (non-streamed) answer.

    ``reasoning_signature`` is the provider's opaque proof of the reasoning (Anthropic's
    thinking signature), kept so the client can send it back with the next turn.
    """

    id: str
    model: str
    text: str = ""
    reasoning: str = ""
    reasoning_signature: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: Usage | None = None


# --- stream events -------------------------------------------------------------------------


@dataclass(slots=True)
class Started:
    """The answer began; ``id``/``model`` as the upstream named them (may be empty)."""

    id: str
    model: str


@dataclass(slots=True)
class TextDelta:
    text: str


@dataclass(slots=True)
class ReasoningDelta:
    text: str


@dataclass(slots=True)
class ReasoningSignature:
    signature: str


@dataclass(slots=True)
class ToolCallStart:
    """A tool call opens; its arguments follow as ``ToolArgsDelta`` with the same index."""

    index: int
    id: str
    name: str
    signature: str | None = None


@dataclass(slots=True)
class ToolArgsDelta:
    index: int
    fragment: str


@dataclass(slots=True)
class Finished:
    reason: str


@dataclass(slots=True)
class UsageReport:
    """Final usage; a later report replaces an earlier one (cumulative counters)."""

    usage: Usage


@dataclass(slots=True)
class StreamFailed:
    """The upstream reported an error inside an already started stream."""

    error: GatewayError


Event = (
    Started
    | TextDelta
    | ReasoningDelta
    | ReasoningSignature
    | ToolCallStart
    | ToolArgsDelta
    | Finished
    | UsageReport
    | StreamFailed
)


class StreamDecoder(Protocol):
    """Turns an upstream's stream bytes into events, incrementally.

    ``feed`` takes bytes exactly as they arrived (any split) and returns the events that are
    complete; ``finish`` flushes what is left at end of stream. ``done`` becomes true once
    the upstream's own end-of-answer marker was seen, so an early close can be told apart.
    """

    done: bool

    def feed(self, chunk: bytes) -> list[Event]: ...

    def finish(self) -> list[Event]: ...


def collect(events: list[Event], completion: Completion) -> Completion:
    """Fold stream events into ``completion`` (used to test decoders against whole answers)."""
    calls: dict[int, ToolCall] = {}
    for event in events:
        if isinstance(event, Started):
            completion.id = completion.id or event.id
            completion.model = completion.model or event.model
        elif isinstance(event, TextDelta):
            completion.text += event.text
        elif isinstance(event, ReasoningDelta):
            completion.reasoning += event.text
        elif isinstance(event, ReasoningSignature):
            completion.reasoning_signature = event.signature
        elif isinstance(event, ToolCallStart):
            calls[event.index] = ToolCall(event.id, event.name, "", event.signature)
        elif isinstance(event, ToolArgsDelta):
            calls[event.index].arguments += event.fragment
        elif isinstance(event, Finished):
            completion.finish_reason = event.reason
        elif isinstance(event, UsageReport):
            completion.usage = event.usage
    completion.tool_calls = [calls[i] for i in sorted(calls)]
    return completion


def replay(completion: Completion) -> list[Event]:
    """A whole answer as the stream events ``collect`` folds back into it, so any stream
    writer can serve it (a cache hit replayed as a stream).

    A signature without reasoning text still follows an empty ``ReasoningDelta``, so an
    Anthropic client gets a thinking block shaped like Anthropic's own (a thinking delta,
    then the signature); OpenAI's writer writes nothing for an empty delta.
    """
    events: list[Event] = [Started(completion.id, completion.model)]
    if completion.reasoning or completion.reasoning_signature:
        events.append(ReasoningDelta(completion.reasoning))
    if completion.reasoning_signature:
        events.append(ReasoningSignature(completion.reasoning_signature))
    if completion.text:
        events.append(TextDelta(completion.text))
    for index, call in enumerate(completion.tool_calls):
        events.append(ToolCallStart(index, call.id, call.name, call.signature))
        events.append(ToolArgsDelta(index, call.arguments))
    events.append(Finished(completion.finish_reason))
    events.append(UsageReport(completion.usage or Usage()))
    return events
