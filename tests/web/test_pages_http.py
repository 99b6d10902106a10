"""Pages over plain HTTP: content from live data, filters, caching, no database per render."""

from __future__ import annotations

import re
from typing import Any

import orjson
from tests.dbfixtures import StatementCounter
from tests.harness import http
from tests.server.conftest import Stack

from aigw.server.appkeys import DATABASE
from aigw.web.pages import ADOPTION
from aigw.web.render import CSP


def stack_url(stack: Stack) -> str:
    return stack.gw.url


def _get(stack: Stack, path: str) -> tuple[int, dict[str, str], str]:
    status, headers, body = http("GET", stack.gw.url + path)
    return status, dict(headers), body.decode()


def _refresh(stack: Stack) -> None:
    stack.gw.flush_log()
    stack.gw.call(stack.gw.app[ADOPTION].refresh())


def _models_listed(html: str) -> list[str]:
    return re.findall(r'<li data-model="([^"]+)"', html)


def test_every_page_answers_html_with_the_security_policy(web_stack: Stack) -> None:
    for path in ("/models", "/models/xai/grok-4.3", "/rankings", "/playground", "/compare"):
        status, headers, body = _get(web_stack, path)
        assert status == 200, path
        assert headers["Content-Type"].startswith("text/html"), path
        assert headers["Content-Security-Policy"] == CSP
        assert '<script src="/static/common.js?v=' in body
        linked = re.findall(r'(?:src|href|action)="(https?://[^"]+)"', body)
        assert all(url.startswith(stack_url(web_stack)) for url in linked), linked
    status, _, body = _get(web_stack, "/dashboard")
    assert status == 200 and 'id="signin"' in body


def test_unknown_model_is_an_html_404(web_stack: Stack) -> None:
    status, headers, body = _get(web_stack, "/models/nope/missing")
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert "No model &#39;nope/missing&#39;" in body


def test_static_assets_are_versioned_and_cached(web_stack: Stack) -> None:
    _, _, page = _get(web_stack, "/models")
    match = re.search(r'href="(/static/app\.css\?v=([0-9a-f]+))"', page)
    assert match is not None
    status, headers, body = _get(web_stack, match.group(1))
    assert status == 200 and "--accent" in body
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    _, stale, _ = _get(web_stack, "/static/app.css?v=old")
    assert stale["Cache-Control"] == "no-cache"
    assert _get(web_stack, "/static/../app.py")[0] == 404


def test_model_page_shows_the_seed_pages_facts_from_live_data(web_stack: Stack) -> None:
    _refresh(web_stack)
    status, _, html = _get(web_stack, "/models/xai/grok-4.3")
    assert status == 200
    for text in (
        "Grok 4.3",
        "$1.25",
        "$2.50",
        "1M",
        "4K",
        "2026-05-22",
        "family · Grok 4",
        "Prompt above 200,000 tokens",
        "passed through without a markup",
        "5% platform fee is applied when you top up",
        "Bring your own xAI key",
        "Frequently asked questions",
        "insufficient_credits",
        "rate_limit_error",
        "/playground?model=xai/grok-4.3",
        "/compare?m=xai/grok-4.3",
        "More from xAI",
        "Frontier models",
        "Free models",
        "data: [DONE]",
        "stream=True",
    ):
        assert text in html, text
    # Adoption from the request log: the warm-up sent 1 of 6 requests to this model.
    assert "1 requests in the last 30 days" in html
    assert 'data-capability="tools" data-supported="yes"' in html
    assert 'data-capability="json_mode" data-supported="no"' in html


def test_adoption_counts_new_traffic(web_stack: Stack) -> None:
    _refresh(web_stack)
    before = _adoption_requests(web_stack, "simulator/free")
    web_stack.client().chat.completions.create(
        model="simulator/free", messages=[{"role": "user", "content": "count me"}]
    )
    _refresh(web_stack)
    assert _adoption_requests(web_stack, "simulator/free") == before + 1
    _, _, rankings = _get(web_stack, "/rankings?window=day&by=requests")
    assert 'data-model="simulator/free"' in rankings
    assert 'data-provider="simulator"' in rankings
    assert '<svg class="chart"' in rankings


def _adoption_requests(stack: Stack, model: str) -> int:
    _, _, html = _get(stack, f"/models/{model}")
    match = re.search(r"([\d,]+) requests in the last 30 days", html)
    assert match is not None
    return int(match.group(1).replace(",", ""))


def test_pages_render_from_memory(web_stack: Stack) -> None:
    _refresh(web_stack)
    counter = StatementCounter(web_stack.gw.app[DATABASE])
    try:
        for path in ("/models", "/models?q=grok&sort=price", "/models/xai/grok-4.3", "/rankings"):
            assert _get(web_stack, path)[0] == 200
        # Background tasks (key cache, billing) may query; a render never reads the log.
        reads = [s for s in counter.statements if "FROM request_log" in s]
        assert reads == [], reads
    finally:
        counter.close()


def test_catalog_filters_and_sorting(web_stack: Stack) -> None:
    def listed(query: str) -> list[str]:
        status, _, html = _get(web_stack, "/models?partial=1&" + query)
        assert status == 200
        return _models_listed(html)

    assert listed("q=simulator&modality=text&sort=name") == ["simulator/chat", "simulator/free"]
    assert listed("q=simulator&modality=music") == ["simulator/music"]  # a job model
    assert listed("q=simulator&price=free") == ["simulator/free"]
    assert listed("q=simulator&cap=reasoning&cap=vision") == ["simulator/chat"]
    assert set(listed("provider=anthropic")) and all(
        m.startswith("anthropic/") for m in listed("provider=anthropic")
    )
    assert all(m in _embedding_ids(web_stack) for m in listed("modality=embedding"))
    big = listed("min_context=1000000&provider=xai")
    assert "xai/grok-4.3" in big
    assert "simulator/chat" not in listed("q=simulator&min_context=200000")
    frontier = listed("collection=frontier")
    assert frontier and "simulator/chat" not in frontier
    prices = listed("provider=openai&sort=price")
    status, _, body = http("GET", web_stack.gw.url + "/v1/models?provider=openai")
    assert status == 200
    by_id: dict[str, Any] = {m["id"]: m for m in orjson.loads(body)["data"]}
    inputs = [by_id[m]["pricing"]["input"] for m in prices]
    assert inputs == sorted(inputs)
    # Nonsense parameters are ignored, never a 400.
    assert _get(web_stack, "/models?min_context=lots&price=cheap&sort=x&page=-3")[0] == 200


def _embedding_ids(stack: Stack) -> set[str]:
    status, _, body = http("GET", stack.gw.url + "/v1/models?modality=embedding")
    assert status == 200
    return {m["id"] for m in orjson.loads(body)["data"]}


def test_catalog_pages_through_results(web_stack: Stack) -> None:
    _, _, first = _get(web_stack, "/models?sort=name")
    _, _, second = _get(web_stack, "/models?sort=name&page=2")
    one, two = _models_listed(first), _models_listed(second)
    assert len(one) == 100 and two and not set(one) & set(two)
    assert "page=2" in first and "sort=name" in first


def test_compare_shows_specs_and_names_unknown_models(web_stack: Stack) -> None:
    status, _, html = _get(web_stack, "/compare?m=simulator/chat&m=openai/gpt-5&m=nope/x")
    assert status == 200
    assert 'data-model="simulator/chat"' in html and 'data-model="openai/gpt-5"' in html
    assert 'data-max-field="max_completion_tokens"' in html  # OpenAI reasoning models
    assert "Not in the catalog: nope/x" in html
