"""``/openapi.json`` matches the registered routes; ``/llms.txt`` and ``/llms-full.txt`` come
from the catalog."""

from __future__ import annotations

import orjson

from aigw.apidocs.openapi import api_routes
from aigw.apidocs.operations import OPERATIONS
from aigw.server.appkeys import CATALOG
from tests.harness import http
from tests.jobs.conftest import JobStack


def test_openapi_lists_exactly_the_registered_routes(jobstack: JobStack) -> None:
    status, headers, body = http("GET", jobstack.url + "/openapi.json")  # no key needed
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    spec = orjson.loads(body)
    assert spec["openapi"] == "3.1.0"
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    registered = {(m, p) for m, p, _ in api_routes(jobstack.gw.app)}
    assert documented == registered
    assert set(OPERATIONS) <= registered, set(OPERATIONS) - registered  # no stale entries
    for (method, path), _ in OPERATIONS.items():
        assert spec["paths"][path][method.lower()]["summary"]
    for ops in spec["paths"].values():
        for op in ops.values():
            assert op["summary"] and op["operationId"] and "default" in op["responses"]
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    # The paths, with the methods the aigateway SDK calls.
    for method, path in [
        ("post", "/v1/videos/generations"),
        ("get", "/v1/jobs/{id}"),
        ("delete", "/v1/jobs/{id}"),
        ("get", "/v1/files/jobs/{job_id}/{filename}/signed"),
        ("post", "/v1/batches"),
        ("post", "/mcp"),
        ("get", "/mcp/sse"),
        ("post", "/mcp/message"),
        ("get", "/mcp/inspect"),
        ("post", "/v1/webhook-secret/rotate"),
    ]:
        assert method in spec["paths"][path]


def test_llms_txt_from_the_catalog(jobstack: JobStack) -> None:
    catalog = jobstack.gw.app[CATALOG]
    status, headers, short = http("GET", jobstack.url + "/llms.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = short.decode()
    assert text.startswith("# aigw\n") and f"{len(catalog)} models" in text
    assert "/llms-full.txt" in text and "/openapi.json" in text
    status, _, full = http("GET", jobstack.url + "/llms-full.txt")
    assert status == 200
    lines = full.decode().splitlines()
    for model in catalog:
        line = next(x for x in lines if x.startswith(f"- `{model.id}` "))
        if not model.price.is_free:
            assert f"${model.price.input}/1M in" in line and f"${model.price.output}/1M out" in line
        if model.capabilities.tools:
            assert "tools" in line
    assert any(x.startswith("- `simulator/video`: video; $0.05 per second") for x in lines)
