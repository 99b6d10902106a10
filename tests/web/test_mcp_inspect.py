"""``GET /mcp/inspect``, the live MCP inspector: over plain HTTP (a public page with the
security policy and local assets only), then in a real headless Chromium against the gateway
and the simulator: a wrong key shows the error, a pasted key lists every tool, ``list_models``
is called from the form and a bad argument from the JSON editor, and the key never leaves the
tab's sessionStorage."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.harness import http
from tests.server.conftest import Stack
from tests.web.conftest import new_page, until

from aigw.mcp.tools import TOOLS
from aigw.web.render import CSP


def test_inspector_page_over_http(web_stack: Stack) -> None:
    status, headers, body = http("GET", web_stack.gw.url + "/mcp/inspect")
    html = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Content-Security-Policy"] == CSP
    assert "<h1>MCP inspector</h1>" in html and 'id="key"' in html
    assert web_stack.key not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)  # no CDN, nothing foreign
    script = re.search(r'src="(/static/mcp_inspect\.js\?v=\w+)"', html)
    assert script is not None
    status, headers, js = http("GET", web_stack.gw.url + script.group(1))
    assert status == 200 and "javascript" in headers["Content-Type"]
    assert b"tools/call" in js and b"sessionStorage" in js and b"localStorage" not in js


STATE = "document.getElementById('result-state').textContent"


@pytest.mark.browser
def test_inspector_lists_and_calls_tools(browser: Any, web_stack: Stack) -> None:
    watch = new_page(browser, web_stack)
    page = watch.page
    page.goto(web_stack.gw.url + "/mcp/inspect")

    page.locator("#key").fill("sk-aig-wrong")
    page.locator("#list").click()
    until(page, "document.getElementById('connect-error').textContent")
    assert "401" in page.locator("#connect-error").inner_text()
    assert not page.locator("#inspector").is_visible()
    watch.errors.clear()  # the browser logs that 401 as a console error; it was expected

    page.locator("#key").fill(web_stack.key)
    page.locator("#list").click()
    until(page, f"document.querySelectorAll('[data-tool]').length === {len(TOOLS)}")
    assert page.locator("#connect-error").inner_text() == ""
    assert web_stack.key not in page.url
    stored = page.evaluate("[sessionStorage.getItem('aigw.mcp.key'), localStorage.length]")
    assert stored == [web_stack.key, 0]

    page.locator("[data-tool='list_models']").click()
    page.locator("#arg-provider").fill("simulator")
    page.locator("#call").click()
    until(page, f"{STATE}.startsWith('ok')")
    assert "simulator/chat" in page.locator("#result-content").inner_text()
    watch.shot("mcp-inspect-list-models-desktop")

    page.locator("#mode-json").click()  # the form's arguments carry over to the editor
    assert '"provider": "simulator"' in page.locator("#args-json").input_value()
    page.locator("#args-json").fill('{"modality": 7}')
    page.locator("#call").click()
    until(page, f"{STATE}.startsWith('tool error')")
    assert "modality" in page.locator("#result-content").inner_text()
    page.locator("#args-json").fill("{nope")
    page.locator("#call").click()
    assert "not valid JSON" in page.locator("#args-error").inner_text()

    page.locator("[data-tool='chat']").click()
    page.locator("#arg-model").fill("simulator/chat")
    page.locator("#arg-prompt").fill("hello from the inspector")
    page.locator("#arg-max_tokens").fill("8")
    page.locator("#call").click()
    until(page, f"{STATE}.startsWith('ok')")
    assert '"cost"' in page.locator("#result-content").inner_text()

    page.reload()  # the key survives a reload of the tab (sessionStorage), tools list again
    until(page, f"document.querySelectorAll('[data-tool]').length === {len(TOOLS)}")
    page.locator("#forget").click()
    assert page.evaluate("sessionStorage.getItem('aigw.mcp.key')") is None
    watch.assert_clean()
    page.context.close()
