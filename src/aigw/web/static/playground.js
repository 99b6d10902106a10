// Playground: a multi-turn chat with any model, streamed from /v1/chat/completions with the
// signed-in key. Model details (reasoning efforts, sampling, the max-tokens field name) come
// from /v1/models/{id}, the same data the model pages show.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const transcript = $("transcript");
  const history = [];
  let pendingToolCalls = [];
  let modelInfo = null;
  let controller = null;

  function requireKey() {
    const missing = !AIGW.getKey();
    $("signin").classList.toggle("hidden", !missing);
    return !missing;
  }

  async function loadModel() {
    const id = $("model").value.trim();
    modelInfo = null;
    const effort = $("reasoning_effort");
    effort.replaceChildren(AIGW.el("option", { value: "" }, "default"));
    if (!id) return;
    try {
      modelInfo = await AIGW.api("/v1/models/" + id);
    } catch (e) {
      $("model-info").textContent = "Unknown model: " + id;
      return;
    }
    for (const level of modelInfo.reasoning_efforts || []) {
      effort.append(AIGW.el("option", { value: level }, level));
    }
    effort.disabled = !(modelInfo.reasoning_efforts || []).length;
    const sampling = modelInfo.capability_flags.sampling_params;
    $("temperature").disabled = !sampling;
    $("top_p").disabled = !sampling;
    const p = modelInfo.pricing;
    const notes = [
      modelInfo.name,
      "$" + p.input + " in / $" + p.output + " out per 1M",
      modelInfo.context_window ? AIGW.count(modelInfo.context_window) + " context" : null,
      modelInfo.capability_flags.tools ? null : "no tool calling",
      sampling ? null : "no temperature/top_p",
    ].filter(Boolean);
    $("model-info").replaceChildren(
      notes.join(" · ") + " · ",
      AIGW.el("a", { href: "/models/" + modelInfo.id }, "model page"),
    );
  }

  function maxTokensField() {
    const request = modelInfo && modelInfo.schema && modelInfo.schema.request;
    return request && "max_completion_tokens" in request ? "max_completion_tokens" : "max_tokens";
  }

  function buildBody(messages) {
    const body = { model: $("model").value.trim(), messages };
    const num = (id) => ($(id).value === "" || $(id).disabled ? null : Number($(id).value));
    if (num("temperature") !== null) body.temperature = num("temperature");
    if (num("top_p") !== null) body.top_p = num("top_p");
    if (num("max_tokens") !== null) body[maxTokensField()] = num("max_tokens");
    if ($("reasoning_effort").value) body.reasoning_effort = $("reasoning_effort").value;
    const tools = $("tools").value.trim();
    $("tools-error").textContent = "";
    if (tools) {
      let parsed;
      try {
        parsed = JSON.parse(tools);
      } catch (e) {
        $("tools-error").textContent = "Tools are not valid JSON: " + e.message;
        return null;
      }
      if (!Array.isArray(parsed)) {
        $("tools-error").textContent = "Tools must be a JSON array.";
        return null;
      }
      body.tools = parsed;
    }
    return body;
  }

  function addMessage(role, text) {
    $("empty-note")?.remove();
    const node = AIGW.el(
      "div",
      { class: "msg " + role },
      AIGW.el("div", { class: "who" }, role),
      AIGW.el("div", { class: "reasoning hidden" }),
      AIGW.el("div", { class: "text" }, text || ""),
      AIGW.el("pre", { class: "tools hidden" }),
      AIGW.el("div", { class: "meta" }),
    );
    transcript.append(node);
    node.scrollIntoView({ block: "end" });
    return node;
  }

  function showMeta(node, result) {
    const u = result.usage || {};
    const items = [
      ["tokens", (u.prompt_tokens ?? "—") + " in · " + (u.completion_tokens ?? "—") + " out"],
      ["cost", AIGW.usd(u.cost)],
      ["latency", AIGW.ms(result.latencyMs)],
      ["ttft", "TTFT " + AIGW.ms(result.ttftMs)],
      ["chunks", result.chunks + " chunks"],
    ];
    const meta = node.querySelector(".meta");
    meta.replaceChildren(
      ...items.map(([name, text]) => AIGW.el("span", { "data-stat": name }, text)),
    );
    if (result.requestId) {
      meta.append(
        AIGW.el("a", { href: "/dashboard#request=" + result.requestId }, result.requestId),
      );
    }
  }

  function render(node, result) {
    node.querySelector(".text").textContent = result.content;
    const reasoning = node.querySelector(".reasoning");
    reasoning.textContent = result.reasoning;
    reasoning.classList.toggle("hidden", !result.reasoning);
    const tools = node.querySelector(".tools");
    tools.textContent = result.toolCalls.length
      ? "tool calls: " + JSON.stringify(result.toolCalls, null, 2)
      : "";
    tools.classList.toggle("hidden", !result.toolCalls.length);
    node.dataset.chunks = String(result.chunks);
  }

  async function send(event) {
    event.preventDefault();
    if (!requireKey()) return;
    const text = $("prompt").value;
    if (!text.trim()) return;
    const turn = [];
    if (pendingToolCalls.length) {
      for (const call of pendingToolCalls) {
        turn.push({ role: "tool", tool_call_id: call.id, content: text });
      }
    } else {
      turn.push({ role: "user", content: text });
    }
    const system = $("system").value.trim();
    const messages = (system ? [{ role: "system", content: system }] : []).concat(history, turn);
    const body = buildBody(messages);
    if (!body) return;
    addMessage(pendingToolCalls.length ? "tool" : "user", text);
    $("prompt").value = "";
    const node = addMessage("assistant", "");
    node.dataset.state = "streaming";
    $("send").disabled = true;
    $("stop").classList.remove("hidden");
    controller = new AbortController();
    try {
      const result = await AIGW.streamChat(body, { onDelta: (r) => render(node, r) }, controller.signal);
      render(node, result);
      showMeta(node, result);
      history.push(...turn);
      const reply = { role: "assistant", content: result.content || null };
      if (result.toolCalls.length) reply.tool_calls = result.toolCalls;
      history.push(reply);
      pendingToolCalls = result.toolCalls;
      $("prompt").placeholder = pendingToolCalls.length
        ? "Tool result for " + pendingToolCalls.map((c) => c.function.name).join(", ")
        : "Message (Ctrl+Enter to send)";
      node.dataset.state = "done";
    } catch (e) {
      node.dataset.state = "error";
      const msg = e.name === "AbortError" ? "Stopped." : e.message;
      node.append(AIGW.el("div", { class: "error" }, (e.status ? e.status + ": " : "") + msg));
      if (e.status === 401) requireKey();
    } finally {
      $("send").disabled = false;
      $("stop").classList.add("hidden");
      controller = null;
    }
  }

  $("composer").addEventListener("submit", send);
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("composer").requestSubmit();
  });
  $("stop").addEventListener("click", () => controller && controller.abort());
  $("clear").addEventListener("click", () => {
    history.length = 0;
    pendingToolCalls = [];
    transcript.replaceChildren();
  });
  $("model").addEventListener("change", loadModel);
  document.addEventListener("aigw:signedin", requireKey);
  requireKey();
  loadModel();
})();
