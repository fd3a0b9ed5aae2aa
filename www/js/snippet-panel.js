// The snippet panel: driver code (redis-py / pymongo in Python; node-redis, ioredis and the
// Node MongoDB driver in JavaScript) run against the page's own engines. It shows what the
// snippet printed, how many network round trips it made, and the time those would take at a
// latency the student picks, so that "pipeline your batch writes" becomes a number.

import { h } from "./dom.js";
import { renderLong } from "./scrollback.js";

const EXAMPLES = {
  node: `// Five SETs one by one, then five in one pipeline: compare the round trips.
import Redis from 'ioredis';
const redis = new Redis();

for (let i = 0; i < 5; i++) {
  await redis.set(\`visits:\${i}\`, i);
}

const pipeline = redis.pipeline();
for (let i = 0; i < 5; i++) pipeline.incr(\`visits:\${i}\`);
await pipeline.exec()`,
  python: `import redis
r = redis.Redis(host='localhost', port=6379, db=0)
r.setex('product:123', 300, '{"name": "Laptop", "price": 999}')  # Expires in 5 min
r.get('product:123')`,
};

const LATENCIES = [0, 1, 50];

/** `1 round trip`, `3 round trips`. */
function roundTrips(n) {
  return `${n} round trip${n === 1 ? "" : "s"}`;
}

export class SnippetPanel {
  /**
   * Builds the panel after the consoles and wires it to `playground`.
   * @param {Document} doc
   * @param {{ snippet(language: string, source: string, hostMs: number): string }} playground
   */
  static mount(doc, playground) {
    const root = h("section", { class: "panel snippet-panel", id: "snippet-panel", "aria-labelledby": "snippet-title" });
    const anchor = doc.querySelector("main.workspace");
    if (anchor) anchor.after(root);
    else doc.body.append(root);
    return new SnippetPanel(root, playground);
  }

  constructor(root, playground) {
    this.root = root;
    this.playground = playground;
    this.language = "node";
    this.drafts = { ...EXAMPLES };
    this.last = null;

    this.languageButtons = Object.fromEntries(
      [
        ["python", "Python"],
        ["node", "JavaScript"],
      ].map(([lang, label]) => [
        lang,
        h("button", {
          type: "button",
          class: "snippet-lang",
          "aria-pressed": String(lang === this.language),
          dataset: { lang },
          text: label,
          onclick: () => this.setLanguage(lang),
        }),
      ]),
    );
    this.editor = h("textarea", {
      class: "snippet-editor",
      "aria-label": "Driver snippet",
      "aria-describedby": "snippet-keys",
      rows: 12,
      spellcheck: "false",
      autocomplete: "off",
      autocapitalize: "off",
      autocorrect: "off",
    });
    this.editor.value = this.drafts[this.language];
    this.editor.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.run();
      }
    });
    this.editor.addEventListener("input", () => {
      this.drafts[this.language] = this.editor.value;
    });
    this.latency = h(
      "select",
      { class: "snippet-latency", "aria-label": "Simulated network latency", onchange: () => this.showStats() },
      LATENCIES.map((ms) => h("option", { value: String(ms), text: `${ms} ms` })),
    );
    this.output = h("pre", {
      class: "snippet-output",
      role: "status",
      "aria-live": "polite",
      "aria-label": "Snippet output",
    });
    this.stats = h("p", { class: "snippet-stats", "aria-live": "polite", "data-role": "stats" });

    root.append(
      h(
        "div",
        { class: "snippet-head" },
        h("h2", { id: "snippet-title", text: "Driver snippet" }),
        h(
          "div",
          { class: "snippet-langs", role: "group", "aria-label": "Snippet language" },
          Object.values(this.languageButtons),
        ),
        h("p", { class: "keys", id: "snippet-keys" }, h("kbd", { text: "Ctrl" }), "+", h("kbd", { text: "Enter" }), " run"),
      ),
      this.editor,
      h(
        "div",
        { class: "snippet-controls" },
        h("button", { type: "button", class: "snippet-run", text: "Run snippet", onclick: () => this.run() }),
        h("label", { class: "snippet-latency-label" }, "Network latency ", this.latency),
      ),
      this.stats,
      this.output,
      // Show-more and copy-all for a long output, as under a console reply.
      (this.outputActions = h("div", { class: "snippet-output-actions" })),
    );
  }

  setLanguage(lang) {
    if (lang === this.language) return;
    this.drafts[this.language] = this.editor.value;
    this.language = lang;
    this.editor.value = this.drafts[lang];
    for (const [name, button] of Object.entries(this.languageButtons)) {
      button.setAttribute("aria-pressed", String(name === lang));
    }
  }

  /**
   * Runs the editor's snippet, shows its output, and lets the other panels catch up. The
   * snippets live in the engine's full module: the first run loads it (engine.js), and then
   * returns a promise of the result.
   */
  run() {
    const engine = this.playground;
    const waiting = engine.later?.(engine.snippetsNeedFull ?? false, (failure) => {
      if (!failure) return this.run();
      return this.show({ output: `The driver snippets could not be loaded (${failure.message ?? failure}). Run again to retry.\n`, roundTrips: 0, failed: true });
    });
    if (waiting) {
      // The output stays empty until the run's own: it is what the snippet printed.
      this.output.textContent = "";
      this.stats.textContent = "Loading the driver snippets…";
      return waiting;
    }
    const source = this.editor.value;
    let result;
    try {
      result = JSON.parse(engine.snippet(this.language, source, Date.now()));
    } catch (error) {
      result = { output: `${error}\n`, roundTrips: 0, failed: true };
    }
    return this.show(result);
  }

  /** Shows a run's output and round trips. */
  show(result) {
    this.last = result;
    // Cut like a console reply: a snippet printing a million lines must not freeze the page.
    this.outputActions.replaceChildren();
    renderLong(this.output, result.output === "" ? "(no output)" : result.output, this.outputActions);
    this.output.classList.toggle("failed", Boolean(result.failed));
    this.showStats();
    // The same notice the consoles send: the keyspace, collections and server panels redraw.
    for (const engine of ["redis", "mongo"]) {
      this.root.dispatchEvent(new CustomEvent("playground:change", { bubbles: true, detail: { engine, snippet: true } }));
    }
    return result;
  }

  /** Round trips, and the time they would take at the chosen latency. */
  showStats() {
    if (!this.last) return;
    const trips = this.last.roundTrips;
    const latency = Number(this.latency.value);
    const total = trips * latency;
    this.stats.dataset.roundTrips = String(trips);
    this.stats.dataset.estimateMs = String(total);
    this.stats.textContent =
      `${roundTrips(trips)} · at ${latency} ms per round trip the network alone would take ${total} ms`;
  }
}
