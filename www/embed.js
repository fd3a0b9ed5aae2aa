// <nosql-playground>: the sandbox as one element a course page drops in with one script tag.
//
//   <script type="module" src="https://…/embed.js"></script>
//   <nosql-playground lesson="01-strings-ttl" engines="redis" panels="keyspace" theme="dark"></nosql-playground>
//
// Each element is a sandbox of its own: its own engine (js/engine.js), consoles,
// clock and panels, in a shadow root, announcing its changes only inside that root, with
// histories and pub/sub kept to itself, so one embed never sees another's keys, documents,
// history or messages. By default an embed saves nothing: a reload starts again from the
// lesson and the setup. With `persist` and an `id` it keeps its work as the page does, in an
// IndexedDB database and localStorage keys of its own (`storageKey`). The same modules as the
// page do the work (consoles, panels, lesson player, persistence); this file only builds the
// DOM they expect and wires them.
//
// Lessons and setup scripts are data: setup lines go to the engines (redis-cli lines and
// mongosh statements, run by the Rust core), lesson files through lesson-format.js's strict
// validator, and nothing from either ever runs as JavaScript or becomes markup.

import "./js/clock-bar.js";
import "./js/collections-panel.js";
import "./js/keyspace-panel.js";
import "./js/lesson-picker.js";
import "./js/server-info.js";
import { h } from "./js/dom.js";
import { loadEngine } from "./js/engine.js";
import { ExplainView } from "./js/explain-view.js";
import { FrameLoop } from "./js/frame-loop.js";
import { runSetup } from "./js/lesson-player.js";
import { MongoConsole } from "./js/mongo-console.js";
import { startPersistence } from "./js/persistence.js";
import { PipelineViewer } from "./js/pipeline-viewer.js";
import { RedisClients } from "./js/redis-clients.js";
import { RedisConsole } from "./js/redis-console.js";
import { SnippetPanel } from "./js/snippet-panel.js";
import { SITE } from "./js/site.js";

export const ENGINES = ["redis", "mongo"];
/** Panels by name, and the engine whose column holds each (null: the embed's width). */
export const PANELS = {
  clock: null,
  info: "redis",
  keyspace: "redis",
  collections: "mongo",
  pipeline: "mongo",
  explain: "mongo",
  snippet: null,
};
export const DEFAULT_PANELS = ["clock", "keyspace", "collections"];
export const DEFAULT_HEIGHT = "40rem";

/** Space- or comma-separated words of an attribute, lower-cased, known ones only. */
export function words(value, known) {
  return String(value ?? "")
    .toLowerCase()
    .split(/[\s,]+/)
    .filter((w) => known.includes(w));
}

/** `480` → `480px`; a CSS length stays as it is; anything else gives the default. */
export function cssHeight(value) {
  const text = String(value ?? "").trim();
  if (/^\d+(\.\d+)?$/.test(text)) return `${text}px`;
  if (/^\d+(\.\d+)?(px|rem|em|vh|%)$/.test(text)) return text;
  return DEFAULT_HEIGHT;
}

/**
 * Where `lesson="…"` points: a bare name (`01-strings-ttl`) is a lesson of the built-in
 * course beside this file; anything else a URL of a lesson file, relative to the page.
 */
export function lessonUrl(value, base = document.baseURI) {
  const text = String(value ?? "").trim();
  if (text === "") return null;
  if (/^[A-Za-z0-9_-]+$/.test(text)) return new URL(`lessons/${text}.json`, SITE).href;
  return new URL(text, base).href;
}

/**
 * Where an embed with `persist` keeps its work: per page and element id, so two embeds, or
 * the same id on two pages of a site, never share a sandbox. Null without both.
 */
export function storageKey(persist, id, path = location.pathname) {
  if (!persist || !id) return null;
  return `nosql-playground:embed:${path}#${id}`;
}

/** mongosh source split into statements the way the console would take them, line by line. */
export function mongoStatements(playground, source) {
  const statements = [];
  let pending = "";
  for (const line of String(source).split(/\r?\n/)) {
    pending = pending === "" ? line : `${pending}\n${line}`;
    if (pending.trim() === "") {
      pending = "";
      continue;
    }
    if (playground.mongoInputComplete(pending)) {
      statements.push(pending);
      pending = "";
    }
  }
  if (pending.trim() !== "") statements.push(pending);
  return statements;
}

// The page's stylesheet, parsed once and adopted by every embed's shadow root, and the theme
// built from its own `:root` variables, so the embed's colours are the page's by construction.
let sheets = null;
function loadSheets() {
  sheets ??= Promise.all(
    ["style.css", "embed.css"].map(async (name) => {
      const response = await fetch(new URL(name, SITE));
      if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
      const sheet = new CSSStyleSheet({ baseURL: new URL(name, SITE).href });
      await sheet.replace(await response.text());
      return sheet;
    }),
  ).then(([page, embed]) => [page, themeSheet(page), embed]);
  return sheets;
}

/** `:host` rules for the light and dark palettes the page declares on `:root`. */
export function themeSheet(page) {
  const light = [];
  const dark = [];
  for (const rule of page.cssRules) {
    if (rule instanceof CSSStyleRule && rule.selectorText === ":root") light.push(rule.style.cssText);
    if (rule instanceof CSSMediaRule && /prefers-color-scheme:\s*dark/.test(rule.conditionText)) {
      for (const inner of rule.cssRules) {
        if (inner instanceof CSSStyleRule && inner.selectorText === ":root") dark.push(inner.style.cssText);
      }
    }
  }
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(
    `:host { ${light.join(" ")} }\n` +
      `@media (prefers-color-scheme: dark) { :host { ${dark.join(" ")} color-scheme: dark; } }\n` +
      `:host([theme="light"]) { ${light.join(" ")} color-scheme: light; }\n` +
      `:host([theme="dark"]) { ${dark.join(" ")} color-scheme: dark; }\n`,
  );
  return sheet;
}

/** The two consoles' markup, as the page has it (the console classes find their parts by role). */
function redisSection() {
  return h(
    "section",
    { class: "console", id: "redis-console", "aria-labelledby": "redis-title" },
    h(
      "div",
      { class: "console-head" },
      h("h2", { id: "redis-title" }, "Redis"),
      h("p", { class: "keys", id: "redis-keys" }, h("kbd", {}, "Tab"), " complete · ", h("kbd", {}, "↑"), h("kbd", {}, "↓"), " history"),
    ),
    h("div", { class: "client-tabs", "data-role": "client-tabs", role: "tablist", "aria-label": "Redis clients" }),
    h("div", { class: "log", "data-role": "log", role: "log", "aria-live": "polite", "aria-label": "Redis output", tabindex: "-1" }),
    h("p", { class: "completions", "data-role": "completions", "aria-live": "polite", hidden: true }),
    h("p", { class: "waiting", "data-role": "waiting", "aria-live": "polite", hidden: true }),
    h(
      "div",
      { class: "input-row" },
      h("span", { class: "prompt", "data-role": "prompt", "aria-hidden": "true" }),
      h("input", {
        "data-role": "input",
        type: "text",
        "aria-label": "Redis command",
        "aria-describedby": "redis-keys",
        autocomplete: "off",
        autocapitalize: "off",
        autocorrect: "off",
        spellcheck: "false",
      }),
    ),
  );
}

function mongoSection() {
  return h(
    "section",
    { class: "console", id: "mongo-console", "aria-labelledby": "mongo-title" },
    h(
      "div",
      { class: "console-head" },
      h("h2", { id: "mongo-title" }, "MongoDB"),
      h("p", { class: "keys", id: "mongo-keys" }, h("kbd", {}, "Enter"), " run · ", h("kbd", {}, "Shift"), "+", h("kbd", {}, "Enter"), " new line"),
    ),
    h("div", { class: "log", "data-role": "log", role: "log", "aria-live": "polite", "aria-label": "MongoDB output", tabindex: "-1" }),
    h(
      "div",
      { class: "input-row" },
      h("span", { class: "prompt", "data-role": "prompt", "aria-hidden": "true" }),
      h("textarea", {
        "data-role": "input",
        rows: "1",
        "aria-label": "Mongo shell",
        "aria-describedby": "mongo-keys",
        autocomplete: "off",
        autocapitalize: "off",
        autocorrect: "off",
        spellcheck: "false",
      }),
    ),
  );
}

const slot = (name, title) => h("section", { class: "panel slot", "data-slot": name }, h("h2", {}, title));

const live = new Set();

/** A trap kills the one engine module every embed shares: each says so in its own box. */
function onEngineStopped(message) {
  for (const embed of live) embed.stopped(message);
}
globalThis.onPlaygroundPanic ??= onEngineStopped;
addEventListener("error", (e) => {
  if (e.error instanceof WebAssembly.RuntimeError) onEngineStopped(globalThis.__playgroundPanic ?? String(e.error));
});

export class NosqlPlayground extends HTMLElement {
  static observedAttributes = ["theme", "height"];

  constructor() {
    super();
    /** Resolves to the sandbox once it is running (rejects when it cannot start). */
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
  }

  attributeChangedCallback(name) {
    if (name === "height") this.style.height = cssHeight(this.getAttribute("height"));
  }

  connectedCallback() {
    if (this.started) {
      // Moved in the page: the sandbox is the same, its clock runs again.
      if (this.sandbox) {
        live.add(this);
        this.sandbox.loop.start();
      }
      return;
    }
    this.started = true;
    if (!this.hasAttribute("height")) this.style.height = DEFAULT_HEIGHT;
    this.setAttribute("role", "region");
    if (!this.hasAttribute("aria-label")) this.setAttribute("aria-label", "Redis and MongoDB sandbox");
    this.shadow = this.attachShadow({ mode: "open" });
    this.status = h("p", { class: "load-status", role: "status" }, "Loading the sandbox…");
    this.shadow.append(this.status);
    this.boot().then(
      (sandbox) => {
        this.dataset.ready = "true";
        this.resolveReady(sandbox);
      },
      (error) => {
        this.dataset.ready = "error";
        this.status.hidden = false;
        this.status.setAttribute("role", "alert");
        this.status.textContent = `The sandbox did not load: ${error?.message ?? error}`;
        this.rejectReady(error);
      },
    );
  }

  disconnectedCallback() {
    this.sandbox?.loop.stop();
    live.delete(this);
  }

  /** The configuration the attributes ask for. */
  config() {
    const lesson = lessonUrl(this.getAttribute("lesson"));
    const setup = {
      redis: (this.getAttribute("setup-redis") ?? "").split(/\r?\n/).filter((line) => line.trim() !== ""),
      mongo: this.getAttribute("setup-mongo") ?? "",
    };
    let engines = words(this.getAttribute("engines"), ENGINES);
    if (engines.length === 0) engines = [...ENGINES];
    const panels = this.hasAttribute("panels") ? words(this.getAttribute("panels"), Object.keys(PANELS)) : DEFAULT_PANELS;
    const storage = storageKey(this.hasAttribute("persist"), this.id);
    return { lesson, setup, engines, panels, readonly: this.hasAttribute("readonly-steps"), storage };
  }

  async boot() {
    const config = this.config();
    // Each embed has an engine of its own; the modules' code is loaded once for the page, the
    // full one when an embed first needs it (engine.js), or at once for a Mongo-only embed.
    const mongoOnly = config.engines.length === 1 && config.engines[0] === "mongo";
    const [playground, adopted] = await Promise.all([loadEngine({ full: mongoOnly }), loadSheets()]);
    this.shadow.adoptedStyleSheets = adopted;
    const events = this.shadow;
    const show = (name) => config.panels.includes(name) && (PANELS[name] === null || config.engines.includes(PANELS[name]));

    const redisRoot = redisSection();
    const mongoRoot = mongoSection();
    const stored = (what) => (config.storage === null ? null : `${config.storage}:${what}`);
    const redis = new RedisConsole(redisRoot, playground, { historyKey: stored("history:redis") });
    const mongo = new MongoConsole(mongoRoot, playground, { historyKey: stored("history:mongo") });
    const loop = new FrameLoop(playground, { events });
    const clients = new RedisClients(redis, playground, loop, { channel: null });

    const clock = h("clock-bar", { hidden: !show("clock") });
    const info = h("server-info", { hidden: !show("info") });
    const keyspace = h("keyspace-panel", { hidden: !show("keyspace") });
    const collections = h("collections-panel", { hidden: !show("collections") });
    const pipelineRoot = slot("pipeline", "Pipeline stages");
    const explainRoot = slot("explain", "Explain");
    pipelineRoot.hidden = !show("pipeline");
    explainRoot.hidden = !show("explain");
    const redisPanels = h("div", { class: "panels", id: "redis-panels" }, info, keyspace);
    const mongoPanels = h("div", { class: "panels", id: "mongo-panels" }, collections, pipelineRoot, explainRoot);
    redisRoot.hidden = !config.engines.includes("redis");
    mongoRoot.hidden = !config.engines.includes("mongo");
    redisPanels.hidden = redisRoot.hidden || !(show("info") || show("keyspace"));
    mongoPanels.hidden = mongoRoot.hidden || !(show("collections") || show("pipeline") || show("explain"));
    const workspace = h(
      "div",
      {
        class: "workspace consoles",
        dataset: {
          engines: config.engines.join(" "),
          panels: redisPanels.hidden && mongoPanels.hidden ? "none" : "some",
        },
      },
      redisRoot,
      mongoRoot,
      redisPanels,
      mongoPanels,
    );
    const lessons = config.lesson ? h("lesson-picker") : null;
    const snippetRoot = show("snippet") ? h("section", { class: "panel snippet-panel", "aria-label": "Driver snippet" }) : null;
    this.status.hidden = true;
    const frame = h("div", { class: "nsp", dataset: { readonly: String(config.readonly) } }, clock, lessons, workspace, snippetRoot);
    this.shadow.append(frame);

    // A command may make keys due (`.time +1h`, PEXPIRE 0): expire them before panels redraw.
    events.addEventListener(
      "playground:change",
      (e) => {
        if (e.detail?.input !== undefined) loop.tickIfDue(Date.now(), { force: true });
      },
      { capture: true },
    );
    clock.attach(playground, loop);
    info.attach(playground, events);
    keyspace.attach(playground, loop, events);
    collections.attach(playground, loop, events);
    const pipeline = new PipelineViewer(pipelineRoot, playground, events);
    const explain = new ExplainView(explainRoot, playground, events);
    const snippet = snippetRoot ? new SnippetPanel(snippetRoot, playground) : null;
    for (const target of [redis, mongo]) {
      target.root.addEventListener("click", (e) => {
        if (e.target.closest("input, textarea, button, a")) return;
        if (!window.getSelection()?.isCollapsed) return;
        target.focus();
      });
      // Read-only steps: the lesson's commands run when clicked; nothing else can be typed.
      target.input.readOnly = config.readonly;
      if (config.readonly) target.input.placeholder = "Run the lesson's commands above";
    }

    const sandbox = { playground, redis, mongo, loop, clock, info, keyspace, collections, pipeline, explain, clients, snippet, lessons: null };
    this.sandbox = sandbox;
    live.add(this);
    loop.start();
    let restored = false;
    if (config.storage !== null) {
      const options = { dbName: config.storage, events, anchor: clock, bar: false, shareLinks: false };
      sandbox.persistence = await startPersistence(sandbox, options);
      const info = JSON.parse(playground.redisInfo(Date.now()));
      const catalog = JSON.parse(playground.mongoCatalog());
      restored = info.keys > 0 || catalog.databases.some((db) => db.collections.length > 0);
    }
    if (lessons) {
      sandbox.lessons = lessons;
      await lessons.attach({ playground, redis, mongo, events, lesson: config.lesson, progressKey: stored("lessons") });
    }
    // Work brought back is the reader's own, which the setup must not overwrite.
    if (!restored) await this.setUp(config.setup);
    return sandbox;
  }

  /**
   * The inline setup (after the lesson's own): redis-cli lines as client 1, then mongosh
   * statements, silently, as a lesson's setup runs. A line answering an error stops it and
   * is reported in the embed.
   */
  async setUp(setup) {
    const { playground, redis, mongo } = this.sandbox;
    let failure = null;
    try {
      // A setup that runs Lua or Mongo waits for the full module.
      await playground.prepare(setup.redis, setup.mongo);
      runSetup(playground, { redis: setup.redis, mongo: mongoStatements(playground, setup.mongo) }, "setup");
    } catch (error) {
      failure = error.message;
    }
    mongo.trackDatabase();
    redis.clients.refresh();
    redis.updatePrompt();
    // As each engine's own change, so the panels that follow only one engine redraw too.
    for (const [engine, root] of [["redis", redis.root], ["mongo", mongo.root]]) {
      root.dispatchEvent(new CustomEvent("playground:change", { bubbles: true, detail: { engine, setup: true } }));
    }
    if (failure !== null) {
      this.shadow.querySelector(".nsp").prepend(h("p", { class: "load-status", role: "alert", dataset: { role: "setup-error" } }, failure));
    }
  }

  /** The engine trapped: this embed can do nothing more until the page reloads. */
  stopped(message) {
    this.sandbox?.loop.stop();
    if (this.shadow.querySelector("[data-role=stopped]")) return;
    const frame = this.shadow.querySelector(".nsp");
    if (frame) frame.inert = true;
    this.shadow.append(
      h(
        "div",
        { class: "panic-overlay", role: "alert", dataset: { role: "stopped" } },
        h(
          "div",
          { class: "panic-box" },
          h("h2", {}, "The sandbox hit an internal error:"),
          h("pre", { class: "panic-detail" }, String(message)),
          h("p", {}, "Reload the page to start again."),
        ),
      ),
    );
  }
}

customElements.define("nosql-playground", NosqlPlayground);
