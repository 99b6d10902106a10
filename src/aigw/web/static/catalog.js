// Catalog filters apply as you type or pick: the server renders the results (one filter
// implementation), this script only fetches them and swaps the list in.
"use strict";

(() => {
  const form = document.getElementById("filters");
  const results = document.getElementById("results");
  if (!form || !results) return;
  const more = document.getElementById("more-filters");
  if (more && matchMedia("(min-width: 761px)").matches) more.open = true;
  let timer = null;
  let seq = 0;

  async function apply() {
    const params = new URLSearchParams(new FormData(form));
    for (const [k, v] of [...params.entries()]) {
      if (v === "" || (k === "min_context" && v === "0")) params.delete(k);
    }
    if (params.get("sort") === "popular") params.delete("sort");
    const query = params.toString();
    history.replaceState(null, "", "/models" + (query ? "?" + query : ""));
    params.set("partial", "1");
    const mine = ++seq;
    const resp = await fetch("/models?" + params.toString());
    if (mine !== seq || !resp.ok) return;
    results.innerHTML = await resp.text();
  }

  form.addEventListener("change", () => apply());
  form.addEventListener("input", (event) => {
    if (event.target.name !== "q") return;
    clearTimeout(timer);
    timer = setTimeout(apply, 180);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
})();
