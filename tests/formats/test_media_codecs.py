"""Pure codecs of the non-chat endpoints: request checks, answer decoding, per-unit pricing."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from aigw.billing.media_estimate import media_reserve_amount
from aigw.billing.units import units_cost_micro_cents
from aigw.catalog.loader import builtin_catalog
from aigw.catalog.models import Price
from aigw.core.units import Units
from aigw.core.usage import Usage
from aigw.errors import InvalidRequest, UpstreamError
from aigw.formats import cohere_embed, gemini_embed
from aigw.formats.embedding_vectors import embeddings_body, from_base64, vectors_of
from aigw.formats.media_answers import decode_transcription
from aigw.formats.multipart import encode_multipart
from aigw.formats.openai_media import check_embeddings, check_rerank, check_transcription


def test_base64_round_trip_is_float32() -> None:
    body = embeddings_body([[0.5, -1.25, 3.0]], "m", 3, "base64")
    assert isinstance(body["data"][0]["embedding"], str)
    assert from_base64(body["data"][0]["embedding"]) == [0.5, -1.25, 3.0]
    assert vectors_of(body) == [[0.5, -1.25, 3.0]]


def test_embedding_inputs() -> None:
    assert check_embeddings({"model": "m", "input": [1, 2, 3]}).token_inputs == 3
    req = check_embeddings({"model": "m", "input": ["a", [7, 8]]})
    assert (req.texts, req.token_inputs) == (["a"], 2)
    with pytest.raises(InvalidRequest) as bad:
        check_embeddings({"model": "m", "input": [True]})
    assert bad.value.param == "input"


def test_units_cost_adds_tokens_and_units_and_rounds_once() -> None:
    price = Price(input=Decimal("0.5"), output=Decimal(0), per_character=Decimal("0.000015"))
    # 3 tokens at $0.5/M = 150 µ¢ (exact), 7 characters at $15/M chars = 10,500 µ¢
    assert units_cost_micro_cents(price, Usage(3), Units(characters=7)) == 150 + 10_500
    third = Price(input=Decimal(0), output=Decimal(0), per_second=Decimal("0.000283333"))
    assert units_cost_micro_cents(third, Usage(), Units(seconds=Decimal("1.5"))) == 42_500


def test_reservation_covers_the_charge() -> None:
    model = builtin_catalog().get("openai/whisper-1")
    assert model is not None
    req = check_transcription([("model", "whisper-1")], b"x" * 64_000, "a.wav", "audio/wav")
    bound = media_reserve_amount(model, "transcriptions", req)
    answer = decode_transcription(req)(orjson.dumps({"text": "hi", "usage": {"seconds": 4}}))
    assert answer.units.seconds == 4
    assert 0 < units_cost_micro_cents(model.price, Usage(), answer.units) <= bound


def test_gemini_and_cohere_embedding_codecs() -> None:
    req = check_embeddings({"model": "g", "input": ["x", "y"], "dimensions": 2})
    sent = gemini_embed.encode_request(req, "gemini-embedding-001")
    assert sent["requests"][0]["model"] == "models/gemini-embedding-001"
    answer = gemini_embed.decoder(req, "google/g")(
        orjson.dumps({"embeddings": [{"values": [1, 2]}, {"values": [3, 4]}]})
    )
    assert vectors_of(answer.body) == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(UpstreamError):
        gemini_embed.decoder(req, "google/g")(b'{"embeddings": []}')
    cohere = cohere_embed.embed_decoder(req, "cohere/e")(
        orjson.dumps(
            {"embeddings": {"float": [[1], [2]]}, "meta": {"billed_units": {"input_tokens": 9}}}
        )
    )
    assert cohere.usage == Usage(prompt_tokens=9)
    with pytest.raises(InvalidRequest):
        gemini_embed.encode_request(check_embeddings({"model": "g", "input": [1, 2]}), "g")


def test_rerank_answer_checks_indexes() -> None:
    req = check_rerank({"model": "r", "query": "q", "documents": ["a", "b"]})
    decode = cohere_embed.rerank_decoder(req)
    ok = decode(orjson.dumps({"results": [{"index": 1, "relevance_score": 0.9}]}))
    assert ok.body["results"] == [{"index": 1, "relevance_score": 0.9}] and ok.units.queries == 1
    with pytest.raises(UpstreamError):
        decode(orjson.dumps({"results": [{"index": 5, "relevance_score": 0.9}]}))


def test_multipart_encoding_is_parseable() -> None:
    body, content_type = encode_multipart([("model", "w")], [("file", "a.wav", "audio/wav", b"\0")])
    boundary = content_type.split("boundary=")[1]
    assert body.startswith(f"--{boundary}".encode()) and body.endswith(
        f"--{boundary}--\r\n".encode()
    )
    assert b'filename="a.wav"' in body and b"\r\n\r\n\0\r\n" in body
