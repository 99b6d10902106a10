"""The API reference page (``/api``): rendered from the gateway's own ``/openapi.json``, every
operation with its method, path, summary, parameters and schemas; linked from the navigation;
filterable in a real headless Chromium."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import orjson
import pytest
from tests.harness import http
from tests.server.conftest import Stack
from tests.web.conftest import SCREENSHOTS, new_page, until

from aigw.web.render import CSP


def _openapi(stack: Stack) -> dict[str, Any]:
    # urllib: Playwright's sync API holds this thread's event loop (no asyncio.run here).
    with urllib.request.urlopen(stack.gw.url + "/openapi.json", timeout=10) as resp:
        return orjson.loads(resp.read())


def _operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, item in doc["paths"].items() for m in item}


def test_every_operation_is_on_the_page(web_stack: Stack) -> None:
    doc = _openapi(web_stack)
    status, headers, raw = http("GET", web_stack.gw.url + "/api")
    html = raw.decode()
    assert status == 200 and headers["Content-Security-Policy"] == CSP
    shown = set(re.findall(r'data-method="([A-Z]+)" data-path="([^"]+)"', html))
    assert shown == _operations(doc) and len(shown) > 50
    assert f"{len(shown)} operations" in html
    batches = doc["paths"]["/v1/batches"]["post"]
    section = html.split(f'id="{batches["operationId"]}"', 1)[1].split("</article>", 1)[0]
    assert batches["summary"] in section
    assert "completion_window" in section and "api-request" in section  # the request schema
    assert "expires_at" in section  # the response schema
    content = doc["paths"]["/v1/files/{id}/content"]["get"]
    section = html.split(f'id="{content["operationId"]}"', 1)[1].split("</article>", 1)[0]
    assert "<code>id</code></td><td>path</td>" in section  # the path parameter
    listing = doc["paths"]["/v1/files"]["get"]
    section = html.split(f'id="{listing["operationId"]}"', 1)[1].split("</article>", 1)[0]
    assert "<code>purpose</code></td><td>query</td>" in section
    assert 'href="/api"' in http("GET", web_stack.gw.url + "/models")[2].decode()


@pytest.mark.browser
def test_the_reference_in_a_browser(browser: Any, web_stack: Stack) -> None:
    doc = _openapi(web_stack)
    watch = new_page(browser, web_stack)
    page = watch.page
    page.goto(web_stack.gw.url + "/models")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API").click()
    page.wait_for_url("**/api")
    assert page.locator("main h1").inner_text() == "API reference"
    current = page.locator('.top nav a[aria-current="page"]')
    assert current.inner_text() == "API"
    ops = page.locator("article.api-op")
    assert ops.count() == len(_operations(doc))
    page.locator("#api-filter").fill("batches cancel")
    until(page, "document.getElementById('api-shown').textContent === '1 shown'")
    visible = page.locator("article.api-op:visible")
    assert visible.count() == 1
    assert visible.get_attribute("data-path") == "/v1/batches/{id}/cancel"
    page.locator("#api-filter").fill("")
    until(
        page, f"document.querySelectorAll('article.api-op:not(.hidden)').length === {ops.count()}"
    )
    alerts = doc["paths"]["/v1/alerts"]["put"]["operationId"]
    page.locator(f'.api-toc a[href="#{alerts}"]').click()
    target = page.locator(f"#{alerts}")
    assert target.is_visible() and "usage_thresholds" in target.locator(".api-request").inner_text()
    page.screenshot(
        path=str(SCREENSHOTS / "api-desktop.png")
    )  # the page is too long for a full one
    watch.assert_clean()
    page.context.close()


@pytest.mark.browser
def test_the_reference_fits_a_phone(browser: Any, web_stack: Stack) -> None:
    watch = new_page(browser, web_stack, phone=True)
    page = watch.page
    response = page.goto(web_stack.gw.url + "/api")
    assert response is not None and response.status == 200
    assert page.locator("main h1").is_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"/api is {overflow}px wider than the phone screen"
    page.screenshot(path=str(SCREENSHOTS / "api-phone.png"))
    watch.assert_clean()
    page.context.close()
