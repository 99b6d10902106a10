"""The UI in a real headless Chromium against a real gateway and the simulator.

Every page is opened at desktop and phone width (no script errors, no request leaving the
gateway, nothing wider than a phone screen), a playground answer is watched while it streams,
two models are compared in parallel, and the dashboard signs in and creates a sub-account.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.server.conftest import Stack
from tests.web.conftest import new_page, until

pytestmark = pytest.mark.browser

PAGES = (
    ("catalog", "/models"),
    ("model", "/models/xai/grok-4.3"),
    ("model-sim", "/models/simulator/chat"),
    ("rankings", "/rankings?window=day"),
    ("playground", "/playground"),
    ("compare", "/compare?m=simulator/chat&m=simulator/free"),
    ("dashboard", "/dashboard"),
    ("mcp-inspect", "/mcp/inspect"),
)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_page_renders_with_local_assets_only(
    browser: Any, web_stack: Stack, phone: bool
) -> None:
    watch = new_page(browser, web_stack, phone=phone, key=web_stack.key)
    page = watch.page
    for name, path in PAGES:
        response = page.goto(web_stack.gw.url + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.locator("main h1").first.is_visible(), path
        if phone:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} is {overflow}px wider than the phone screen"
        watch.shot(f"{name}-{'phone' if phone else 'desktop'}")
    watch.assert_clean()
    page.context.close()


def test_model_page_tabs_and_collections(browser: Any, web_stack: Stack) -> None:
    watch = new_page(browser, web_stack)
    page = watch.page
    page.goto(web_stack.gw.url + "/models/xai/grok-4.3")
    assert page.locator("#snippet-curl").is_visible()
    assert not page.locator("#snippet-python").is_visible()
    page.get_by_role("button", name="Python (OpenAI SDK)").click()
    python = page.locator("#snippet-python")
    assert python.is_visible()
    assert "stream=True" in python.inner_text()
    # Adoption comes from this gateway's log: the warm-up sent one request to this model.
    assert "1 requests in the last 30 days" in page.locator("#adoption").inner_text()
    page.locator("#collections").get_by_role("link", name="Free models →").click()
    page.wait_for_url("**/models?collection=free")
    assert page.locator("[data-model='simulator/free']").count() == 1
    watch.assert_clean()
    page.context.close()


def test_catalog_filters_apply_as_you_type(browser: Any, web_stack: Stack) -> None:
    watch = new_page(browser, web_stack)
    page = watch.page
    page.goto(web_stack.gw.url + "/models")
    page.locator("#q").fill("simulator")
    until(page, "document.querySelectorAll('[data-model]').length === 5")  # 2 chat, 3 job
    assert page.url.endswith("/models?q=simulator")
    page.locator("#price").select_option("free")
    until(page, "document.querySelectorAll('[data-model]').length === 1")
    assert page.locator("[data-model]").get_attribute("data-model") == "simulator/free"
    watch.shot("catalog-filtered-desktop")
    watch.assert_clean()
    page.context.close()


def test_playground_streams_an_answer_from_the_simulator(browser: Any, web_stack: Stack) -> None:
    watch = new_page(browser, web_stack)
    page = watch.page
    page.goto(web_stack.gw.url + "/playground?model=simulator/chat")
    # Not signed in: the key form shows; signing in checks the key against /v1/balance.
    form = page.locator("#signin form")
    assert form.is_visible()
    form.locator("input[name=key]").fill(web_stack.key)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#signin", state="hidden")
    page.locator("#system").fill("You are terse.")
    page.locator("#temperature").fill("0.3")
    page.locator("#max_tokens").fill("300")
    page.locator("#reasoning_effort").select_option("low")
    page.locator("#prompt").fill("Tell me about streaming.")
    page.get_by_role("button", name="Send").click()
    answer = page.locator(".msg.assistant").last
    # Seen mid-stream: some text already shown while the answer is still arriving.
    until(
        page,
        "(() => { const m = [...document.querySelectorAll('.msg.assistant')].pop();"
        " return m.dataset.state === 'streaming' && m.querySelector('.text').textContent; })()",
    )
    partial = answer.locator(".text").inner_text()
    until(page, "[...document.querySelectorAll('.msg.assistant')].pop().dataset.state === 'done'")
    final = answer.locator(".text").inner_text()
    assert len(final) > len(partial) > 0
    assert int(answer.get_attribute("data-chunks") or 0) > 1
    stats = {
        name: answer.locator(f"[data-stat={name}]").inner_text()
        for name in ("tokens", "cost", "latency", "ttft")
    }
    assert stats["cost"].startswith("$") and stats["cost"] != "$0", stats
    assert " in · " in stats["tokens"] and "—" not in stats["tokens"], stats
    assert stats["ttft"].startswith("TTFT ") and stats["latency"].endswith("s"), stats
    # What the browser sent reached the upstream with the parameters set in the form.
    sent = web_stack.last_upstream_request()["body"]
    assert sent["messages"][0] == {"role": "system", "content": "You are terse."}
    assert sent["temperature"] == 0.3 and sent["reasoning_effort"] == "low"
    assert sent["stream"] is True
    watch.shot("playground-answer-desktop")
    watch.assert_clean()
    page.context.close()


def test_compare_streams_two_models_in_parallel(browser: Any, web_stack: Stack) -> None:
    watch = new_page(browser, web_stack, key=web_stack.key)
    page = watch.page
    page.goto(web_stack.gw.url + "/compare?m=simulator/chat&m=simulator/free")
    specs = page.locator("#specs").text_content() or ""
    assert "Simulator Chat" in specs and "Simulator Free" in specs and "$0.40" in specs
    page.get_by_role("button", name="Run on all").click()
    # Both panes stream at the same time.
    until(
        page,
        "[...document.querySelectorAll('.pane')].every("
        "p => p.dataset.state === 'done' || Number(p.dataset.chunks || 0) > 0)"
        " && [...document.querySelectorAll('.pane')].some(p => p.dataset.state === 'streaming')",
    )
    until(page, "[...document.querySelectorAll('.pane')].every(p => p.dataset.state === 'done')")
    panes = page.locator(".pane")
    assert panes.count() == 2
    costs = [panes.nth(i).locator("[data-stat=cost]").inner_text() for i in range(2)]
    assert costs[0] != "$0" and costs[1] == "$0", costs  # simulator/free is free
    for i in range(2):
        assert panes.nth(i).locator("[data-stat=latency]").inner_text()
        assert panes.nth(i).locator(".text").inner_text()
    watch.shot("compare-done-desktop")
    watch.assert_clean()
    page.context.close()


def test_dashboard_sign_in_create_sub_account_and_key(browser: Any, web_stack: Stack) -> None:
    watch = new_page(browser, web_stack)
    page = watch.page
    page.goto(web_stack.gw.url + "/dashboard")
    form = page.locator("#signin form")
    form.locator("input[name=key]").fill("sk-aig-not-a-real-key-000000000000000000000000")
    form.get_by_role("button", name="Sign in").click()
    error = until(page, "document.querySelector('#signin [data-key-error]').textContent")
    assert "does not work" in error
    watch.errors.clear()  # the browser logs that 401 as a console error; it was expected
    form.locator("input[name=key]").fill(web_stack.key)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("body[data-ready='1']")
    assert "$1000.00" in page.locator("#balance-stats").inner_text()
    # The request log filtered by model; a row opens its detail with the ledger charge.
    page.locator("#log-model").fill("simulator/chat")
    page.locator("#log-filters").get_by_role("button", name="Filter").click()
    until(
        page,
        "(() => { const rows = [...document.querySelectorAll('#log-table tr.clickable')];"
        " return rows.length > 0"
        " && rows.every(r => r.textContent.includes('simulator/chat')); })()",
    )
    page.locator("#log-table tr.clickable").first.click()
    detail = page.locator("#log-detail")
    detail.locator("#request-detail").wait_for()
    assert "charge" in detail.inner_text()
    assert page.locator("#usage-days svg rect").count() >= 1

    sub = page.locator("#sub-create")
    sub.locator("#sub-name").fill("Customer A")
    sub.locator("#sub-cap").fill("50")
    sub.locator("#sub-tag").fill("customer-a")
    sub.get_by_role("button", name="Create sub-account").click()
    secret = page.locator("#sub-new [data-secret]")
    secret.wait_for()
    assert secret.inner_text().startswith("sk-aig-")
    row = page.locator("#sub-table tr", has_text="Customer A")
    row.wait_for()
    assert "$50.00" in row.inner_text()
    sub_id = row.get_attribute("data-sub-id")
    status, listed = web_stack.gw.admin("GET", "/v1/sub-accounts", web_stack.key)
    assert status == 200 and sub_id in [s["id"] for s in listed["data"]]
    assert [s for s in listed["data"] if s["id"] == sub_id][0]["spend_cap_cents"] == 5000

    page.locator("#key-create input[name=name]").fill("ci-key")
    page.locator("#key-create").get_by_role("button", name="Create key").click()
    page.locator("#key-new [data-secret]").wait_for()
    key_row = page.locator("#key-table tr", has_text="ci-key")
    key_row.wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    key_row.get_by_role("button", name="Revoke").click()
    until(
        page,
        "[...document.querySelectorAll('#key-table tr')].some("
        "r => r.textContent.includes('ci-key') && r.textContent.includes('revoked'))",
    )
    watch.shot("dashboard-desktop")
    watch.assert_clean()
    page.context.close()
