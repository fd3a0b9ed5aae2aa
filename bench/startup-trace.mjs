// Where the page's start-up goes, from Chromium's own trace:
//
//   node bench/startup-trace.mjs [--loads N] [--page DIR]... [--save FILE] [--events]
//
// Each load is a fresh browser context (no HTTP cache) of a page served from loopback, traced
// with the timeline categories from navigation to `data-ready`. With several `--page` DIRs
// (default www/) the loads alternate between them, so a busy neighbour weighs on each alike.
// Printed, as medians over the loads of each page:
// - milestones in ms since navigation start, from the page's own clock: the resources'
//   arrival, the bundle running (its first custom element defined), the database's open and
//   first read, the wasm's instantiation, the first frame and paint, `data-ready`;
// - CPU time: the renderer's main thread by kind of work (script, style, layout, paint, wasm
//   compile, HTML parsing, …; each trace event's thread time less its children's), and every
//   thread of every Chromium process together. Unlike wall time, CPU time changes little with
//   the machine's load, so it tells what a change saves where the milestones are noise.
// The milestones come from an init script (wrapping indexedDB.open, IDBObjectStore.get,
// WebAssembly.compileStreaming and instantiate*, customElements.define); nothing in www/ knows about it, and the
// driver waits for `data-ready` through a console message rather than page.waitForFunction,
// whose injected script would otherwise run on the page's main thread as it starts.
// `--save FILE` writes the last load's trace (chrome://tracing, Perfetto); `--events` lists
// its main-thread tasks over 1 ms in order; `--forced` the style and layout work that script
// forced (reading a layout property before the frame), with the script's stack. `--no-trace`
// takes the milestones alone, without the tracing's own cost; `--json FILE` writes every
// load's figures.

import { createServer } from "node:http";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../tests/page/harness.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const opts = { loads: 5, pages: [], save: null, events: false, forced: false, trace: true, json: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--loads") opts.loads = Number(process.argv[++i]);
  else if (a === "--page") opts.pages.push(path.resolve(process.argv[++i]));
  else if (a === "--save") opts.save = path.resolve(process.argv[++i]);
  else if (a === "--events") opts.events = true;
  else if (a === "--forced") opts.forced = true;
  else if (a === "--no-trace") opts.trace = false;
  else if (a === "--json") opts.json = path.resolve(process.argv[++i]);
  else {
    console.log("usage: node bench/startup-trace.mjs [--loads N] [--page DIR]... [--save FILE] [--events] [--forced] [--no-trace] [--json FILE]");
    process.exit(a === "--help" ? 0 : 2);
  }
}
if (opts.pages.length === 0) opts.pages.push(path.join(repo, "www"));

const MIME = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json",
};

/** Serves each page at /0/, /1/, …, as bench/run.mjs serves the page under test. */
function serve(roots) {
  const server = createServer(async (req, res) => {
    const [, n, rest] = decodeURIComponent(new URL(req.url, "http://x").pathname).match(/^\/(\d+)(\/.*)$/) ?? [];
    const root = roots[Number(n)];
    if (!root) return res.writeHead(404).end();
    let file = path.resolve(root, "." + rest);
    if (!file.startsWith(root + path.sep) && file !== root) return res.writeHead(403).end();
    try {
      if ((await stat(file)).isDirectory()) file = path.join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": MIME[path.extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const CATEGORIES = [
  "devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "v8", "v8.wasm",
  "blink.user_timing", "loading", "blink", "IndexedDB",
];

/** What a main-thread trace event counts as; null for the ones only their children explain. */
function kind(e) {
  const n = e.name;
  if (n === "ParseHTML") return "parse HTML";
  if (n === "ParseAuthorStyleSheet") return "parse CSS";
  if (n === "UpdateLayoutTree" || n === "RecalculateStyles") return "style";
  if (n === "Layout") return "layout";
  if (["Paint", "PaintImage", "UpdateLayer", "Layerize", "PrePaint", "CompositeLayers", "Commit"].includes(n)) return "paint";
  if (n.startsWith("v8.wasm") || n.startsWith("wasm.")) return "wasm compile";
  if (["v8.compile", "v8.compileModule", "V8.CompileCode", "v8.produceModuleCache"].includes(n)) return "JS compile";
  if (["EvaluateScript", "v8.evaluateModule", "FunctionCall", "EventDispatch", "TimerFire", "FireAnimationFrame", "V8.Execute", "v8.run", "RunMicrotasks"].includes(n)) return "script";
  if (n.startsWith("IDB")) return "IndexedDB";
  if (n === "MinorGC" || n === "MajorGC" || n.startsWith("V8.GC")) return "GC";
  return null;
}

const isTask = (e) => e.name === "RunTask" || e.name === "ThreadControllerImpl::RunTask";

/**
 * CPU time by kind on one thread between t0 and t1 (µs, trace clock): each complete event's
 * thread time (tdur; its wall time, dur, counts the time the thread was descheduled) less its
 * children's, given to the nearest ancestor with a kind; work under no such ancestor is named
 * after the task's first event ("other: …").
 */
function breakdown(events, t0, t1) {
  const xs = events.filter((e) => e.ph === "X" && e.ts >= t0 && e.ts < t1 && e.dur !== undefined);
  xs.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const totals = {};
  const stack = [];
  const close = (until) => {
    while (stack.length && stack[stack.length - 1].end <= until) {
      const top = stack.pop();
      totals[top.kind] = (totals[top.kind] ?? 0) + top.self;
    }
  };
  let cpu = 0;
  for (const e of xs) {
    close(e.ts);
    const parent = stack[stack.length - 1];
    const own = e.tdur ?? e.dur;
    if (parent) parent.self -= own;
    else cpu += own;
    const inherited = parent && parent.kind !== "other task" ? parent.kind : null;
    const k = kind(e) ?? inherited ?? (isTask(e) ? "other task" : "other: " + e.name);
    stack.push({ kind: k, end: e.ts + e.dur, self: own });
  }
  close(Infinity);
  return { totals, cpu };
}

/** Thread time of the top-level events of every thread between t0 and t1 (µs). */
function allThreads(events, t0, t1) {
  const threads = new Map();
  for (const e of events) {
    if (e.ph !== "X" || e.ts < t0 || e.ts >= t1 || e.tdur === undefined) continue;
    const key = `${e.pid}:${e.tid}`;
    if (!threads.has(key)) threads.set(key, []);
    threads.get(key).push(e);
  }
  let cpu = 0;
  for (const list of threads.values()) {
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    let end = -Infinity;
    for (const e of list) {
      if (e.ts < end) continue;
      cpu += e.tdur;
      end = e.ts + e.dur;
    }
  }
  return cpu;
}

/** Runs in the page before its own scripts: the milestones as performance marks. */
function milestones() {
  const mark = (name) => performance.getEntriesByName(name).length === 0 && performance.mark(name);
  const open = indexedDB.open.bind(indexedDB);
  indexedDB.open = (...args) => {
    mark("database open called");
    const request = open(...args);
    request.addEventListener("upgradeneeded", () => mark("database created"));
    request.addEventListener("success", () => mark("database opened"));
    return request;
  };
  const get = IDBObjectStore.prototype.get;
  IDBObjectStore.prototype.get = function (...args) {
    mark("database first read called");
    const request = get.apply(this, args);
    request.addEventListener("success", () => mark("database first read done"));
    return request;
  };
  for (const name of ["compileStreaming", "instantiateStreaming", "instantiate"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = function (...args) {
      mark(`wasm ${name} called`);
      const result = original.apply(this, args);
      result.then(() => mark(`wasm ${name} done`), () => {});
      return result;
    };
  }
  const define = customElements.define.bind(customElements);
  customElements.define = (...args) => {
    mark("bundle runs (first element defined)");
    return define(...args);
  };
  requestAnimationFrame(() => mark("first animation frame"));
  new MutationObserver((_, observer) => {
    if (document.body?.dataset.ready !== "true") return;
    performance.mark("data-ready");
    observer.disconnect();
    console.debug("startup-trace: data-ready");
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function load(browser, url, last) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await ctx.newPage();
    await page.addInitScript(milestones);
    const categories = opts.forced ? [...CATEGORIES, "disabled-by-default-devtools.timeline.stack"] : CATEGORIES;
    if (opts.trace) await browser.startTracing(page, { categories });
    const ready = page.waitForEvent("console", { predicate: (m) => m.text() === "startup-trace: data-ready", timeout: 30000 });
    await page.goto(url, { waitUntil: "commit" });
    await ready;
    const inPage = await page.evaluate(() => {
      const marks = {};
      for (const e of [...performance.getEntriesByType("mark"), ...performance.getEntriesByType("paint")]) marks[e.name] = e.startTime;
      for (const r of performance.getEntriesByType("resource")) marks[`${new URL(r.name).pathname.replace(/^\/\d+\//, "")} arrived`] = r.responseEnd;
      marks["document arrived"] = performance.getEntriesByType("navigation")[0].responseEnd;
      return marks;
    });
    if (!opts.trace) return { marks: inPage, totals: {}, mainCpu: NaN, allCpu: NaN };
    const trace = JSON.parse((await browser.stopTracing()).toString());
    const events = trace.traceEvents ?? trace;
    // The renderer's main thread: the one that parsed the page.
    const parse = events.find((e) => e.name === "ParseHTML" && e.ph === "X" && e.args?.beginData?.url?.startsWith(url.replace(/index\.html$/, "")));
    const main = events.filter((e) => e.pid === parse.pid && e.tid === parse.tid);
    // performance.now()'s origin in trace time: the data-ready mark is at both.
    const readyTs = events.find((e) => e.name === "data-ready" && e.pid === parse.pid).ts;
    const navTs = readyTs - inPage["data-ready"] * 1000;
    const { totals, cpu } = breakdown(main, navTs, readyTs);
    if (last && opts.save) await writeFile(opts.save, JSON.stringify(trace));
    if (last && opts.events) {
      for (const e of main.filter((e) => e.ph === "X" && e.dur >= 1000 && e.ts >= navTs && e.ts <= readyTs).sort((a, b) => a.ts - b.ts)) {
        const detail = e.args?.data?.url ?? e.args?.data?.functionName ?? e.args?.data?.type ?? "";
        console.log(`${((e.ts - navTs) / 1000).toFixed(1).padStart(7)} ms  ${(e.dur / 1000).toFixed(1).padStart(6)} ms wall  ${((e.tdur ?? 0) / 1000).toFixed(1).padStart(6)} ms cpu  ${e.name} ${detail}`);
      }
    }
    if (last && opts.forced) {
      for (const e of main) {
        const stack = e.args?.beginData?.stackTrace ?? e.args?.data?.stackTrace;
        if (!stack || !["Layout", "UpdateLayoutTree"].includes(e.name) || e.ts < navTs || e.ts > readyTs) continue;
        const where = stack.slice(0, 4).map((f) => `${f.functionName || "(anonymous)"}:${f.lineNumber}`).join(" < ");
        console.log(`${((e.ts - navTs) / 1000).toFixed(1).padStart(7)} ms  ${((e.tdur ?? e.dur) / 1000).toFixed(1).padStart(5)} ms cpu  forced ${e.name} by ${where}`);
      }
    }
    return { marks: inPage, totals, mainCpu: cpu, allCpu: allThreads(events, navTs, readyTs) };
  } finally {
    await ctx.close();
  }
}

const server = await serve(opts.pages);
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await launchBrowser();
const results = opts.pages.map(() => []);
try {
  for (let i = 0; i < opts.loads; i++) {
    for (const [p] of opts.pages.entries()) {
      results[p].push(await load(browser, `${base}/${p}/index.html`, i === opts.loads - 1 && p === opts.pages.length - 1));
    }
  }
} finally {
  await browser.close();
  server.close();
}

if (opts.json) await writeFile(opts.json, JSON.stringify(opts.pages.map((page, p) => ({ page, loads: results[p] })), null, 1));

const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : "—");
const names = opts.pages.map((p) => path.relative(repo, p) || ".");
const width = Math.max(...names.map((n) => n.length), 8) + 2;
const row = (label, values) => console.log(label.padEnd(44) + values.map((v) => ms(v).padStart(width)).join(""));
console.log(`${opts.loads} loads each, alternating; medians in ms`);
console.log("".padEnd(44) + names.map((n) => n.padStart(width)).join(""));
console.log("milestones (since navigation start)");
const ready = results.map((r) => median(r.map((l) => l.marks["data-ready"])));
const marks = [...new Set(results.flatMap((r) => r.flatMap((l) => Object.keys(l.marks))))]
  .map((name) => [name, results.map((r) => median(r.map((l) => l.marks[name])))])
  .filter(([, values]) => values.some((v, p) => v <= ready[p]))
  .sort((a, b) => median(a[1]) - median(b[1]));
for (const [name, values] of marks) row("  " + name, values);
// The server's and the network's share varies most on a busy machine: what the page itself
// takes is clearer from the moment its script has arrived.
console.log("from the page's script arriving (dist/main.js) to");
for (const name of ["bundle runs (first element defined)", "data-ready"]) {
  row("  " + name, results.map((r) => median(r.map((l) => l.marks[name] - l.marks["dist/main.js arrived"]))));
}
console.log("CPU time, navigation start → data-ready");
row("  all Chromium threads", results.map((r) => median(r.map((l) => l.allCpu / 1000))));
row("  renderer main thread", results.map((r) => median(r.map((l) => l.mainCpu / 1000))));
const kinds = [...new Set(results.flatMap((r) => r.flatMap((l) => Object.keys(l.totals))))];
const byKind = kinds
  .map((k) => [k, results.map((r) => median(r.map((l) => (l.totals[k] ?? 0) / 1000)))])
  .filter(([, values]) => values.some((v) => v >= 0.3))
  .sort((a, b) => Math.max(...b[1]) - Math.max(...a[1]));
for (const [k, values] of byKind) row("    " + k, values);
