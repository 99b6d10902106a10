"""The SSE framing checks the stream taps rely on to forward whole reads untouched."""

from __future__ import annotations

import pytest

from aigw.formats.sse import first_malformed_event, one_line_events

EVENT = b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'
DONE = b"data: [DONE]\n\n"


@pytest.mark.parametrize(
    ("ready", "events"),
    [
        (b"", 0),
        (EVENT, 1),
        (EVENT * 3, 3),
        (EVENT * 3 + DONE, 4),
        (DONE, 1),
        (EVENT + DONE, 2),
    ],
)
def test_one_line_events_counts_openai_framing(ready: bytes, events: int) -> None:
    assert one_line_events(ready) == events
    assert first_malformed_event(ready) == -1


@pytest.mark.parametrize(
    "ready",
    [
        EVENT.replace(b"\n\n", b"\r\n\r\n"),  # CRLF framing
        b"event: delta\n" + EVENT,  # a named event
        EVENT + b": keep-alive\n\n" + EVENT,  # a comment between events
        EVENT + b'data: {"a":\ndata: 1}\n\n',  # one event's data over two lines
        EVENT + b"\n\n" + EVENT,  # an empty block between events
        EVENT + b"data: [1]\n\n",  # data that is not an object
        EVENT[:-1],  # not ended
    ],
)
def test_one_line_events_refuses_anything_else(ready: bytes) -> None:
    """Anything but one-line ``data: {...}`` events goes to the exact, event-by-event check."""
    assert one_line_events(ready) == -1


def test_the_exact_check_still_finds_the_bad_event() -> None:
    ready = EVENT + b"data: [1]\n\n" + EVENT
    assert first_malformed_event(ready) == len(EVENT)
