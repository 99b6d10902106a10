"""The auto-router's complexity read: each signal moves the score, levels follow the score."""

from __future__ import annotations

from typing import Any

from aigw.routing.complexity import EXPECTED_OUTPUT, classify, expected_output_tokens


def _chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "auto", "messages": [{"role": "user", "content": text}], **extra}


def test_a_short_question_is_simple() -> None:
    read = classify(_chat("What is the capital of France?"))
    assert read.level == "simple" and read.score == 0 and read.signals == ()
    assert not (read.code or read.tools or read.images or read.json_schema)


def test_each_signal_adds_to_the_score() -> None:
    base = classify(_chat("hello")).score
    cases = {
        "long": _chat("word " * 600),
        "code": _chat("fix this:\n```python\nprint(1)\n```"),
        "math": _chat("Prove that the integral of x is x^2/2."),
        "analysis": _chat("Explain the trade-offs step by step."),
        "tools": _chat("hi", tools=[{"type": "function", "function": {"name": "f"}}]),
        "reasoning": _chat("hi", reasoning_effort="medium"),
        "json_schema": _chat("hi", response_format={"type": "json_schema", "json_schema": {}}),
        "long_output": _chat("hi", max_tokens=8000),
    }
    for signal, body in cases.items():
        read = classify(body)
        assert signal in read.signals, signal
        assert read.score > base, signal


def test_levels_follow_the_score() -> None:
    moderate = classify(_chat("Debug this step by step:\n```js\nlet x = 1\n```"))
    assert moderate.level == "moderate" and moderate.score in (2, 3)
    complex_ = classify(
        _chat(
            "Prove the theorem; analyze the architecture step by step.\n```py\nf()\n```",
            reasoning_effort="high",
        )
    )
    assert complex_.level == "complex" and complex_.score >= 4


def test_length_tiers_and_many_tools() -> None:
    assert classify(_chat("x" * 2500)).score == 1
    assert classify(_chat("x" * 9000)).score == 2
    assert classify(_chat("x" * 40_000)).score == 3
    tools = [{"type": "function", "function": {"name": f"f{i}"}} for i in range(6)]
    assert classify(_chat("hi", tools=tools)).score == 2


def test_images_and_anthropic_shapes_are_read() -> None:
    openai_image = _chat("hi")
    openai_image["messages"][0]["content"] = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]
    read = classify(openai_image)
    assert read.images == 1 and "images" in read.signals
    assert read.prompt_tokens >= 1000, "an image is priced as about 1,000 prompt tokens"
    anthropic = {
        "model": "auto",
        "system": [{"type": "text", "text": "Be rigorous."}],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "data": "AAAA"}},
                    {"type": "text", "text": "Derive the equation."},
                ],
            }
        ],
    }
    read = classify(anthropic)
    assert read.images == 1
    assert {"reasoning", "math", "analysis", "images"} <= set(read.signals)


def test_code_lines_without_fences_count_as_code() -> None:
    read = classify(_chat("import os\ndef main():\n    pass\nclass A: ..."))
    assert read.code


def test_prompt_estimate_grows_with_text_and_messages() -> None:
    one = classify(_chat("a" * 400))
    many = classify({"messages": [{"role": "user", "content": "a" * 400}] * 3})
    assert many.prompt_tokens > one.prompt_tokens >= 100


def test_expected_output_is_capped_by_max_tokens_and_scaled_by_n() -> None:
    body = _chat("hello")
    read = classify(body)
    assert expected_output_tokens(read, body) == EXPECTED_OUTPUT["simple"]
    body = _chat("hello", max_tokens=50, n=3)
    assert expected_output_tokens(classify(body), body) == 150


def test_junk_shapes_do_not_crash() -> None:
    read = classify({"messages": "nope", "tools": "x", "reasoning_effort": 3})
    assert read.level == "simple"
    read = classify(
        {"messages": [None, {"content": [None, {"type": "tool_result", "content": "x"}]}]}
    )
    assert read.level == "simple"
