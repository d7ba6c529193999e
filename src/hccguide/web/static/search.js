// Search as you type on the home page: <input id="q"> -> GET /api/search -> <div id="search-results">.
// Each result shows code, title, billable, V28 HCC and links to /codes/{code}. Text is inserted with
// textContent only (never innerHTML), stale answers are dropped, and requests wait 200 ms after the last key.
(function () {
  "use strict";
  const DELAY_MS = 200;
  const LIMIT = 10;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function renderResults(box, answer) {
    box.replaceChildren();
    const results = answer.results || [];
    if (answer.corrections && answer.corrections.length) {
      const fixes = answer.corrections.map((c) => c.from + " \u2192 " + c.to).join(", ");
      box.appendChild(el("p", "search-note", "Spelling: " + fixes));
    }
    if (!results.length) {
      box.appendChild(el("p", "search-empty", "No code matches. Try other words, an abbreviation or a code."));
      return;
    }
    const list = el("ol", "search-list");
    for (const r of results) {
      const item = el("li", "search-result");
      const link = el("a", "search-code", r.code);
      link.href = "/codes/" + encodeURIComponent(r.code);
      item.appendChild(link);
      item.appendChild(el("span", "search-title", " " + r.title + " "));
      item.appendChild(el("span", r.billable ? "badge billable" : "badge header", r.billable ? "billable" : "header"));
      item.appendChild(el("span", r.v28_hcc ? "badge hcc" : "badge no-hcc", r.v28_hcc ? "V28 HCC " + r.v28_hcc : "no V28 HCC"));
      if (r.seventh_character && r.seventh_character.assumed) {
        item.appendChild(el("div", "search-note", "Episode of care not stated: initial encounter shown."));
      }
      if (r.choices && r.choices.length) {
        const sub = el("div", "search-choices");
        const axes = r.axes && r.axes.length ? " (differ by " + r.axes.join(", ") + ")" : "";
        sub.appendChild(el("span", null, "Billable choices" + axes + ": "));
        r.choices.slice(0, 8).forEach((c, i) => {
          if (i) sub.appendChild(document.createTextNode(", "));
          const a = el("a", null, c.code);
          a.href = "/codes/" + encodeURIComponent(c.code);
          a.title = c.title;
          sub.appendChild(a);
        });
        item.appendChild(sub);
      }
      list.appendChild(item);
    }
    box.appendChild(list);
    if (answer.kb && answer.kb.release_id) {
      box.appendChild(el("p", "search-stamp", answer.code_set + " \u00b7 " + answer.kb.release_id));
    }
  }

  function renderError(box, body) {
    box.replaceChildren();
    const err = (body && body.error) || {};
    box.appendChild(el("p", "search-error", err.message || "Search failed."));
  }

  function start() {
    const input = document.getElementById("q");
    const box = document.getElementById("search-results");
    if (!input || !box) return;
    let timer = null;
    let seq = 0;
    let controller = null;

    async function run() {
      const q = input.value.trim();
      const mine = ++seq;
      if (controller) controller.abort();
      if (q.length < 2) {
        box.replaceChildren();
        return;
      }
      controller = new AbortController();
      box.setAttribute("aria-busy", "true");
      try {
        const url = "/api/search?q=" + encodeURIComponent(q) + "&limit=" + LIMIT;
        const resp = await fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } });
        const body = await resp.json();
        if (mine !== seq) return; // a newer query is on its way
        if (resp.ok) renderResults(box, body);
        else renderError(box, body);
      } catch (e) {
        if (e.name !== "AbortError" && mine === seq) renderError(box, null);
      } finally {
        if (mine === seq) box.removeAttribute("aria-busy");
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(run, DELAY_MS);
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        const first = box.querySelector("a.search-code");
        if (first) {
          ev.preventDefault();
          window.location.href = first.href;
        }
      }
    });
    if (input.value.trim().length >= 2) run();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
