"""Request helpers the upstream codecs share: generation parameters under the upstream's
names, in a fixed order (the upstream body is sent as serialised, so order is part of it)."""

from __future__ import annotations

from aigw.formats.openai_translate import generation_params

NAMES = {"temperature": "temperature", "top_p": "topP", "seed": "seed"}


def test_set_parameters_are_renamed_in_order_then_cap_and_stops() -> None:
    body = {"seed": 7, "stop": "END", "max_tokens": 100, "top_p": 0.9, "temperature": 0}
    got = generation_params(body, NAMES, max_tokens="maxOutputTokens", stop="stopSequences")
    assert list(got.items()) == [
        ("temperature", 0),
        ("topP", 0.9),
        ("seed", 7),
        ("maxOutputTokens", 100),
        ("stopSequences", ["END"]),
    ]


def test_unset_parameters_are_left_out() -> None:
    body = {"temperature": None, "max_tokens": True, "stop": ["", 3], "frequency_penalty": 1}
    assert generation_params(body, NAMES, max_tokens="max_tokens", stop="stop") == {}


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    body = {"max_tokens": 100, "max_completion_tokens": 50, "stop": ["a", "", "b"]}
    got = generation_params(body, NAMES, max_tokens="max_tokens", stop="stop_sequences")
    assert got == {"max_tokens": 50, "stop_sequences": ["a", "b"]}
