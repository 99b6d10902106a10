// MCP inspector: lists this gateway's MCP tools (POST /mcp tools/list), builds a form (or a
// JSON editor) from each tool's input schema, calls it (tools/call) and shows the result.
// The key lives in this tab's sessionStorage only and travels only in the Authorization header.
"use strict";

(() => {
  const STORE = "aigw.mcp.key";
  const VERSION = "2025-11-25";
  const $ = (id) => document.getElementById(id);
  let seq = 0;
  let tools = [];
  let current = null;
  let mode = "form";

  function savedKey() {
    try {
      return sessionStorage.getItem(STORE) || "";
    } catch (e) {
      return "";
    }
  }

  function rememberKey(key) {
    try {
      if (key) sessionStorage.setItem(STORE, key);
      else sessionStorage.removeItem(STORE);
    } catch (e) {
      /* private mode: the key just is not kept */
    }
  }

  class RpcError extends Error {}

  // One JSON-RPC call; HTTP errors (401 ...) carry the API's error body, JSON-RPC errors
  // their code. Returns the whole response (the raw view shows it).
  async function rpc(method, params) {
    const resp = await fetch("/mcp", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        "MCP-Protocol-Version": VERSION,
        Authorization: "Bearer " + $("key").value.trim(),
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++seq, method, params }),
    });
    const text = await resp.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (e) {
      body = null;
    }
    if (!resp.ok) {
      const err = (body && body.error) || {};
      throw new RpcError(`${resp.status}: ${err.message || text || resp.statusText}`);
    }
    if (body && body.error) {
      throw new RpcError(`JSON-RPC error ${body.error.code}: ${body.error.message}`);
    }
    return body;
  }

  async function connect(event) {
    if (event) event.preventDefault();
    const key = $("key").value.trim();
    $("connect-error").textContent = "";
    if (!key) return;
    $("list").disabled = true;
    try {
      const init = await rpc("initialize", {
        protocolVersion: VERSION,
        capabilities: {},
        clientInfo: { name: "aigw-inspector", version: "1" },
      });
      const listed = await rpc("tools/list", {});
      rememberKey(key);
      const info = init.result.serverInfo || {};
      $("server-info").textContent =
        `Connected: ${info.name || "?"} ${info.version || ""}, protocol ${init.result.protocolVersion}`;
      showTools(listed.result.tools || []);
    } catch (err) {
      $("connect-error").textContent = err.message;
      $("server-info").textContent = "";
      $("inspector").classList.add("hidden");
    } finally {
      $("list").disabled = false;
    }
  }

  function showTools(list) {
    tools = list;
    const ul = $("tools");
    ul.replaceChildren();
    for (const tool of tools) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.dataset.tool = tool.name;
      button.textContent = tool.name;
      button.addEventListener("click", () => pick(tool.name));
      const about = document.createElement("div");
      about.className = "small muted";
      about.textContent = (tool.description || "").split(". ")[0];
      li.append(button, about);
      ul.append(li);
    }
    $("tool-count").textContent = `(${tools.length})`;
    $("inspector").classList.remove("hidden");
    if (current && tools.some((t) => t.name === current.name)) pick(current.name);
  }

  function pick(name) {
    current = tools.find((t) => t.name === name);
    if (!current) return;
    for (const b of $("tools").querySelectorAll("button")) {
      b.setAttribute("aria-current", b.dataset.tool === name ? "true" : "false");
    }
    $("no-tool").classList.add("hidden");
    $("tool-pane").classList.remove("hidden");
    $("tool-name").textContent = current.name;
    $("tool-description").textContent = current.description || "";
    $("tool-schema").textContent = JSON.stringify(current.inputSchema || {}, null, 2);
    $("args-error").textContent = "";
    $("result").classList.add("hidden");
    buildForm(current.inputSchema || {});
    $("args-json").value = "{}";
    setMode("form");
  }

  function kindOf(schema) {
    if (Array.isArray(schema.enum)) return "enum";
    if (["string", "integer", "number", "boolean"].includes(schema.type)) return schema.type;
    return "json"; // arrays, objects, unions: edited as JSON
  }

  function buildForm(schema) {
    const form = $("args-form");
    form.replaceChildren();
    const required = new Set(schema.required || []);
    const props = schema.properties || {};
    if (!Object.keys(props).length) {
      const p = document.createElement("p");
      p.className = "small muted";
      p.textContent = "This tool takes no arguments.";
      form.append(p);
    }
    for (const [name, prop] of Object.entries(props)) {
      const field = document.createElement("div");
      field.className = "field";
      const label = document.createElement("label");
      const id = "arg-" + name;
      label.htmlFor = id;
      label.textContent = name + (required.has(name) ? " *" : "");
      const kind = kindOf(prop);
      let input;
      if (kind === "enum" || kind === "boolean") {
        input = document.createElement("select");
        const values = kind === "boolean" ? [true, false] : prop.enum;
        input.append(new Option("(not set)", ""));
        for (const v of values) input.append(new Option(String(v), JSON.stringify(v)));
      } else if (kind === "json") {
        input = document.createElement("textarea");
        input.rows = 3;
        input.className = "mono";
        input.placeholder = "JSON";
      } else {
        input = document.createElement("input");
        if (kind === "string") input.type = "text";
        else {
          input.type = "number";
          input.step = kind === "integer" ? "1" : "any";
        }
      }
      input.id = id;
      input.dataset.arg = name;
      input.dataset.kind = kind;
      const help = document.createElement("div");
      help.className = "small muted";
      help.textContent = prop.description || "";
      field.append(label, input, help);
      form.append(field);
    }
  }

  // The form's arguments; empty fields are left out. Throws naming the bad field.
  function formArgs() {
    const args = {};
    for (const input of $("args-form").querySelectorAll("[data-arg]")) {
      const raw = input.value.trim();
      if (raw === "") continue;
      const name = input.dataset.arg;
      const kind = input.dataset.kind;
      if (kind === "string") args[name] = input.value;
      else if (kind === "integer" || kind === "number") args[name] = Number(raw);
      else {
        try {
          args[name] = JSON.parse(raw);
        } catch (e) {
          throw new Error(`'${name}' is not valid JSON`);
        }
      }
    }
    return args;
  }

  function jsonArgs() {
    let args;
    try {
      args = JSON.parse($("args-json").value || "{}");
    } catch (e) {
      throw new Error("The arguments are not valid JSON: " + e.message);
    }
    if (!args || typeof args !== "object" || Array.isArray(args)) {
      throw new Error("The arguments must be a JSON object");
    }
    return args;
  }

  function fillForm(args) {
    for (const input of $("args-form").querySelectorAll("[data-arg]")) {
      const value = args[input.dataset.arg];
      const kind = input.dataset.kind;
      if (value === undefined) input.value = "";
      else if (kind === "string") input.value = String(value);
      else if (kind === "integer" || kind === "number") input.value = String(value);
      else if (kind === "json") input.value = JSON.stringify(value);
      else input.value = JSON.stringify(value);
    }
  }

  function setMode(next) {
    $("args-error").textContent = "";
    try {
      if (next === "json" && mode === "form") {
        $("args-json").value = JSON.stringify(formArgs(), null, 2);
      } else if (next === "form" && mode === "json") {
        fillForm(jsonArgs());
      }
    } catch (err) {
      $("args-error").textContent = err.message;
      return;
    }
    mode = next;
    $("mode-form").setAttribute("aria-selected", String(mode === "form"));
    $("mode-json").setAttribute("aria-selected", String(mode === "json"));
    $("args-form").classList.toggle("hidden", mode !== "form");
    $("args-json-field").classList.toggle("hidden", mode !== "json");
  }

  async function call() {
    if (!current) return;
    $("args-error").textContent = "";
    let args;
    try {
      args = mode === "form" ? formArgs() : jsonArgs();
    } catch (err) {
      $("args-error").textContent = err.message;
      return;
    }
    $("call").disabled = true;
    $("call-state").textContent = "Calling…";
    const started = performance.now();
    try {
      const answer = await rpc("tools/call", { name: current.name, arguments: args });
      showResult(answer, performance.now() - started);
    } catch (err) {
      $("args-error").textContent = err.message;
    } finally {
      $("call").disabled = false;
      $("call-state").textContent = "";
    }
  }

  function block(item) {
    if (item.type === "text") {
      const pre = document.createElement("pre");
      try {
        pre.textContent = JSON.stringify(JSON.parse(item.text), null, 2);
      } catch (e) {
        pre.textContent = item.text;
      }
      return pre;
    }
    if (item.type === "image") {
      const img = document.createElement("img");
      img.src = `data:${item.mimeType};base64,${item.data}`;
      img.alt = "image result";
      img.style.maxWidth = "100%";
      return img;
    }
    const p = document.createElement("p");
    p.className = "small muted";
    if (item.type === "audio") {
      p.textContent = `Audio (${item.mimeType}), ${item.data.length} base64 characters: see the raw response.`;
    } else {
      p.textContent = JSON.stringify(item);
    }
    return p;
  }

  function showResult(answer, ms) {
    const result = answer.result || {};
    const failed = Boolean(result.isError);
    const state = $("result-state");
    state.textContent = `${failed ? "tool error" : "ok"} · ${Math.round(ms)} ms`;
    state.className = "small " + (failed ? "err" : "ok");
    $("result-content").replaceChildren(...(result.content || []).map(block));
    $("result-raw").textContent = JSON.stringify(answer, null, 2);
    $("result").classList.remove("hidden");
  }

  function forget() {
    rememberKey("");
    $("key").value = "";
    $("server-info").textContent = "";
    $("connect-error").textContent = "";
    $("inspector").classList.add("hidden");
  }

  $("connect").addEventListener("submit", connect);
  $("forget").addEventListener("click", forget);
  $("mode-form").addEventListener("click", () => setMode("form"));
  $("mode-json").addEventListener("click", () => setMode("json"));
  $("call").addEventListener("click", call);
  const saved = savedKey();
  if (saved) {
    $("key").value = saved;
    connect();
  }
})();
