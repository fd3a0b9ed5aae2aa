// How long the page is held while it saves a big sandbox to IndexedDB: the longest task
// (PerformanceObserver `longtask`, over 50 ms) from the save's start to its write's end, and
// the longest gap between two turns of a message loop run meanwhile (the longest the page
// went without handling anything), in headless Chromium on the built page (scripts/build-wasm
// first).
//   node bench/save-tasks.mjs [--runs N] [keys|zset|hash ...]
// keys: 1M string keys (38 MB); zset: one sorted set of 1M members; hash: one hash of 1M
// fields; not among the defaults: stream, one stream of 1M entries; pending, the same stream
// with a consumer group that has read all of it (1M pending entries in its state record);
// and, still one step each: string, one string of 32 MB; json, one JSON array of 1M numbers.
// Each run fills a fresh page, then saves it four ways, in turn:
//   stepped   the delayed save (`autosave`), its snapshot written in parts (the page's way)
//   one-call  `saveNow` (SAVE, page hidden), written in parts
//   stepped/1 the delayed save, written as one record (the write before the parts)
//   whole-key the delayed save with a budget no key exceeds (every key in one call, as the
//             dump did before it could stop inside a key)
import { launchBrowser, startServer } from "../tests/page/harness.mjs";
import { buildPage } from "../scripts/build-page.mjs";

const args = process.argv.slice(2);
let runs = 2;
const cases = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runs") runs = Number(args[++i]);
  else cases.push(args[i]);
}
if (cases.length === 0) cases.push("keys", "zset", "hash");

await buildPage();
const server = await startServer();
const browser = await launchBrowser();

async function measure(which, way) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 60_000 });
  await page.evaluate(async (which) => {
    // Streams and JSON live in the full module.
    if (which === "stream" || which === "pending" || which === "json") await window.app.playground.switchToFull();
    const words = (i, f) => Array.from({ length: 10_000 }, (_, k) => f(i + k)).join(" ");
    const fill = {
      keys: (i) => `MSET ${words(i, (n) => `key:${n} value-${n}-abcdefghij`)}`,
      zset: (i) => `ZADD z ${words(i, (n) => `${n % 1000} m${n}`)}`,
      hash: (i) => `HSET h ${words(i, (n) => `f${n} v${n}`)}`,
    }[which];
    const lines = (i, f) => Array.from({ length: 10_000 }, (_, k) => f(i + k)).join("\n");
    const script = (i) =>
      ({
        string: () => (i === 0 ? "SETRANGE s 33554431 x" : ""),
        stream: () => lines(i, (n) => `XADD x ${n + 1}-1 f v${n}`),
        pending: () =>
          (i === 0 ? "XGROUP CREATE x g $ MKSTREAM\n" : "") +
          lines(i, (n) => `XADD x ${n + 1}-1 f v${n}`) +
          "\nXREADGROUP GROUP g c COUNT 10000 STREAMS x >",
        json: () => (i === 0 ? `JSON.SET j $ [${Array.from({ length: 1_000_000 }, (_, n) => n).join(",")}]` : ""),
      })[which]?.() ?? fill(i);
    for (let i = 0; i < 1_000_000; i += 10_000) window.app.playground.redisScript(script(i), Date.now());
    window.app.persistence.delayMs = 3_600_000;
  }, which);
  await page.waitForTimeout(500);
  const result = await page.evaluate(async (way) => {
    const p = window.app.persistence;
    if (way === "stepped/1") p.chunkBytes = Infinity;
    if (way === "whole-key") {
      const step = p.playground.snapshotStep.bind(p.playground);
      p.playground.snapshotStep = () => step(2_000_000_000);
    }
    const tasks = [];
    const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
    observer.observe({ type: "longtask" });
    await new Promise((ok) => setTimeout(ok, 100));
    tasks.length = 0;
    const start = performance.now();
    let size = 0;
    const write = p.write.bind(p);
    p.write = (bytes) => {
      size = bytes.length;
      return write(bytes);
    };
    // The longest the page went without running a task of its own: a message posted again
    // each time it is handled waits behind whatever task runs.
    let gap = 0;
    let last = performance.now();
    let pinging = true;
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
      if (pinging) channel.port2.postMessage(0);
    };
    channel.port2.postMessage(0);
    await (way === "one-call" ? p.saveNow() : p.autosave());
    await p.idle();
    pinging = false;
    const took = performance.now() - start;
    await new Promise((ok) => setTimeout(ok, 200));
    observer.disconnect();
    return { took, size, tasks, gap, saves: p.saves };
  }, way);
  await context.close();
  return result;
}

const f = (n) => n.toFixed(0);
for (let run = 1; run <= runs; run++) {
  for (const which of cases) {
    for (const way of ["stepped", "one-call", "stepped/1", "whole-key"]) {
      const r = await measure(which, way);
      const longest = r.tasks.length ? Math.max(...r.tasks) : 0;
      console.log(
        `${which.padEnd(4)} ${way.padEnd(9)} run ${run}: ${(r.size / 1e6).toFixed(1)} MB saved (${r.saves}) in ${f(r.took)} ms; ` +
          `longest task ${r.tasks.length ? f(longest) + " ms" : "none over 50 ms"}, longest gap ${f(r.gap)} ms` +
          (r.tasks.length > 1 ? ` (${r.tasks.length} over 50 ms: ${r.tasks.map(f).join(", ")})` : ""),
      );
    }
  }
}
await browser.close();
await server.close();
