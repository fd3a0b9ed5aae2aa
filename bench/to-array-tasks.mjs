// How long the page is held by `let a = db.c.find().toArray()` over a million documents: the
// longest task (PerformanceObserver `longtask`, over 50 ms) and the longest gap between two
// turns of a message loop, from Enter until the statement's entry is in the log, in headless
// Chromium on the built page (scripts/build-wasm first).
//   node bench/to-array-tasks.mjs [--runs N] [--root DIR] [statement ...]
// --root serves another checkout's www/ (its own build), to measure a page before a change.
// The delayed save is put off, so that only the statement is measured.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
let runs = 2;
let root = resolve(new URL("..", import.meta.url).pathname);
const statements = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runs") runs = Number(args[++i]);
  else if (args[i] === "--root") root = resolve(args[++i]);
  else statements.push(args[i]);
}
if (statements.length === 0) statements.push("let a = db.c.find().toArray()");
const { launchBrowser, startServer } = await import(pathToFileURL(`${root}/tests/page/harness.mjs`));
const { buildPage } = await import(pathToFileURL(`${root}/scripts/build-page.mjs`));

await buildPage();
const server = await startServer();
const browser = await launchBrowser();

async function measure(src) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 60_000 });
  await page.evaluate(async () => {
    await window.app.playground.switchToFull();
    window.app.persistence.delayMs = 3_600_000;
    for (let start = 0; start < 1_000_000; start += 100_000) {
      window.app.playground.mongo(`db.c.insertMany(Array.from({length: 100000}, (_, i) => ({i: i + ${start}, s: 'text', k: (i + ${start}) % 10})))`, Date.now());
    }
  });
  await page.waitForTimeout(500);
  const input = page.getByRole("textbox", { name: "Mongo shell" });
  await input.fill(src);
  await page.evaluate(() => {
    window.__tasks = [];
    window.__observer = new PerformanceObserver((list) => window.__tasks.push(...list.getEntries().map((e) => e.duration)));
    window.__observer.observe({ type: "longtask" });
    window.__gap = 0;
    let last = performance.now();
    window.__pinging = true;
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const now = performance.now();
      window.__gap = Math.max(window.__gap, now - last);
      last = now;
      if (window.__pinging) channel.port2.postMessage(0);
    };
    channel.port2.postMessage(0);
    const log = document.querySelector("#mongo-console [role=log]");
    const before = log.querySelectorAll(".entry").length;
    window.__done = new Promise((ok) => {
      const watch = new MutationObserver(() => {
        if (log.querySelectorAll(".entry").length === before) return;
        watch.disconnect();
        ok(performance.now());
      });
      watch.observe(log, { childList: true, subtree: true });
    });
    // Each call into the engine for the statement, timed.
    window.__calls = [];
    const engine = window.app.playground;
    const names = new Set();
    for (let o = engine; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const name of Object.getOwnPropertyNames(o)) if (name !== "constructor" && typeof engine[name] === "function") names.add(name);
    }
    for (const name of names) {
      const call = engine[name].bind(engine);
      engine[name] = (...args) => {
        const start = performance.now();
        const result = call(...args);
        window.__calls.push([name, performance.now() - start]);
        return result;
      };
    }
    window.__start = performance.now();
  });
  await input.press("Enter");
  const result = await page.evaluate(async () => {
    const end = await window.__done;
    await new Promise((ok) => setTimeout(ok, 200));
    window.__pinging = false;
    window.__observer.disconnect();
    const calls = window.__calls;
    return { took: end - window.__start, tasks: window.__tasks, gap: window.__gap, calls, length: window.app.playground.mongo("a.length", Date.now()) };
  });
  await context.close();
  return result;
}

const f = (n) => n.toFixed(0);
for (let run = 1; run <= runs; run++) {
  for (const src of statements) {
    const r = await measure(src);
    const longest = r.tasks.length ? Math.max(...r.tasks) : 0;
    console.log(
      `${src} run ${run}: Enter to entry ${f(r.took)} ms; longest task ${r.tasks.length ? f(longest) + " ms" : "none over 50 ms"}, ` +
        `longest gap ${f(r.gap)} ms; a.length ${r.length.trim()}; ${r.calls.length} calls into the engine, the longest ` +
        r.calls.reduce((a, b) => (b[1] > a[1] ? b : a), ["none", 0]).map((x) => (typeof x === "number" ? `${f(x)} ms` : x)).join(" ") +
        (process.env.CALLS ? `\n${JSON.stringify([...new Set(r.calls.map((c) => c[0]))].map((k) => { const v = r.calls.filter((c) => c[0] === k).map((c) => c[1]); return [k, v.length, f(Math.max(...v))]; })) + "\n" + JSON.stringify(r.calls.filter((c) => c[0] === "mongoStepPrepared").map((c) => f(c[1])).join(" "))}` : "") +
        (r.tasks.length > 1 ? ` (${r.tasks.length} over 50 ms: ${r.tasks.map(f).join(", ")})` : ""),
    );
  }
}
await browser.close();
await server.close();
