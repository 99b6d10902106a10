"""Format-independent parts: tokens, prose, JSON-schema values, answer planning."""

from __future__ import annotations

import random

import pytest

from aigw.simulator import content, schema
from aigw.simulator.answer import SimRequest, ToolSpec, plan_answer
from aigw.simulator.faults import Fault, FaultQueue, error_reply, mask_key


def _req(text: str = "Explain photosynthesis to a child.", **kw: object) -> SimRequest:
    return SimRequest(
        model="m", prompt_text=f"user: {text}", last_user_text=text, last_role="user",
        prompt_tokens=10, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize("text", ["", "Hello, world!", "  a\n\nb  ", "supercalifragilistic 42."])
def test_tokenize_round_trips(text: str) -> None:
    assert "".join(content.tokenize(text)) == text
    assert content.count_tokens(text) == len(content.tokenize(text))


def test_prose_is_plain_english_and_on_topic() -> None:
    tokens = content.prose(random.Random(1), ["photosynthesis"], 120, exact=False)
    text = "".join(tokens)
    assert "photosynthesis" in text
    assert "lorem" not in text.lower()
    assert text.endswith(".")
    assert len(tokens) >= 100


def test_exact_length() -> None:
    assert len(content.prose(random.Random(2), ["x"], 37, exact=True)) == 37


def test_same_prompt_same_answer_seed_changes_it() -> None:
    length = (20, 160)
    a = plan_answer(_req(), None, length).choices[0].content_text
    assert a == plan_answer(_req(), None, length).choices[0].content_text
    assert a != plan_answer(_req(seed=7), None, length).choices[0].content_text


def test_max_tokens_caps_reasoning_plus_content() -> None:
    answer = plan_answer(_req(max_tokens=50, reasoning_effort="medium"), None, (200, 200))
    choice = answer.choices[0]
    assert choice.finish_reason == "length"
    assert answer.completion_tokens == 50
    assert answer.reasoning_tokens == 50  # medium reasoning alone exceeds the budget


def test_reasoning_tokens_counted() -> None:
    answer = plan_answer(_req(reasoning_effort="low"), 30, (20, 160))
    assert answer.reasoning_tokens == 32
    assert answer.completion_tokens == 32 + 30


def test_stop_sequence_truncates() -> None:
    answer = plan_answer(_req(stop=("\n\n", ".")), None, (100, 100))
    text = answer.choices[0].content_text
    assert "." not in text and "\n\n" not in text
    assert answer.choices[0].finish_reason == "stop"


WEATHER = ToolSpec(
    "get_weather",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "unit", "days"],
    },
)
CLOCK = ToolSpec("get_time", {"type": "object", "properties": {}})


@pytest.mark.parametrize(
    ("text", "choice", "expected"),
    [
        ("What is the weather in Paris?", "auto", []),
        ("Use get_weather for Paris", "auto", ["get_weather"]),
        ("Please use a tool to check", "auto", ["get_weather"]),
        ("call get_weather and get_time", "auto", ["get_weather", "get_time"]),
        ("call get_weather and get_time", "none", []),
        ("Hello", "required", ["get_weather"]),
    ],
)
def test_tool_choice(text: str, choice: str, expected: list[str]) -> None:
    req = _req(text, tools=(WEATHER, CLOCK), tool_choice=choice)
    calls = plan_answer(req, None, (20, 40)).choices[0].tool_calls
    assert [c.name for c in calls] == expected


def test_forced_tool_and_no_parallel() -> None:
    req = _req("call get_weather and get_time", tools=(WEATHER, CLOCK), forced_tool="get_time")
    assert [c.name for c in plan_answer(req, None, (20, 40)).choices[0].tool_calls] == ["get_time"]
    req = _req("call get_weather and get_time", tools=(WEATHER, CLOCK), parallel_tool_calls=False)
    assert len(plan_answer(req, None, (20, 40)).choices[0].tool_calls) == 1


def test_no_tool_call_after_tool_result() -> None:
    req = SimRequest(
        model="m", prompt_text="...", last_user_text="use get_weather", last_role="tool",
        prompt_tokens=5, tools=(WEATHER,),
    )  # fmt: skip
    choice = plan_answer(req, None, (20, 40)).choices[0]
    assert choice.tool_calls == () and choice.finish_reason == "stop"


def test_schema_values() -> None:
    spec = {
        "type": "object",
        "$defs": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}},
                          "required": ["name"]}},
        "properties": {
            "city": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "pet": {"$ref": "#/$defs/Pet"},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "integer"}]},
            "kind": {"const": "fixed"},
            "ok": {"type": "boolean"},
        },
        "required": ["city", "tags", "score", "pet", "maybe", "kind", "ok"],
    }  # fmt: skip
    value = schema.example(spec, random.Random(3), ["topic"])
    assert set(value) == set(spec["properties"])
    assert value["city"] in ("Paris", "Tokyo", "London", "Lisbon", "Toronto", "Nairobi", "Seoul")
    assert len(value["tags"]) >= 2 and all(isinstance(t, str) for t in value["tags"])
    assert 0 <= value["score"] <= 1
    assert isinstance(value["pet"]["name"], str)
    assert isinstance(value["maybe"], int)
    assert value["kind"] == "fixed" and isinstance(value["ok"], bool)


def test_fault_queue_precedence_and_rate() -> None:
    queue = FaultQueue(seed=1)
    queue.add(Fault("500"), 2)
    header = Fault("401")
    assert queue.pick(header, None, 0.0) is header
    assert queue.pick(None, None, 0.0) == Fault("500")
    assert queue.pick(None, None, 0.0) == Fault("500")
    assert queue.pick(None, None, 0.0) is None
    hits = sum(queue.pick(None, Fault("503"), 0.25) is not None for _ in range(2000))
    assert 400 < hits < 600


def test_error_replies() -> None:
    rate = error_reply(Fault("429", retry_after=7), model="m", api_key="k", retry_after=1)
    assert (rate.status, rate.type, rate.code, rate.retry_after) == (
        429, "requests", "rate_limit_exceeded", 7,
    )  # fmt: skip
    assert error_reply(Fault("503", status=529), model="m", api_key="", retry_after=1).status == 529
    assert error_reply(Fault("504"), model="m", api_key="", retry_after=1).type == "server_error"
    assert mask_key("sk-abcdefghijklmnop") == "sk-ab**********mnop"
    with pytest.raises(ValueError):
        Fault("explode")
