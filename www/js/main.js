// Boots the page: loads the engine, wires the consoles to it and starts the clock loop.

// First: it starts loading the engine and the saved sandbox before the modules below run.
import { engine } from "./start.js";
import "./clock-bar.js";
import "./collections-panel.js";
import "./keyspace-panel.js";
import "./lesson-picker.js";
import "./server-info.js";
import { ExplainView } from "./explain-view.js";
import { FrameLoop } from "./frame-loop.js";
import { MongoConsole } from "./mongo-console.js";
import { startPersistence } from "./persistence.js";
import { installPanicOverlay } from "./panic-overlay.js";
import { PipelineViewer } from "./pipeline-viewer.js";
import { RedisClients } from "./redis-clients.js";
import { RedisConsole } from "./redis-console.js";
import { SnippetPanel } from "./snippet-panel.js";

async function boot() {
  installPanicOverlay();
  // The first module, loaded by start.js rather than imported statically so a missing build
  // shows a message, not a blank page; the full one (Lua, RediSearch, MongoDB, snippets) comes
  // on first use (engine.js). The saved sandbox's database opens meanwhile (persistence.js).
  const playground = await engine;
  const redis = new RedisConsole(document.getElementById("redis-console"), playground);
  const mongo = new MongoConsole(document.getElementById("mongo-console"), playground);
  const loop = new FrameLoop(playground);
  const clock = document.getElementById("clock-bar");
  const keyspace = document.getElementById("keyspace");
  const info = document.getElementById("server-info");
  const collections = document.getElementById("collections");
  // A command may make keys due (`.time +1h`, PEXPIRE 0): expire them before panels redraw.
  document.addEventListener(
    "playground:change",
    (e) => {
      if (e.detail?.input !== undefined) loop.tickIfDue(Date.now(), { force: true });
    },
    { capture: true },
  );
  clock.attach(playground, loop);
  info.attach(playground);
  keyspace.attach(playground, loop);
  collections.attach(playground, loop);
  const pipeline = new PipelineViewer(document.querySelector("[data-slot=pipeline]"), playground);
  const explain = new ExplainView(document.querySelector("[data-slot=explain]"), playground);
  const clients = new RedisClients(redis, playground, loop);
  const lessons = document.getElementById("lessons");
  let restoredSandbox;
  const restored = new Promise((resolve) => (restoredSandbox = resolve));
  lessons.attach({ playground, redis, mongo, events: document, restored });
  const snippet = SnippetPanel.mount(document, playground);
  loop.start();

  // Clicking anywhere in a console (but not while selecting output to copy) types into it.
  for (const target of [redis, mongo]) {
    target.root.addEventListener("click", (e) => {
      if (e.target.closest("input, textarea, button, a")) return;
      if (!window.getSelection()?.isCollapsed) return;
      target.focus();
    });
  }
  for (const el of document.querySelectorAll("[data-role=input]")) el.disabled = false;

  // For tests; not a public API.
  window.playground = playground;
  window.app = { playground, redis, mongo, loop, clock, keyspace, info, collections, pipeline, explain, clients, lessons, snippet };
  // Restores the saved sandbox before the page says it is ready (see persistence.js).
  try {
    window.app.persistence = await startPersistence(window.app);
  } finally {
    restoredSandbox();
  }
  document.body.dataset.ready = "true";
  redis.focus();
}

boot().catch((error) => {
  const status = document.getElementById("load-status");
  status.hidden = false;
  status.textContent =
    "The sandbox engine did not load. If you are running from a checkout, build it first " +
    "(scripts/build-wasm) and serve www/ over HTTP. " +
    `Details: ${error}`;
  document.body.dataset.ready = "error";
  console.error(error);
});
