// Compare: one prompt to every chosen model at once; each pane streams on its own and shows
// its tokens, cost, latency and time to first token when done.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("run");
  if (!form) return;

  function requireKey() {
    const missing = !AIGW.getKey();
    $("signin").classList.toggle("hidden", !missing);
    return !missing;
  }

  function meta(pane, items) {
    pane.querySelector(".meta").replaceChildren(
      ...items.map(([name, text]) => AIGW.el("span", { "data-stat": name }, text)),
    );
  }

  async function runOne(pane, prompt, maxTokens) {
    const text = pane.querySelector(".text");
    text.textContent = "";
    pane.dataset.state = "streaming";
    meta(pane, [["state", "streaming…"]]);
    const body = { model: pane.dataset.model, messages: [{ role: "user", content: prompt }] };
    if (maxTokens) body[pane.dataset.maxField || "max_tokens"] = maxTokens;
    try {
      const r = await AIGW.streamChat(body, {
        onDelta: (partial) => {
          text.textContent = partial.content || partial.reasoning;
          pane.dataset.chunks = String(partial.chunks);
        },
      });
      text.textContent = r.content || r.reasoning;
      const u = r.usage || {};
      pane.dataset.state = "done";
      meta(pane, [
        ["cost", AIGW.usd(u.cost)],
        ["latency", AIGW.ms(r.latencyMs)],
        ["ttft", "TTFT " + AIGW.ms(r.ttftMs)],
        ["tokens", (u.prompt_tokens ?? "—") + " in · " + (u.completion_tokens ?? "—") + " out"],
      ]);
    } catch (e) {
      pane.dataset.state = "error";
      meta(pane, [["state", "failed"]]);
      text.replaceChildren(AIGW.el("span", { class: "err" }, (e.status || "") + " " + e.message));
      if (e.status === 401) requireKey();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!requireKey()) return;
    const prompt = $("prompt").value;
    const maxTokens = Number($("max_tokens").value) || null;
    $("go").disabled = true;
    const panes = [...document.querySelectorAll(".pane")];
    await Promise.all(panes.map((pane) => runOne(pane, prompt, maxTokens)));
    $("go").disabled = false;
  });
  document.addEventListener("aigw:signedin", requireKey);
  requireKey();
})();
