// Search as you type on the home page: <input id="q" role="combobox"> -> GET /api/search -> <ul id="search-results"
// role="listbox">. ARIA 1.2 combobox pattern: ArrowDown/ArrowUp move the active option (aria-activedescendant,
// aria-selected), Home/End jump, Enter opens the active option (or the first one), Escape closes the list, and the
// form still submits to /search?q= (the results page that works without JavaScript) when there is no result.
// Text is inserted with textContent only (never innerHTML), stale answers are dropped, requests wait 200 ms.
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

  function start() {
    const input = document.getElementById("q");
    const box = document.getElementById("search-results");
    const status = document.getElementById("search-status");
    if (!input || !box) return;
    let timer = null;
    let seq = 0;
    let controller = null;
    let active = -1;

    function options() {
      return Array.from(box.querySelectorAll("[role=option]"));
    }

    function say(text) {
      if (status) status.textContent = text;
    }

    function close() {
      box.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (!options().length && !box.children.length) return close();
      box.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function activate(i) {
      const opts = options();
      if (!opts.length) return;
      active = (i + opts.length) % opts.length;
      opts.forEach((o, j) => o.setAttribute("aria-selected", j === active ? "true" : "false"));
      input.setAttribute("aria-activedescendant", opts[active].id);
      opts[active].scrollIntoView({ block: "nearest" });
    }

    function renderResults(answer) {
      box.replaceChildren();
      active = -1;
      input.removeAttribute("aria-activedescendant");
      const results = answer.results || [];
      if (answer.corrections && answer.corrections.length) {
        const fixes = answer.corrections.map((c) => c.from + " \u2192 " + c.to).join(", ");
        const li = el("li", "search-note", "Spelling: " + fixes);
        li.setAttribute("role", "presentation");
        box.appendChild(li);
      }
      if (!results.length) {
        const li = el("li", "search-empty", "No code matches. Try other words, an abbreviation or a code.");
        li.setAttribute("role", "presentation");
        box.appendChild(li);
        say("No code matches.");
        open();
        return;
      }
      results.forEach((r, i) => {
        const item = el("li", "search-result");
        item.id = "search-opt-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        const link = el("a", "search-code", r.code);
        link.href = "/codes/" + encodeURIComponent(r.code);
        link.tabIndex = -1;
        item.appendChild(link);
        item.appendChild(el("span", "search-title", " " + r.title + " "));
        item.appendChild(el("span", r.billable ? "badge ok billable" : "badge no header", r.billable ? "billable" : "header"));
        item.appendChild(el("span", r.v28_hcc ? "badge hcc" : "badge plain no-hcc", r.v28_hcc ? "V28 HCC " + r.v28_hcc : "no V28 HCC"));
        if (r.seventh_character && r.seventh_character.assumed) {
          item.appendChild(el("div", "search-choices", "Episode of care not stated: initial encounter shown."));
        }
        if (r.choices && r.choices.length) {
          const axes = r.axes && r.axes.length ? " (differ by " + r.axes.join(", ") + ")" : "";
          const codes = r.choices.slice(0, 8).map((c) => c.code).join(", ");
          item.appendChild(el("div", "search-choices", "Billable choices" + axes + ": " + codes));
        }
        item.addEventListener("mousedown", (ev) => {
          ev.preventDefault(); // keep the focus in the box
          window.location.href = link.href;
        });
        box.appendChild(item);
      });
      if (answer.kb && answer.kb.release_id) {
        const stamp = el("li", "search-stamp fine", answer.code_set + " \u00b7 " + answer.kb.release_id);
        stamp.setAttribute("role", "presentation");
        box.appendChild(stamp);
      }
      say(results.length + " results; arrow keys to choose, Enter to open.");
      open();
    }

    function renderError(body) {
      box.replaceChildren();
      const err = (body && body.error) || {};
      const li = el("li", "search-error", err.message || "Search failed.");
      li.setAttribute("role", "presentation");
      box.appendChild(li);
      say(li.textContent);
      open();
    }

    async function run() {
      const q = input.value.trim();
      const mine = ++seq;
      if (controller) controller.abort();
      if (q.length < 2) {
        box.replaceChildren();
        close();
        return;
      }
      controller = new AbortController();
      box.setAttribute("aria-busy", "true");
      try {
        const url = "/api/search?q=" + encodeURIComponent(q) + "&limit=" + LIMIT;
        const resp = await fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } });
        const body = await resp.json();
        if (mine !== seq) return; // a newer query is on its way
        if (resp.ok) renderResults(body);
        else renderError(body);
      } catch (e) {
        if (e.name !== "AbortError" && mine === seq) renderError(null);
      } finally {
        if (mine === seq) box.removeAttribute("aria-busy");
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(run, DELAY_MS);
    });
    input.addEventListener("keydown", (ev) => {
      const opts = options();
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        if (!opts.length) return;
        ev.preventDefault();
        open();
        activate(active < 0 ? (ev.key === "ArrowDown" ? 0 : -1) : active + (ev.key === "ArrowDown" ? 1 : -1));
      } else if ((ev.key === "Home" || ev.key === "End") && !box.hidden && opts.length && active >= 0) {
        ev.preventDefault();
        activate(ev.key === "Home" ? 0 : opts.length - 1);
      } else if (ev.key === "Escape") {
        if (!box.hidden) {
          ev.preventDefault();
          close();
        }
      } else if (ev.key === "Enter") {
        const pick = opts[active >= 0 ? active : 0];
        if (pick) {
          ev.preventDefault();
          window.location.href = pick.querySelector("a.search-code").href;
        } // else: the form submits to /search?q=
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 150));
    input.addEventListener("focus", () => {
      if (box.children.length) open();
    });
    if (input.value.trim().length >= 2) run();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
