"""Every tool listed with a precise schema, and bad arguments answered as tool errors that
name the field (never a JSON-RPC error, a 500 or a hang)."""

from __future__ import annotations

from typing import Any

from aigw.apidocs.llms import LINKS
from aigw.mcp.tools import TOOLS
from tests.mcp.conftest import mcp_calls, mcp_tools, payload
from tests.server.conftest import Stack

EXPECTED = {
    "chat", "embed", "generate_image", "generate_video", "generate_music", "generate_3d",
    "speak", "transcribe", "moderate", "rerank", "get_job", "cancel_job", "list_models",
    "search_models", "replay", "run_eval", "get_eval", "get_balance", "get_usage",
    "clear_cache",
}  # fmt: skip
REQUIRED = {
    "embed": ["model", "input"],
    "generate_image": ["model", "prompt"],
    "speak": ["model", "input", "voice"],
    "transcribe": ["model", "audio"],
    "moderate": ["input"],
    "rerank": ["model", "query", "documents"],
    "replay": ["source_request_id", "target_model"],
    "run_eval": ["name", "candidate_models", "dataset"],
    "get_eval": ["id"],
    "get_balance": [],
    "get_usage": [],
    "clear_cache": [],
}


async def test_list_tools_shows_every_tool_with_its_schema(stack: Stack) -> None:
    tools = {t.name: t for t in await mcp_tools(stack)}
    assert set(tools) == EXPECTED == set(TOOLS)
    for name, tool in tools.items():
        schema = tool.input_schema
        assert tool.description and schema["type"] == "object", name
        assert schema["additionalProperties"] is False, name
        assert set(schema["required"]) <= set(schema["properties"]), name
        for field, spec in schema["properties"].items():
            assert "type" in spec and spec.get("description"), (name, field)
    for name, required in REQUIRED.items():
        assert tools[name].input_schema["required"] == required, name
    embed = tools["embed"].input_schema["properties"]
    assert embed["encoding_format"]["enum"] == ["float", "base64"]
    assert tools["speak"].input_schema["properties"]["speed"]["maximum"] == 4


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("embed", {"model": "openai/text-embedding-3-small"}, "input"),
    ("embed", {"model": "openai/text-embedding-3-small", "input": 5}, "input"),
    ("embed", {"model": "openai/text-embedding-3-small", "input": ["a", ""]}, "input"),
    ("embed", {"model": "openai/text-embedding-3-small", "input": "x", "dimension": 3},
     "dimension"),
    ("embed", {"model": "openai/gpt-4o", "input": "x"}, "model"),
    ("embed", {"model": "nobody/none", "input": "x"}, "model"),
    ("generate_image", {"model": "openai/gpt-image-1", "prompt": "x", "n": 0}, "n"),
    ("speak", {"model": "openai/tts-1", "input": "hi", "voice": "alloy", "speed": 9}, "speed"),
    ("speak", {"model": "openai/tts-1", "input": "hi"}, "voice"),
    ("transcribe", {"model": "openai/whisper-1", "audio": "not base64!"}, "audio"),
    ("moderate", {"input": []}, "input"),
    ("rerank", {"model": "cohere/rerank-v3.5", "query": "q", "documents": []}, "documents"),
    ("rerank", {"model": "cohere/rerank-v3.5", "query": "q", "documents": [1]}, "documents"),
    ("replay", {"source_request_id": "req_x"}, "target_model"),
    ("replay", {"source_request_id": "req_x", "target_model": "nobody/none"}, "target_model"),
    ("run_eval", {"name": "x", "candidate_models": ["xai/grok-4.3"], "dataset": [{"q": 1}]},
     "dataset"),
    ("run_eval", {"name": "x", "candidate_models": "xai/grok-4.3", "dataset": []},
     "candidate_models"),
    ("get_usage", {"month": "April"}, "month"),
    ("get_usage", {"limit": 0}, "limit"),
    ("get_balance", {"x": 1}, "x"),
    ("chat", {"model": "xai/grok-4.3"}, "messages"),
    ("chat", {"model": "xai/grok-4.3", "prompt": 3}, "prompt"),
    ("list_models", {"limit": "ten"}, "limit"),
    ("generate_video", {"prompt": "x", "seed": "one"}, "seed"),
]  # fmt: skip


async def test_bad_arguments_are_tool_errors_naming_the_field(stack: Stack) -> None:
    results = await mcp_calls(stack, [(name, args) for name, args, _ in BAD])
    for (name, args, param), result in zip(BAD, results, strict=True):
        assert result.is_error, (name, args)
        error = payload(result)["error"]
        assert error["param"] == param, (name, args, error)
        assert error["code"] in (400, 404) and error["message"], (name, error)


async def test_refused_calls_cost_nothing(stack: Stack) -> None:
    """A call refused for its model never reaches billing: the wallet does not move."""
    before, embed, speak, after = await mcp_calls(
        stack,
        [
            ("get_balance", {}),
            ("embed", {"model": "openai/tts-1", "input": "x"}),
            ("speak", {"model": "openai/text-embedding-3-small", "input": "x", "voice": "a"}),
            ("get_balance", {}),
        ],
    )
    for refused in (embed, speak):
        assert refused.is_error and payload(refused)["error"]["param"] == "model"
    assert payload(before)["available_cents"] == payload(after)["available_cents"]
    assert payload(before)["balance_cents"] == payload(after)["balance_cents"]


def test_llms_txt_names_every_tool() -> None:
    for name in TOOLS:
        assert name in LINKS, name
