// Dashboard: everything here is read and changed through the gateway's JSON API with the
// signed-in key (/v1/balance, /v1/keys, /v1/sub-accounts, /v1/usage/*). A sub-account key
// sees its own cap, usage and requests; the parent-only sections are hidden for it.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { el, api } = AIGW;
  let isSub = false;
  let logCursor = null;

  function stat(label, value, sub) {
    return el("div", { class: "stat" },
      el("div", { class: "label" }, label),
      el("div", { class: "value" }, value),
      sub ? el("div", { class: "sub" }, sub) : null);
  }

  function table(node, headers, rows) {
    node.replaceChildren(
      el("tr", {}, ...headers.map((h) => el("th", { class: h.num ? "num" : null }, h.label || h))),
      ...rows,
    );
    if (!rows.length) {
      node.append(el("tr", {}, el("td", { colspan: headers.length, class: "muted" }, "Nothing yet.")));
    }
  }

  const num = (label) => ({ label, num: true });
  const td = (text, cls) => el("td", { class: cls }, text);
  const tdn = (text) => el("td", { class: "num" }, text);

  function showError(node, e) {
    node.replaceChildren(el("p", { class: "err small" }, (e.status || "") + " " + e.message));
  }

  // A bar chart as inline SVG (no library): one bar per value, a few labels below.
  function barChart(values, labels, fmt, title) {
    const ns = "http://www.w3.org/2000/svg";
    const W = 720, H = 180, left = 76, bottom = 24, top = 8;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title);
    const max = Math.max(...values, 0) || 1;
    const slot = (W - left - 8) / Math.max(1, values.length);
    const add = (tag, attrs, text) => {
      const node = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      if (text !== undefined) node.textContent = text;
      svg.append(node);
      return node;
    };
    for (let i = 0; i <= 2; i++) {
      const y = top + (H - top - bottom) * (1 - i / 2);
      add("line", { x1: left, x2: W - 8, y1: y, y2: y, class: "grid" });
      add("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "axis" }, fmt((max * i) / 2));
    }
    values.forEach((v, i) => {
      const h = ((H - top - bottom) * v) / max;
      const bar = add("rect", {
        x: left + i * slot + slot * 0.15, y: H - bottom - h, width: slot * 0.7,
        height: Math.max(h, v ? 1 : 0), rx: 2, fill: "#3b82f6",
      });
      const tip = document.createElementNS(ns, "title");
      tip.textContent = labels[i] + ": " + fmt(v);
      bar.append(tip);
      const every = Math.ceil(values.length / 8);
      if (i % every === 0 || i === values.length - 1) {
        add("text", { x: left + i * slot + slot / 2, y: H - 6, "text-anchor": "middle", class: "axis" },
          labels[i].slice(5));
      }
    });
    return svg;
  }

  // -- balance ---------------------------------------------------------------------------

  async function loadBalance() {
    const b = await api("/v1/balance");
    isSub = Boolean(b.sub_account_id);
    for (const node of document.querySelectorAll(".parent-only")) {
      node.classList.toggle("hidden", isSub);
    }
    const key = AIGW.getKey();
    $("who").textContent = (isSub ? "Sub-account " + b.sub_account_id : "Account " + b.account_id) +
      " · key …" + key.slice(-4);
    if (isSub) {
      $("balance-stats").replaceChildren(
        stat("Monthly cap", b.spend_cap_cents === null ? "none" : AIGW.cents(b.spend_cap_cents)),
        stat("Remaining", b.remaining_this_month_cents === null ? "—" : AIGW.cents(b.remaining_this_month_cents), "this month"),
        stat("Spent today", AIGW.cents(b.spent_today_cents)),
        stat("Spent this month", AIGW.cents(b.spent_this_month_cents)),
      );
      $("topups").replaceChildren();
      return;
    }
    $("balance-stats").replaceChildren(
      stat("Balance", AIGW.cents(b.balance_cents), "credits left"),
      stat("Available", AIGW.cents(b.available_cents), AIGW.cents(b.reserved_cents) + " reserved"),
      stat("Spent today", AIGW.cents(b.spent_today_cents)),
      stat("Spent this month", AIGW.cents(b.spent_this_month_cents)),
    );
    const rows = b.last_topups.map((t) => el("tr", {},
      td(AIGW.when(t.created_at)), tdn(AIGW.cents(t.credits_cents)), tdn(AIGW.cents(t.fee_cents)),
      tdn(AIGW.cents(t.paid_cents)), td(t.note || "")));
    const t = el("table", { id: "topup-table" });
    table(t, ["Top-up", num("Credits"), num("Fee"), num("Paid"), "Note"], rows);
    $("topups").replaceChildren(el("h3", {}, "Last top-ups"), el("div", { class: "scroll" }, t));
  }

  // -- keys ------------------------------------------------------------------------------

  async function loadKeys() {
    const keys = (await api("/v1/keys")).data;
    const rows = keys.map((k) => el("tr", { "data-key-id": k.id },
      td(k.name || "—"),
      td(el("code", {}, k.prefix + "…" + k.last4)),
      td(AIGW.when(k.created_at)),
      td(k.revoked_at ? "revoked" : (k.current ? "active (this browser)" : "active"),
        k.revoked_at ? "muted" : "ok"),
      td(k.revoked_at ? "" : el("button", {
        type: "button", class: "danger", onclick: () => revokeKey(k),
      }, "Revoke"))));
    table($("key-table"), ["Name", "Key", "Created", "Status", ""], rows);
  }

  async function revokeKey(k) {
    const warn = k.current ? " This is the key this browser is signed in with." : "";
    if (!confirm("Revoke key …" + k.last4 + "? Calls with it fail at once." + warn)) return;
    await api("/v1/keys/" + k.id, { method: "DELETE" });
    if (k.current) {
      AIGW.setKey("");
      start();
      return;
    }
    loadKeys();
  }

  function showSecret(node, label, secret) {
    node.replaceChildren(el("div", { class: "notice warn" },
      el("div", {}, label + " Copy it now: it is shown only once."),
      el("div", { class: "secret", "data-secret": "" }, secret)));
  }

  $("key-create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = event.target.elements.name.value.trim();
    try {
      const made = await api("/v1/keys", { json: name ? { name } : {} });
      showSecret($("key-new"), "New key " + (made.name || made.id) + ".", made.key);
      event.target.reset();
      loadKeys();
    } catch (e) {
      showError($("key-new"), e);
    }
  });

  // -- sub-accounts ----------------------------------------------------------------------

  async function loadSubs() {
    const subs = (await api("/v1/sub-accounts")).data;
    const rows = subs.map((s) => el("tr", { "data-sub-id": s.id },
      el("td", { title: s.id }, s.name),
      tdn(s.spend_cap_cents === null ? "no cap" : AIGW.cents(s.spend_cap_cents)),
      tdn(s.rate_limit_rpm ?? "—"), td(s.default_tag || "—"),
      td(el("button", { type: "button", onclick: () => subUsage(s) }, "Usage")),
      td(el("button", { type: "button", class: "danger", onclick: () => deleteSub(s) }, "Delete"))));
    table($("sub-table"), ["Name", num("Cap / month"), num("RPM"), "Tag", "", ""], rows);
  }

  async function subUsage(s) {
    const node = $("sub-usage");
    try {
      const u = await api("/v1/sub-accounts/" + s.id + "/usage?window=30d");
      const t = el("table", {});
      table(t, ["Model", num("Requests"), num("Tokens"), num("Cost")], u.by_model.map((m) =>
        el("tr", {}, td(m.model || "—"), tdn(m.requests), tdn(AIGW.count(m.total_tokens)),
          tdn(AIGW.cents(m.cost_cents)))));
      node.replaceChildren(
        el("h3", {}, "Usage of " + s.name + " (30 days)"),
        el("div", { class: "stats" },
          stat("Requests", u.summary.requests), stat("Tokens", AIGW.count(u.summary.total_tokens)),
          stat("Charged", AIGW.cents(u.summary.charged_cents))),
        barChart(u.by_day.map((d) => d.charged_cents / 100), u.by_day.map((d) => d.date),
          AIGW.usd, "Charged per day"),
        el("div", { class: "scroll" }, t));
    } catch (e) {
      showError(node, e);
    }
  }

  async function deleteSub(s) {
    if (!confirm("Delete sub-account " + s.name + "? Its keys stop working at once.")) return;
    await api("/v1/sub-accounts/" + s.id, { method: "DELETE" });
    $("sub-usage").replaceChildren();
    loadSubs();
  }

  $("sub-create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    const body = { name: f.name.value.trim() };
    if (f.cap.value !== "") body.spend_cap_cents = Math.round(Number(f.cap.value) * 100);
    if (f.rpm.value !== "") body.rate_limit_rpm = Number(f.rpm.value);
    if (f.tag.value.trim()) body.default_tag = f.tag.value.trim();
    $("sub-error").textContent = "";
    try {
      const made = await api("/v1/sub-accounts", { json: body });
      showSecret($("sub-new"), "Sub-account " + made.name + " created with its own key.", made.key);
      event.target.reset();
      loadSubs();
    } catch (e) {
      $("sub-error").textContent = e.message;
    }
  });

  // -- usage -----------------------------------------------------------------------------

  async function loadUsage() {
    const win = $("usage-window").value;
    const u = await api("/v1/usage/summary?window=" + win);
    const s = u.summary;
    $("usage-stats").replaceChildren(
      stat("Requests", s.requests, s.errors + " failed"),
      stat("Tokens", AIGW.count(s.total_tokens), AIGW.count(s.prompt_tokens) + " in · " + AIGW.count(s.completion_tokens) + " out"),
      stat("Cost", AIGW.cents(s.cost_cents), "at provider prices"),
      stat("Charged", AIGW.cents(s.charged_cents), "from the wallet"),
    );
    // Every day of the window, zeros included, so gaps show.
    const days = Number(win.replace("d", ""));
    const byDate = Object.fromEntries(u.by_day.map((d) => [d.date, d]));
    const labels = [];
    for (let i = days - 1; i >= 0; i--) {
      labels.push(new Date(Date.now() - i * 86400000).toISOString().slice(0, 10));
    }
    $("usage-days").replaceChildren(barChart(
      labels.map((d) => (byDate[d] ? byDate[d].cost_cents / 100 : 0)), labels, AIGW.usd,
      "Cost per day"));
    table($("usage-models"), ["Model", num("Requests"), num("Tokens"), num("Cost")],
      u.by_model.map((m) => el("tr", {},
        td(m.model ? el("a", { href: "/models/" + m.model }, m.model) : "—"), tdn(m.requests),
        tdn(AIGW.count(m.total_tokens)), tdn(AIGW.cents(m.cost_cents)))));
    const tags = (await api("/v1/usage/by-tag")).data;
    table($("usage-tags"), ["Tag", num("Requests"), num("Tokens"), num("Cost")],
      tags.map((t) => el("tr", {}, td(t.tag || "(untagged)"), tdn(t.requests),
        tdn(AIGW.count(t.total_tokens)), tdn(AIGW.cents(t.cost_cents)))));
    if (!isSub) {
      const subs = (await api("/v1/usage/by-sub-account")).data;
      table($("usage-subs"), ["Sub-account", num("Requests"), num("Tokens"), num("Charged")],
        subs.map((t) => el("tr", {}, td((t.name || t.sub_account_id) + (t.deleted ? " (deleted)" : "")),
          tdn(t.requests), tdn(AIGW.count(t.total_tokens)), tdn(AIGW.cents(t.charged_cents)))));
    }
  }

  $("usage-window").addEventListener("change", () => loadUsage().catch((e) => showError($("usage-stats"), e)));

  // -- request log -----------------------------------------------------------------------

  function logQuery() {
    const params = new URLSearchParams(new FormData($("log-filters")));
    for (const [k, v] of [...params.entries()]) if (!v) params.delete(k);
    params.set("limit", "25");
    if (logCursor) params.set("before", logCursor);
    return "/v1/usage/requests?" + params.toString();
  }

  async function loadLog(more) {
    if (!more) logCursor = null;
    const page = await api(logQuery());
    const rows = page.data.map((r) => el("tr", {
      class: "clickable", "data-request-id": r.id, onclick: () => showRequest(r.id),
    },
      td(AIGW.when(r.created_at)), td(r.model || "—"),
      td(String(r.status), r.status >= 400 ? "err" : "ok"),
      tdn(AIGW.count(r.total_tokens)), tdn(AIGW.cents(r.cost_cents)),
      tdn(AIGW.ms(r.latency_ms)), td(r.tag || "")));
    if (more) {
      $("log-table").append(...rows);
    } else {
      table($("log-table"), ["Time (UTC)", "Model", "Status", num("Tokens"), num("Cost"),
        num("Latency"), "Tag"], rows);
    }
    logCursor = page.data.length ? page.data[page.data.length - 1].id : logCursor;
    $("log-more").classList.toggle("hidden", !page.has_more);
  }

  async function showRequest(id) {
    const node = $("log-detail");
    try {
      const r = await api("/v1/usage/requests/" + encodeURIComponent(id));
      const fields = [
        ["Request id", r.id], ["Client request id", r.client_request_id || "—"],
        ["Time (UTC)", AIGW.when(r.created_at)], ["Model", r.model], ["Provider", r.provider],
        ["Status", r.status + (r.error_type ? " " + r.error_type : "")],
        ["Streamed", r.streamed ? "yes" : "no"], ["BYOK", r.byok ? "yes" : "no"],
        ["Prompt tokens", r.prompt_tokens], ["Completion tokens", r.completion_tokens],
        ["Cached tokens", r.cached_tokens], ["Reasoning tokens", r.reasoning_tokens],
        ["Cost", AIGW.cents(r.cost_cents)], ["Charged", AIGW.cents(r.charged_cents)],
        ["Latency", AIGW.ms(r.latency_ms)], ["Time to first token", AIGW.ms(r.ttft_ms)],
        ["Tag", r.tag || "—"], ["Sub-account", r.sub_account_id || "—"], ["Key", r.key_id || "—"],
      ];
      const kv = el("table", { class: "kv" },
        ...fields.map(([k, v]) => el("tr", {}, el("th", {}, k), td(v ?? "—"))));
      const ledger = el("table", {});
      table(ledger, ["Ledger entry", num("Amount"), num("Fee"), "Time"], r.ledger.map((l) =>
        el("tr", {}, td(l.kind), tdn(AIGW.cents(l.amount_cents)), tdn(AIGW.cents(l.fee_cents)),
          td(AIGW.when(l.created_at)))));
      node.replaceChildren(el("h3", { id: "request-detail" }, "Request " + r.id), kv, ledger);
      node.scrollIntoView({ block: "nearest" });
    } catch (e) {
      showError(node, e);
    }
  }

  $("log-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadLog(false).catch((e) => showError($("log-detail"), e));
  });
  $("log-more").addEventListener("click", () => loadLog(true));

  // -- start -----------------------------------------------------------------------------

  async function start() {
    const signedIn = Boolean(AIGW.getKey());
    $("signin").classList.toggle("hidden", signedIn);
    $("dash").classList.toggle("hidden", !signedIn);
    if (!signedIn) return;
    try {
      await loadBalance();
    } catch (e) {
      if (e.status === 401) {
        AIGW.setKey("");
        return start();
      }
      showError($("balance-stats"), e);
    }
    const loads = [loadUsage(), loadLog(false)];
    if (!isSub) loads.push(loadKeys(), loadSubs());
    const results = await Promise.allSettled(loads);
    for (const r of results) if (r.status === "rejected") console.error(r.reason);
    const match = location.hash.match(/^#request=(.+)$/);
    if (match) showRequest(decodeURIComponent(match[1]));
    document.body.dataset.ready = "1";
  }

  $("signout").addEventListener("click", () => {
    AIGW.setKey("");
    start();
  });
  document.addEventListener("aigw:signedin", start);
  start();
})();
