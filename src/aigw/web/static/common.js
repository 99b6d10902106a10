// Shared by every page: the API key in localStorage, JSON API calls, streamed chat,
// number formats, copy buttons and tabs. Plain browser JavaScript, no build step.
"use strict";

const AIGW = (() => {
  const KEY = "aigw.key";

  function getKey() {
    try {
      return localStorage.getItem(KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function setKey(value) {
    if (value) localStorage.setItem(KEY, value.trim());
    else localStorage.removeItem(KEY);
    showKeyState();
  }

  function showKeyState() {
    const el = document.getElementById("key-state");
    if (!el) return;
    const key = getKey();
    el.textContent = key ? "Signed in · key …" + key.slice(-4) : "Not signed in";
  }

  class ApiError extends Error {
    constructor(status, body) {
      const err = (body && body.error) || {};
      super(err.message || "HTTP " + status);
      this.status = status;
      this.type = err.type || "";
    }
  }

  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    const key = getKey();
    if (key) headers["Authorization"] = "Bearer " + key;
    if (options.json !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(path, {
      method: options.method || (options.json !== undefined ? "POST" : "GET"),
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
    });
    const text = await resp.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (e) {
      body = null;
    }
    if (!resp.ok) throw new ApiError(resp.status, body);
    return body;
  }

  // Streams one chat completion. handlers: onDelta({content, reasoning, toolCalls}),
  // returns {content, reasoning, toolCalls, usage, finish, ttftMs, latencyMs, requestId, chunks}.
  async function streamChat(body, handlers = {}, signal) {
    const started = performance.now();
    const key = getKey();
    const resp = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: "Bearer " + key,
      },
      body: JSON.stringify(Object.assign({}, body, {
        stream: true,
        stream_options: { include_usage: true },
      })),
      signal,
    });
    const out = {
      content: "",
      reasoning: "",
      toolCalls: [],
      usage: null,
      finish: null,
      ttftMs: null,
      latencyMs: null,
      requestId: resp.headers.get("x-request-id"),
      provider: resp.headers.get("x-aig-provider"),
      chunks: 0,
    };
    if (!resp.ok) {
      let err = null;
      try {
        err = await resp.json();
      } catch (e) {
        err = null;
      }
      throw new ApiError(resp.status, err);
    }
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let finished = false;
    while (!finished) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trim())
          .join("\n");
        if (!data) continue;
        if (data === "[DONE]") {
          finished = true;
          break;
        }
        const chunk = JSON.parse(data);
        if (chunk.error) throw new ApiError(chunk.error.code || 500, chunk);
        if (chunk.usage) out.usage = chunk.usage;
        const choice = (chunk.choices || [])[0];
        if (!choice) continue;
        const delta = choice.delta || {};
        let grew = false;
        if (delta.content) {
          out.content += delta.content;
          grew = true;
        }
        if (delta.reasoning_content) {
          out.reasoning += delta.reasoning_content;
          grew = true;
        }
        for (const call of delta.tool_calls || []) {
          const slot = out.toolCalls[call.index || 0] ||
            (out.toolCalls[call.index || 0] = {
              id: "",
              type: "function",
              function: { name: "", arguments: "" },
            });
          if (call.id) slot.id = call.id;
          if (call.function && call.function.name) slot.function.name += call.function.name;
          if (call.function && call.function.arguments) {
            slot.function.arguments += call.function.arguments;
          }
          grew = true;
        }
        if (choice.finish_reason) out.finish = choice.finish_reason;
        if (grew) {
          out.chunks += 1;
          if (out.ttftMs === null) out.ttftMs = performance.now() - started;
          if (handlers.onDelta) handlers.onDelta(out);
        }
      }
    }
    out.latencyMs = performance.now() - started;
    return out;
  }

  function usd(value) {
    if (value === null || value === undefined) return "—";
    if (value === 0) return "$0";
    const sign = value < 0 ? "-" : "";
    const abs = Math.abs(value);
    if (abs < 0.01) {
      const decimals = Math.min(10, 1 - Math.floor(Math.log10(abs)));
      return sign + "$" + abs.toFixed(decimals).replace(/0+$/, "");
    }
    return sign + "$" + abs.toFixed(2);
  }

  function cents(value) {
    return usd((value || 0) / 100);
  }

  function count(n) {
    if (n === null || n === undefined) return "—";
    const units = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (const [limit, suffix] of units) {
      if (n >= limit) return (n / limit).toFixed(1).replace(/\.0$/, "") + suffix;
    }
    return String(n);
  }

  function ms(value) {
    if (value === null || value === undefined) return "—";
    return value >= 1000 ? (value / 1000).toFixed(2) + " s" : Math.round(value) + " ms";
  }

  function when(unixSeconds) {
    if (!unixSeconds) return "—";
    return new Date(unixSeconds * 1000).toISOString().replace("T", " ").slice(0, 19);
  }

  // Small DOM helper: el("td", {class: "num"}, "text", child, ...).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "onclick") node.addEventListener("click", value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function setupCopyButtons(root) {
    for (const button of root.querySelectorAll("[data-copy]")) {
      button.addEventListener("click", async () => {
        const target = document.getElementById(button.dataset.copy);
        try {
          await navigator.clipboard.writeText(target.textContent);
          button.textContent = "Copied";
        } catch (e) {
          const range = document.createRange();
          range.selectNodeContents(target);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
          button.textContent = "Selected";
        }
        setTimeout(() => (button.textContent = "Copy"), 1500);
      });
    }
  }

  // Tabs: <div class="tabs" data-tabs="group"><button data-tab="x">…</button></div> and
  // panels with data-panel="x" inside an element with data-tab-group="group".
  function setupTabs(root) {
    for (const bar of root.querySelectorAll("[data-tabs]")) {
      const group = root.querySelector('[data-tab-group="' + bar.dataset.tabs + '"]');
      const buttons = bar.querySelectorAll("[data-tab]");
      const select = (name) => {
        for (const b of buttons) b.setAttribute("aria-selected", String(b.dataset.tab === name));
        for (const p of group.querySelectorAll("[data-panel]")) {
          p.classList.toggle("hidden", p.dataset.panel !== name);
        }
      };
      for (const b of buttons) b.addEventListener("click", () => select(b.dataset.tab));
      if (buttons.length) select(buttons[0].dataset.tab);
    }
  }

  // <form data-key-form>: checks the key against /v1/balance before keeping it.
  function setupKeyForms(root) {
    for (const form of root.querySelectorAll("[data-key-form]")) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const key = form.elements.key.value.trim();
        const error = form.querySelector("[data-key-error]");
        error.textContent = "";
        try {
          const resp = await fetch("/v1/balance", { headers: { Authorization: "Bearer " + key } });
          if (!resp.ok) throw new ApiError(resp.status, await resp.json().catch(() => null));
        } catch (e) {
          error.textContent = "This key does not work here: " + e.message;
          return;
        }
        setKey(key);
        form.reset();
        document.dispatchEvent(new CustomEvent("aigw:signedin"));
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    showKeyState();
    setupCopyButtons(document);
    setupTabs(document);
    setupKeyForms(document);
  });

  return { getKey, setKey, api, streamChat, ApiError, usd, cents, count, ms, when, el };
})();
