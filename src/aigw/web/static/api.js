// API reference: filter the operations as you type (words of the method, path or summary;
// not the schemas, whose field names would match almost anything).
"use strict";

(() => {
  const input = document.getElementById("api-filter");
  const shown = document.getElementById("api-shown");
  if (!input) return;
  const ops = [...document.querySelectorAll(".api-op")];
  const text = new Map(
    ops.map((op) => {
      const summary = op.querySelector(".api-summary").textContent;
      return [op, `${op.dataset.method} ${op.dataset.path} ${summary}`.toLowerCase()];
    }),
  );

  function apply() {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let count = 0;
    for (const op of ops) {
      const hit = words.every((w) => text.get(op).includes(w));
      op.classList.toggle("hidden", !hit);
      if (hit) count++;
    }
    for (const section of document.querySelectorAll(".api-tag")) {
      section.classList.toggle("hidden", !section.querySelector(".api-op:not(.hidden)"));
    }
    for (const link of document.querySelectorAll(".api-toc li")) {
      const target = document.getElementById(link.querySelector("a").hash.slice(1));
      link.classList.toggle("hidden", target.classList.contains("hidden"));
    }
    shown.textContent = count + " shown";
  }

  input.addEventListener("input", apply);
})();
