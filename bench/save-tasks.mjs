// How long the page is held while it saves a big sandbox to IndexedDB: the longest task
// (PerformanceObserver `longtask`, over 50 ms) from the save's start to its write's end, and
// the longest gap between two turns of a message loop run meanwhile (the longest the page
// went without handling anything), in headless Chromium on the built page (scripts/build-wasm
// first).
//   node bench/save-tasks.mjs [--runs N] [keys|zset|hash ...]
// keys: 1M string keys (38 MB); zset: one sorted set of 1M members; hash: one hash of 1M
// fields; not among the defaults: stream, one stream of 1M entries; pending, the same stream
// with a consumer group that has read all of it (1M pending entries in its state record);
// and, still one step each: string, one string of 32 MB; json, one JSON array of 1M numbers;
// mongo, the 100,000 documents of one insertMany (as README's giant statement) in a
// collection with two secondary indexes; paste, the same statement pasted into the Mongo
// console and run there (in steps), with no index; bigdoc, one document holding an array of
// 1M numbers.
// Each run fills a fresh page, then saves it four ways, in turn:
//   stepped   the delayed save (`autosave`), its snapshot written in parts (the page's way)
//   one-call  `saveNow` (SAVE, page hidden), written in parts
//   stepped/1 the delayed save, written as one record (the write before the parts)
//   whole-key the delayed save with a budget no key exceeds (every key in one call, as the
//             dump did before it could stop inside a key)
// (`--ways stepped,one-call` picks some). Each line also gives the longest call into the
// engine the save made (its begin, a step, a part handed over, or the whole file) and the longest of
// those that handed bytes over.
import { launchBrowser, startServer } from "../tests/page/harness.mjs";
import { buildPage } from "../scripts/build-page.mjs";

const args = process.argv.slice(2);
let runs = 2;
let ways = ["stepped", "one-call", "stepped/1", "whole-key"];
const cases = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runs") runs = Number(args[++i]);
  else if (args[i] === "--ways") ways = args[++i].split(",");
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
    // Streams, JSON and Mongo live in the full module.
    if (["stream", "pending", "json", "mongo", "paste", "bigdoc"].includes(which)) await window.app.playground.switchToFull();
    if (which === "paste") {
      window.app.persistence.delayMs = 3_600_000;
      const docs = Array.from({ length: 100_000 }, (_, i) => ({ _id: i, name: `user ${i}`, email: `user${i}@example.com`, age: 18 + (i % 60) }));
      const data = new DataTransfer();
      data.setData("text/plain", `db.c.insertMany(${JSON.stringify(docs)})`);
      const input = document.querySelector("#mongo-console [data-role=input]");
      input.focus();
      input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      return;
    }
    const mongo = {
      mongo: [
        `db.c.insertMany(${JSON.stringify(
          Array.from({ length: 100_000 }, (_, i) => ({
            _id: i,
            name: `user ${i}`,
            email: `user${i}@example.com`,
            age: 18 + (i % 60),
            tags: ["a", "b", i % 2 ? "odd" : "even"],
            address: { city: `city ${i % 100}`, zip: `${10000 + i}` },
          })),
        )})`,
        "db.c.createIndex({ email: 1 }, { unique: true })",
        "db.c.createIndex({ age: 1, name: 1 })",
      ],
      bigdoc: ["db.c.insertOne({ _id: 1, a: Array.from({ length: 1000000 }, (_, i) => i) })"],
    }[which];
    if (mongo) {
      for (const src of mongo) {
        const out = window.app.playground.mongo(src, Date.now());
        if (/Error/.test(out)) throw new Error(out.slice(0, 300));
      }
      window.app.persistence.delayMs = 3_600_000;
      return;
    }
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
  if (which === "paste") await page.locator("#mongo-console .entry .output", { hasText: "insertedIds" }).waitFor({ timeout: 120_000 });
  await page.waitForTimeout(500);
  const result = await page.evaluate(async (way) => {
    const p = window.app.persistence;
    if (way === "stepped/1") p.chunkBytes = Infinity;
    // The longest call into the engine the save made (a step, or the hand-over of a part or
    // of the whole file), and how many: the page's build may hand the file over in parts
    // (snapshotStep's second argument) or whole in its last call.
    const step = p.playground.snapshotStep.bind(p.playground);
    let longestCall = 0;
    let longestHandOver = 0;
    let calls = 0;
    let slowest = "";
    const timed = (call, what) => {
      const start = performance.now();
      const out = call();
      const took = performance.now() - start;
      if (took > longestCall) slowest = `${what ?? (out === undefined ? "a step" : "a hand-over")}, call ${calls + 1}`;
      longestCall = Math.max(longestCall, took);
      if (out !== undefined) longestHandOver = Math.max(longestHandOver, took);
      calls += 1;
      return out;
    };
    p.playground.snapshotStep = (budget, part) => timed(() => step(way === "whole-key" ? 2_000_000_000 : budget, part));
    const saveNow = p.playground.snapshotSave.bind(p.playground);
    p.playground.snapshotSave = (...args) => timed(() => saveNow(...args));
    const begin = p.playground.snapshotBegin.bind(p.playground);
    p.playground.snapshotBegin = (...args) => timed(() => begin(...args), "the begin");
    const tasks = [];
    const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
    observer.observe({ type: "longtask" });
    await new Promise((ok) => setTimeout(ok, 100));
    tasks.length = 0;
    const start = performance.now();
    let size = 0;
    const write = p.write.bind(p);
    p.write = (bytes) => {
      size = Array.isArray(bytes) ? bytes.reduce((n, b) => n + b.length, 0) : bytes.length;
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
    return { took, size, tasks, gap, saves: p.saves, longestCall, longestHandOver, calls, slowest };
  }, way);
  await context.close();
  return result;
}

const f = (n) => n.toFixed(0);
for (let run = 1; run <= runs; run++) {
  for (const which of cases) {
    for (const way of ways) {
      const r = await measure(which, way);
      const longest = r.tasks.length ? Math.max(...r.tasks) : 0;
      console.log(
        `${which.padEnd(4)} ${way.padEnd(9)} run ${run}: ${(r.size / 1e6).toFixed(1)} MB saved (${r.saves}) in ${f(r.took)} ms; ` +
          `longest task ${r.tasks.length ? f(longest) + " ms" : "none over 50 ms"}, longest gap ${f(r.gap)} ms, ` +
          `longest engine call ${f(r.longestCall)} ms of ${r.calls} (${r.slowest}), longest that handed bytes over ${f(r.longestHandOver)} ms` +
          (r.tasks.length > 1 ? ` (${r.tasks.length} over 50 ms: ${r.tasks.map(f).join(", ")})` : ""),
      );
    }
  }
}
await browser.close();
await server.close();
