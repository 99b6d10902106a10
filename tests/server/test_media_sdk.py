"""The non-chat endpoints through the official openai SDK (and aigateway-py where it has a
method), over real sockets against the simulator: the answers, and that each ledger charge is
the catalog price of the usage the upstream reported."""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from typing import Any

import aigateway
import openai
import orjson
import pytest
from tests.harness import http
from tests.server.conftest import Stack

from aigw.billing.pricing import MICRO_CENTS_PER_USD, cost_micro_cents
from aigw.catalog.loader import builtin_catalog
from aigw.catalog.models import Price
from aigw.core.usage import Usage
from aigw.server.appkeys import DATABASE
from aigw.simulator import media_content as mc
from aigw.store import request_log


def _price(model_id: str) -> Price:
    model = builtin_catalog().get(model_id)
    assert model is not None, model_id
    return model.price


def _charge(stack: Stack, request_id: str) -> int:
    """What the ledger charged for one request (µ¢, positive)."""
    return stack.gw.charged(stack.account_id, request_id)


def _units(rate: Decimal | None, amount: Decimal | int) -> int:
    assert rate is not None
    return int((rate * Decimal(amount) * MICRO_CENTS_PER_USD).to_integral_value())


def _post(stack: Stack, path: str, body: Any) -> tuple[int, dict[str, Any], Any]:
    status, headers, raw = http(
        "POST", stack.gw.url + path, json=body, headers={"Authorization": f"Bearer {stack.key}"}
    )
    return status, orjson.loads(raw), headers


# --- embeddings ---------------------------------------------------------------------------


def test_embeddings_float_with_dimensions_and_exact_charge(stack: Stack) -> None:
    texts = ["the quick brown fox", "jumps over the lazy dog"]
    with stack.client() as client:
        raw = client.embeddings.with_raw_response.create(
            model="openai/text-embedding-3-small", input=texts, encoding_format="float",
            dimensions=8,
        )  # fmt: skip
    result = raw.parse()
    assert result.model == "openai/text-embedding-3-small"
    assert [d.index for d in result.data] == [0, 1]
    for text, item in zip(texts, result.data, strict=True):
        assert item.embedding == pytest.approx(mc.embedding(text, 8))
    sent = stack.last_upstream_request()
    assert sent["path"] == "/v1/embeddings"
    assert sent["body"]["model"] == "text-embedding-3-small" and sent["body"]["dimensions"] == 8
    tokens = result.usage.prompt_tokens
    assert tokens == sum(mc.tokens_of(t) for t in texts)
    expected = cost_micro_cents(_price("openai/text-embedding-3-small"), Usage(tokens))
    assert expected > 0
    assert _charge(stack, raw.headers["x-request-id"]) == expected
    assert result.usage.model_extra == {"cost": expected / MICRO_CENTS_PER_USD}
    assert raw.headers["x-aig-provider"] == "openai"
    stack.gw.flush_log()
    entry = stack.gw.call(request_log.get(stack.gw.app[DATABASE], raw.headers["x-request-id"]))
    assert entry is not None and entry.model == "openai/text-embedding-3-small"
    assert entry.prompt_tokens == tokens and entry.charged_micro_cents == expected


def test_embeddings_base64_is_the_sdk_default_and_decodes(stack: Stack) -> None:
    with stack.client() as client:
        result = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert stack.last_upstream_request()["body"]["encoding_format"] == "base64"
    assert len(result.data[0].embedding) == 1536
    assert result.data[0].embedding == pytest.approx(mc.embedding("hello", 1536), abs=1e-6)


def test_embeddings_of_token_arrays(stack: Stack) -> None:
    with stack.client() as client:
        result = client.embeddings.create(
            model="openai/text-embedding-3-large", input=[[1, 2, 3], [4, 5]],
            encoding_format="float",
        )  # fmt: skip
    assert len(result.data) == 2 and len(result.data[0].embedding) == 3072
    assert result.usage.prompt_tokens == 5


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "openai/text-embedding-3-small"}, 400, "input"),
        ({"model": "openai/text-embedding-3-small", "input": 5}, 400, "input"),
        ({"model": "openai/text-embedding-3-small", "input": []}, 400, "input"),
        ({"model": "openai/text-embedding-3-small", "input": ["a", 3]}, 400, "input"),
        ({"input": "hi"}, 400, "model"),
        ({"model": "openai/gpt-4o", "input": "hi"}, 400, "model"),
        ({"model": "nobody/none", "input": "hi"}, 404, "model"),
        ({"model": "text-embedding-3-small", "input": "hi", "dimensions": 0}, 400, "dimensions"),
        ({"model": "text-embedding-3-small", "input": "x", "encoding_format": "hex"}, 400,
         "encoding_format"),
    ],
)  # fmt: skip
def test_embeddings_bad_input_names_the_field(
    stack: Stack, body: dict[str, Any], status: int, param: str
) -> None:
    got, data, _ = _post(stack, "/v1/embeddings", body)
    assert got == status, data
    assert data["error"]["param"] == param
    assert data["error"]["code"] == status


def test_gemini_embeddings_are_translated(stack: Stack) -> None:
    with stack.client() as client:
        raw = client.embeddings.with_raw_response.create(
            model="google/gemini-embedding-001", input=["alpha", "beta"], dimensions=4,
            encoding_format="float",
        )  # fmt: skip
    result = raw.parse()
    sent = stack.last_upstream_request()
    assert sent["path"] == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert sent["body"]["requests"][1]["outputDimensionality"] == 4
    assert result.data[1].embedding == pytest.approx(mc.embedding("beta", 4))
    # Gemini reports no tokens: billed on the estimate from the text's size.
    tokens = result.usage.prompt_tokens
    assert tokens == math.ceil(len("alphabeta") / 4)
    expected = cost_micro_cents(_price("google/gemini-embedding-001"), Usage(tokens))
    assert _charge(stack, raw.headers["x-request-id"]) == expected


def test_cohere_embeddings_bill_cohere_billed_units(stack: Stack) -> None:
    with stack.client() as client:
        raw = client.embeddings.with_raw_response.create(
            model="cohere/embed-v4.0", input=["one two three"]
        )
    result = raw.parse()
    assert stack.last_upstream_request()["path"] == "/v2/embed"
    assert result.data[0].embedding == pytest.approx(mc.embedding("one two three", 1536), abs=1e-6)
    tokens = mc.tokens_of("one two three")
    assert result.usage.prompt_tokens == tokens
    expected = cost_micro_cents(_price("cohere/embed-v4.0"), Usage(tokens))
    assert _charge(stack, raw.headers["x-request-id"]) == expected


# --- images, speech, transcriptions, moderations --------------------------------------------


def test_images_priced_by_tokens(stack: Stack) -> None:
    with stack.client() as client:
        raw = client.images.with_raw_response.generate(
            model="openai/gpt-image-1", prompt="a red fox", n=2
        )
    result = raw.parse()
    assert result.data is not None and len(result.data) == 2
    png = base64.b64decode(result.data[0].b64_json or "")
    assert png.startswith(b"\x89PNG")
    usage = result.usage
    assert usage is not None
    expected = cost_micro_cents(
        _price("openai/gpt-image-1"), Usage(usage.input_tokens, usage.output_tokens)
    )
    assert expected > 0 and _charge(stack, raw.headers["x-request-id"]) == expected


def test_images_priced_per_image_as_urls(stack: Stack) -> None:
    with stack.client() as client:
        raw = client.images.with_raw_response.generate(
            model="xai/grok-imagine-image", prompt="a lighthouse", n=3, response_format="url"
        )
    result = raw.parse()
    assert result.data is not None and len(result.data) == 3
    status, headers, body = http("GET", result.data[0].url or "")
    assert status == 200 and body.startswith(b"\x89PNG")
    expected = _units(_price("xai/grok-imagine-image").per_image, 3)
    assert _charge(stack, raw.headers["x-request-id"]) == expected


def test_speech_returns_audio_billed_per_character(stack: Stack) -> None:
    text = "Hello from the gateway."
    with stack.client() as client:
        raw = client.audio.speech.with_raw_response.create(
            model="openai/tts-1", voice="alloy", input=text, response_format="wav"
        )
    audio = raw.content
    assert audio.startswith(b"RIFF") and audio == mc.speech(text, "wav")
    assert raw.headers["content-type"] == "audio/wav"
    expected = _units(_price("openai/tts-1").per_character, len(text))
    assert _charge(stack, raw.headers["x-request-id"]) == expected
    assert raw.headers["x-cost-cents"] == f"{expected / 1_000_000:g}"


def test_transcription_multipart_billed_per_second(stack: Stack) -> None:
    audio = mc.speech("a recording of some length for the test", "wav") * 8
    with stack.client() as client:
        raw = client.audio.transcriptions.with_raw_response.create(
            model="openai/whisper-1", file=("talk.wav", audio, "audio/wav"), prompt="ok"
        )
    result = raw.parse()
    assert result.text == mc.transcript(audio, "ok")
    sent = stack.last_upstream_request()
    assert sent["path"] == "/v1/audio/transcriptions" and sent["body"]["model"] == "whisper-1"
    seconds = Decimal(repr(mc.audio_seconds(audio)))
    expected = _units(_price("openai/whisper-1").per_second, seconds)
    assert _charge(stack, raw.headers["x-request-id"]) == expected


def test_transcription_priced_by_tokens_and_text_format(stack: Stack) -> None:
    audio = b"\x01\x02" * 40_000
    with stack.client() as client:
        raw = client.audio.transcriptions.with_raw_response.create(
            model="openai/gpt-4o-transcribe", file=("a.mp3", audio, "audio/mpeg")
        )
        text = client.audio.transcriptions.create(
            model="openai/whisper-1", file=("a.mp3", audio, "audio/mpeg"), response_format="text"
        )
    usage = orjson.loads(raw.content)["usage"]
    expected = cost_micro_cents(
        _price("openai/gpt-4o-transcribe"), Usage(usage["input_tokens"], usage["output_tokens"])
    )
    assert expected > 0 and _charge(stack, raw.headers["x-request-id"]) == expected
    assert text.strip() == mc.transcript(audio)


def test_transcription_without_a_file_is_400(stack: Stack) -> None:
    status, _, body = http(
        "POST", stack.base_url + "/audio/transcriptions",
        data=b"--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nopenai/whisper-1"
        b"\r\n--x--\r\n",
        headers={"Authorization": f"Bearer {stack.key}",
                 "Content-Type": "multipart/form-data; boundary=x"},
    )  # fmt: skip
    assert status == 400 and orjson.loads(body)["error"]["param"] == "file"


def test_moderations_default_model_and_flags(stack: Stack) -> None:
    with stack.client() as client:
        result = client.moderations.create(input=["I will kill the process", "hello"])
    assert result.model == "openai/omni-moderation-latest"
    assert [r.flagged for r in result.results] == [True, False]
    assert result.results[0].categories.violence is True
    assert stack.last_upstream_request()["body"]["model"] == "omni-moderation-latest"


# --- rerank ---------------------------------------------------------------------------------


def test_rerank_on_cohere_bills_search_units(stack: Stack) -> None:
    docs = ["Paris is the capital of France", "Bananas are yellow", {"text": "France capital"}]
    status, data, headers = _post(
        stack, "/v1/rerank",
        {"model": "cohere/rerank-v3.5", "query": "capital of France", "documents": docs,
         "top_n": 2, "return_documents": True},
    )  # fmt: skip
    assert status == 200, data
    assert stack.last_upstream_request()["path"] == "/v2/rerank"
    scores = [r["relevance_score"] for r in data["results"]]
    assert len(scores) == 2 and scores == sorted(scores, reverse=True)
    assert data["results"][0]["index"] in (0, 2)
    assert data["results"][0]["document"]["text"] in (docs[0], "France capital")
    assert data["model"] == "cohere/rerank-v3.5" and data["usage"]["search_units"] == 1
    expected = _units(_price("cohere/rerank-v3.5").per_query, 1)
    assert _charge(stack, headers["x-request-id"]) == expected
    assert data["usage"]["cost"] == expected / MICRO_CENTS_PER_USD


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "cohere/rerank-v3.5", "documents": ["a"]}, "query"),
        ({"model": "cohere/rerank-v3.5", "query": "q", "documents": []}, "documents"),
        ({"model": "cohere/rerank-v3.5", "query": "q", "documents": [1]}, "documents"),
        ({"model": "cohere/rerank-v3.5", "query": "q", "documents": ["a"], "top_n": 0}, "top_n"),
        ({"model": "openai/text-embedding-3-small", "query": "q", "documents": ["a"]}, "model"),
    ],
)
def test_rerank_bad_input(stack: Stack, body: dict[str, Any], param: str) -> None:
    status, data, _ = _post(stack, "/v1/rerank", body)
    assert status == 400 and data["error"]["param"] == param


def test_upstream_failure_costs_nothing(stack: Stack) -> None:
    stack.sim.queue_fault("500", count=5)
    with stack.client() as client:
        with pytest.raises(openai.InternalServerError) as caught:
            client.embeddings.create(model="openai/text-embedding-3-small", input="x")
    request_id = caught.value.response.headers["x-request-id"]
    assert _charge(stack, request_id) == 0
    stack.gw.flush_log()
    entry = stack.gw.call(request_log.get(stack.gw.app[DATABASE], request_id))
    assert entry is not None and entry.status == 500 and entry.charged_micro_cents == 0


def test_aigateway_lists_the_new_modalities(stack: Stack) -> None:
    with aigateway.AIgateway(api_key=stack.key, base_url=stack.gw.url) as client:
        rerankers = client.models.list(modality="rerank")
        speech = client.models.list(modality="tts")
    cohere = next(m for m in rerankers if m["id"] == "cohere/rerank-v3.5")
    assert cohere["pricing"]["per_query"] == float(_price("cohere/rerank-v3.5").per_query or 0)
    assert any(m["id"] == "openai/tts-1" and m["pricing"]["per_character"] for m in speech)
