// The cost of one call into the wasm engine, as CPU time rather than wall time: on a shared
// machine the wall clock measures the neighbours, while the CPU time of the thread that runs
// the calls does not move with them. Linux only (it reads /proc/<pid>/task/<tid>/schedstat).
//
//   node bench/calls.mjs [--pkg DIR] [--docs N] [--reps N] [--node] [--all-threads]
//                        [--profile PHASE FILE]
//
// Loads bench/calls.html in headless Chromium (cross-origin isolated, as bench.html), or the
// same workloads in this Node process with --node, and prints per phase the median over the
// repetitions of µs of CPU time and of wall time per operation. The renderers are found
// through CDP's SystemInfo.getProcessInfo and their main threads' CPU time summed (only this
// page's is busy); --all-threads counts every thread of theirs (V8's GC and compiler helpers
// too). --profile records Chromium's CPU profile (CDP Profiler) of one phase into FILE; a
// package built with the names kept shows the wasm functions by name.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setup, phases, PLAN } from "./calls-work.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const pkg = path.resolve(option("--pkg", path.join(repo, "www/pkg-full")));
const docs = Number(option("--docs", 1_000_000));
const reps = Number(option("--reps", 3));
const profileAt = args.indexOf("--profile");
const profile = profileAt >= 0 ? { phase: args[profileAt + 1], file: args[profileAt + 2] } : null;

const threadNs = (pid, tid) => {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
  } catch {
    return 0;
  }
};

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function measure(runPhase, cpuNs, around = {}) {
  const out = {};
  for (const [name, n] of PLAN) {
    await runPhase(name, Math.min(n, 2000));
    await around.before?.(name);
    const cpu = [];
    const wall = [];
    for (let r = 0; r < reps; r++) {
      const c0 = cpuNs();
      const w0 = performance.now();
      await runPhase(name, n);
      wall.push(((performance.now() - w0) * 1000) / n);
      cpu.push((cpuNs() - c0) / 1000 / n);
    }
    await around.after?.(name);
    out[name] = { cpu_us: +median(cpu).toFixed(3), wall_us: +median(wall).toFixed(3) };
  }
  return out;
}

async function inNode() {
  const module = await import(path.join(pkg, "nosql_playground.js"));
  await module.default({ module_or_path: readFileSync(path.join(pkg, "nosql_playground_bg.wasm")) });
  setup(module.Playground, { docs });
  return measure((name, n) => phases[name](n), () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]));
}

async function inChromium() {
  const server = createServer(async (req, res) => {
    const url = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const [root, rest] = url.startsWith("/pkg/") ? [pkg, url.slice(5)] : [path.join(repo, "bench"), url];
    const file = path.resolve(root, "." + path.sep + rest);
    if (!file.startsWith(root + path.sep)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      const type = file.endsWith(".wasm") ? "application/wasm" : file.endsWith(".html") ? "text/html" : "text/javascript";
      res.writeHead(200, {
        "Content-Type": type,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
      }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const playwright = createRequire(path.join(repo, "package.json"))("playwright-core");
  const browser = await playwright.chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/calls.html`);
    await page.waitForFunction(() => window.ready !== undefined);
    const ready = await page.evaluate(() => window.ready);
    if (ready !== true) throw new Error(`the page did not load the engine: ${ready}`);
    const { processInfo } = await (await browser.newBrowserCDPSession()).send("SystemInfo.getProcessInfo");
    const renderers = processInfo.filter((p) => p.type === "renderer").map((p) => p.id);
    const allThreads = args.includes("--all-threads");
    const tids = (pid) => (allThreads ? readdirSync(`/proc/${pid}/task`) : [pid]);
    const cpuNs = () => renderers.reduce((sum, pid) => sum + tids(pid).reduce((s, tid) => s + threadNs(pid, tid), 0), 0);
    await page.evaluate((options) => window.setup(options), { docs });
    let cdp = null;
    const result = await measure((name, n) => page.evaluate(([name, n]) => window.phase(name, n), [name, n]), cpuNs, {
      before: async (name) => {
        if (profile?.phase !== name) return;
        cdp = await page.context().newCDPSession(page);
        await cdp.send("Profiler.enable");
        await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
        await cdp.send("Profiler.start");
      },
      after: async (name) => {
        if (profile?.phase !== name) return;
        writeFileSync(profile.file, JSON.stringify((await cdp.send("Profiler.stop")).profile));
        await cdp.detach();
      },
    });
    return { crossOriginIsolated: await page.evaluate(() => crossOriginIsolated), ...result };
  } finally {
    await browser.close();
    server.close();
  }
}

const result = args.includes("--node") ? await inNode() : await inChromium();
const runtime = args.includes("--node") ? `node ${process.version}` : "chromium";
console.log(JSON.stringify({ pkg: path.relative(repo, pkg) || pkg, docs, reps, runtime, ...result }));
