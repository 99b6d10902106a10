"""The replay similarity (pure): bounds, identity, symmetry and ordering."""

from __future__ import annotations

from aigw.replays.capture import output_text
from aigw.replays.similarity import similarity


def test_identical_texts_score_one_whatever_the_case_and_spacing() -> None:
    assert similarity("Paris is the capital.", "Paris is the capital.") == 1.0
    assert similarity("Paris  is the\ncapital.", "paris is the capital.") == 1.0
    assert similarity("", "") == 1.0


def test_unrelated_texts_score_near_zero_and_close_ones_high() -> None:
    base = "The quick brown fox jumps over the lazy dog"
    close = "The quick brown fox jumped over the lazy dog"
    far = "Quantum chromodynamics binds quarks with gluons"
    assert similarity(base, "") == 0.0
    assert 0.8 < similarity(base, close) < 1.0
    assert similarity(base, far) < 0.25
    assert similarity(base, close) > similarity(base, far)
    assert similarity(base, close) == similarity(close, base)


def test_scores_stay_in_range() -> None:
    pairs = [("a", "a a a a"), ("x" * 500, "x"), ("1 2 3", "3 2 1"), ("héllo", "hello")]
    for a, b in pairs:
        assert 0.0 <= similarity(a, b) <= 1.0


def test_output_text_reads_whole_answers_and_streams() -> None:
    whole = b'{"choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"}}]}'
    assert output_text([whole], streamed=False) == "Hi there"
    stream = [
        b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}\n\n',
        b'data: {"choices":[{"index":0,"delta":{"content":" there"}}]}\n\ndata: [DONE]\n\n',
    ]
    assert output_text(stream, streamed=True) == "Hi there"
    calls = (
        b'{"choices":[{"message":{"content":null,"tool_calls":[{"function":'
        b'{"name":"f","arguments":"{\\"a\\":1}"}}]}}]}'
    )
    assert output_text([calls], streamed=False) == '{"a":1}'
    assert output_text([b"not json"], streamed=False) is None
    assert output_text([], streamed=True) is None
