"""The official openai SDK (sync and async) against the simulator over real sockets."""

from __future__ import annotations

import asyncio
import json

import openai
import pydantic
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam

from aigw.simulator import SimConfig, start_simulator
from aigw.simulator.content import count_tokens

USER: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Invent a new holiday and describe its traditions."}
]
WEATHER_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}


def test_completion_shape_and_usage(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="my-model", messages=USER)
    assert raw.headers["x-request-id"].startswith("req_")
    done = raw.parse()
    assert done.id.startswith("chatcmpl-") and done.object == "chat.completion"
    assert done.model == "my-model"
    choice = done.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert choice.message.refusal is None and choice.message.annotations == []
    text = choice.message.content or ""
    assert "holiday" in text or "traditions" in text
    assert done.usage is not None
    assert done.usage.completion_tokens == count_tokens(text)
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    assert done.usage.prompt_tokens_details is not None
    assert done.usage.completion_tokens_details is not None
    assert done.usage.completion_tokens_details.reasoning_tokens == 0
    assert done.system_fingerprint and done.service_tier == "default"


def test_deterministic_and_seeded(client: openai.OpenAI) -> None:
    def text(**kw: object) -> str:
        out = client.chat.completions.create(model="m", messages=USER, **kw)  # type: ignore[call-overload]
        return str(out.choices[0].message.content)

    assert text() == text()
    assert text(seed=1) == text(seed=1) != text(seed=2)


def test_stream_with_usage_matches_non_stream(client: openai.OpenAI) -> None:
    full = client.chat.completions.create(model="m", messages=USER)
    stream = client.chat.completions.create(
        model="m", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert text == full.choices[0].message.content
    assert chunks[-1].usage.completion_tokens == len(chunks) - 3  # role, finish, usage chunks


def test_max_tokens_n_and_stop(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(model="m", messages=USER, max_completion_tokens=5, n=3)
    assert [c.index for c in out.choices] == [0, 1, 2]
    assert all(c.finish_reason == "length" for c in out.choices)
    assert out.usage is not None and out.usage.completion_tokens == 15
    out = client.chat.completions.create(model="m", messages=USER, stop=["."])
    assert "." not in (out.choices[0].message.content or "")


def test_tool_call_non_stream(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "What's the weather in Paris? Use get_weather."}],
        tools=[WEATHER_TOOL],
    )
    choice = out.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls or []
    assert len(calls) == 1 and calls[0].id.startswith("call_")
    fn = calls[0].function  # type: ignore[union-attr]
    args = json.loads(fn.arguments)
    assert fn.name == "get_weather" and isinstance(args["city"], str)
    assert args["unit"] in ("celsius", "fahrenheit")


def test_tool_call_stream_fragments(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        stream=True,
    )
    chunks = list(stream)
    first = chunks[0].choices[0].delta
    assert first.role == "assistant" and first.content is None
    head = (first.tool_calls or [])[0]
    assert head.id and head.function and head.function.name == "get_weather"
    assert head.function.arguments == ""
    fragments = [
        tc.function.arguments or ""
        for c in chunks[1:-1]
        for tc in c.choices[0].delta.tool_calls or []
        if tc.function
    ]
    assert len(fragments) > 3
    assert set(json.loads("".join(fragments))) == {"city", "unit"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


class Answer(pydantic.BaseModel):
    city: str
    population: int
    landmarks: list[str]


def test_structured_output_parse(client: openai.OpenAI) -> None:
    out = client.chat.completions.parse(
        model="m",
        messages=[{"role": "user", "content": "Largest city in Japan?"}],
        response_format=Answer,
    )
    parsed = out.choices[0].message.parsed
    assert isinstance(parsed, Answer) and parsed.landmarks


def test_json_object_mode(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(
        model="m", messages=USER, response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(out.choices[0].message.content or ""), dict)


def test_reasoning_effort(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(model="m", messages=USER, reasoning_effort="low")
    message = out.choices[0].message
    assert message.model_extra and message.model_extra["reasoning_content"]
    assert out.usage and out.usage.completion_tokens_details
    assert out.usage.completion_tokens_details.reasoning_tokens == 32
    stream = client.chat.completions.create(
        model="m", messages=USER, reasoning_effort="low", stream=True
    )
    kinds = []
    for chunk in stream:
        delta = chunk.choices[0].delta if chunk.choices else None
        if delta and (delta.model_extra or {}).get("reasoning_content"):
            kinds.append("r")
        elif delta and delta.content:
            kinds.append("c")
    assert kinds.index("c") == kinds.count("r") == 32  # all reasoning before any content


def test_logprobs_and_image_parts(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(
        model="m",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe this picture"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            }
        ],
        logprobs=True,
        top_logprobs=2,
        max_tokens=4,
    )
    assert out.usage and out.usage.prompt_tokens > 85
    logprobs = out.choices[0].logprobs
    assert logprobs and logprobs.content and len(logprobs.content) == 4
    assert len(logprobs.content[0].top_logprobs) == 2


def test_models_list(client: openai.OpenAI) -> None:
    assert "sim-gpt-4o-mini" in [m.id for m in client.models.list()]


def test_async_client_stream_and_start_simulator() -> None:
    async def main() -> tuple[str, int]:
        sim = await start_simulator(SimConfig(output_tokens=12))
        try:
            async with openai.AsyncOpenAI(
                base_url=sim.base_url, api_key="k", max_retries=0
            ) as client:
                stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
                text = "".join([c.choices[0].delta.content or "" async for c in stream])
                return text, sim.stats["streams_completed"]
        finally:
            await sim.stop()

    text, completed = asyncio.run(main())
    assert count_tokens(text) == 12 and completed == 1


def test_stream_n_choices_with_usage(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="m",
            messages=USER,
            n=2,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"x-sim-output-tokens": "6"},
        )
    )
    texts = ["", ""]
    for chunk in chunks[:-1]:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert all(count_tokens(t) == 6 for t in texts) and texts[0] != texts[1]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 12
