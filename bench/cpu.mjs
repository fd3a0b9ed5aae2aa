// The browser benchmark's Mongo workloads and Redis SET/GET, timed as CPU time of the process
// (process.cpuUsage) in Node's V8 instead of wall time in Chromium: on a 2-core machine shared
// with other builds, wall time measures the neighbours. Several builds load into the one
// process and take turns, call by call, so each sees the same load and the same JIT.
//   node bench/cpu.mjs [--reps N] [--scale K] [--only a,b] DIR [DIR...]
// DIR is a built package holding the Mongo engine (www/pkg-full, or a copy of another build's). Prints median CPU ms per
// workload and build, and the linear memory after the first fill of each (1M keys with
// 10-byte values, as the redis_memory row; 100k documents).
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
let reps = 5;
let scale = 1;
let only = null;
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--reps") reps = Number(args[++i]);
  else if (args[i] === "--scale") scale = Number(args[++i]);
  else if (args[i] === "--only") only = args[++i].split(",");
  else dirs.push(path.resolve(args[i]));
}
if (dirs.length === 0) {
  console.error("usage: node bench/cpu.mjs [--reps N] [--scale K] [--only a,b] DIR [DIR...]");
  process.exit(2);
}
const want = (w) => !only || only.includes(w);

const builds = [];
for (const dir of dirs) {
  // A query string makes each build its own module instance even for the same file name.
  const mod = await import(`${pathToFileURL(path.join(dir, "nosql_playground.js")).href}?${builds.length}`);
  const wasm = mod.initSync({ module: readFileSync(path.join(dir, "nosql_playground_bg.wasm")) });
  builds.push({ name: path.basename(dir), mod, wasm, times: {}, notes: [] });
}

const cpuMs = (fn) => {
  const c = process.cpuUsage();
  const out = fn();
  const d = process.cpuUsage(c);
  return [(d.user + d.system) / 1000, out];
};
const mib = (b) => (b.wasm.memory.buffer.byteLength / 2 ** 20).toFixed(1);
function record(b, w, ms) {
  (b.times[w] ??= []).push(ms);
}
function expectOk(out, what) {
  if (/"error"|\(error\)/.test(out.slice(0, 300))) throw new Error(`${what}: ${out.slice(0, 300)}`);
}

const N = Math.round(100_000 / scale);
const CITIES = ["Paris", "Oslo", "Lima", "Cairo", "Tokyo", "Delhi", "Quito", "Rome", "Seoul", "Accra"];
const userDoc = (i) => ({ _id: i, name: "user" + i, age: i % 80, city: CITIES[i % 10],
  tags: ["t" + (i % 7), "t" + ((i % 13) + 7)], score: (i * 7919) % 100003 });
const orderDoc = (i) => ({ _id: i, user: (i * 37) % N, total: i % 500 });
const insertUsers = `db.c.insertMany(${JSON.stringify(Array.from({ length: N }, (_, i) => userDoc(i)))})`;
const insertOrders = `db.orders.insertMany(${JSON.stringify(Array.from({ length: Math.round(N / 10) }, (_, i) => orderDoc(i)))})`;

// Redis first, on fresh instances: linear memory only grows, so its growth over the first
// fill is the figure the redis_memory row reports.
if (want("redis")) {
  const keys = Math.round(1_000_000 / scale);
  const chunk = 10_000;
  const sets = [];
  const gets = [];
  for (let a = 0; a < keys; a += chunk) {
    const s = [];
    const g = [];
    for (let i = a; i < Math.min(keys, a + chunk); i++) {
      s.push(`SET key:${i} ${String(i).padStart(10, "0")}`);
      g.push(`GET key:${i}`);
    }
    sets.push(s.join("\n"));
    gets.push(g.join("\n"));
  }
  for (let rep = 0; rep < reps; rep++) {
    for (const b of builds) {
      const p = new b.mod.Playground();
      const before = b.wasm.memory.buffer.byteLength;
      const [ms] = cpuMs(() => { for (const s of sets) p.redisScript(s, 0); });
      if (rep === 0) b.notes.push(`redis ${keys} SETs: +${((b.wasm.memory.buffer.byteLength - before) / keys).toFixed(1)} B/key linear memory`);
      record(b, `SET ${keys} (redisScript)`, ms);
      const [gms] = cpuMs(() => { for (const g of gets) p.redisScript(g, 0); });
      record(b, `GET ${keys} (redisScript)`, gms);
      const [one] = cpuMs(() => { for (let i = 0; i < 100_000; i++) p.redis(`SET k${i} v`, 0); });
      record(b, "SET 100k, one redis() call each", one);
      p.free();
    }
  }
}

if (want("mongo")) {
  const shells = builds.map((b) => {
    const p = new b.mod.Playground();
    const before = b.wasm.memory.buffer.byteLength;
    const out = p.mongoJson(insertUsers, 0);
    expectOk(out, "insertMany");
    b.notes.push(`mongo ${N} documents: ${mib(b)} MiB linear memory (+${((b.wasm.memory.buffer.byteLength - before) / 2 ** 20).toFixed(1)})`);
    expectOk(p.mongoJson(insertOrders, 0), "insertMany orders");
    return p;
  });
  const workloads = [
    ["find2", `db.c.find({ city: "Lima", age: 42 }).toArray()`],
    ["find_sort_limit", `db.c.find({ city: "Oslo" }).sort({ score: -1 }).limit(10).toArray()`],
    ["match_group_sort", `db.c.aggregate([{"$match":{"age":{"$gte":18}}},{"$group":{"_id":"$city","n":{"$sum":1},"avg":{"$avg":"$score"}}},{"$sort":{"n":-1,"_id":1}}]).toArray()`],
    ["unwind_group", `db.c.aggregate([{"$unwind":"$tags"},{"$group":{"_id":"$tags","n":{"$sum":1}}},{"$sort":{"_id":1}}]).toArray()`],
    ["lookup", `db.orders.aggregate([{"$lookup":{"from":"c","localField":"user","foreignField":"_id","as":"u"}}]).toArray()`],
  ];
  for (const [w, src] of workloads) {
    if (!want(w) && only && !only.includes("mongo")) continue;
    const answers = builds.map((b, k) => shells[k].mongoJson(src, 0));
    if (answers.some((a) => a !== answers[0])) throw new Error(`${w}: the builds answer differently`);
    for (let rep = 0; rep < reps; rep++) {
      builds.forEach((b, k) => record(b, w, cpuMs(() => shells[k].mongoJson(src, 0))[0]));
    }
  }
  shells.forEach((p) => p.free());
  for (let rep = 0; rep < reps; rep++) {
    for (const b of builds) {
      const p = new b.mod.Playground();
      record(b, `insertMany ${N}`, cpuMs(() => p.mongoJson(insertUsers, 0))[0]);
      p.free();
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const names = Object.keys(builds[0].times);
const width = Math.max(...names.map((n) => n.length));
console.log(`${"CPU ms, median of reps".padEnd(width)}  ${builds.map((b) => b.name.padStart(12)).join("  ")}`);
for (const w of names) {
  const ms = builds.map((b) => median(b.times[w]));
  const ratio = builds.length > 1 ? `  (${ms.slice(1).map((m) => (m / ms[0]).toFixed(2) + "×").join(" ")})` : "";
  console.log(`${w.padEnd(width)}  ${ms.map((m) => m.toFixed(2).padStart(12)).join("  ")}${ratio}`);
}
for (const b of builds) for (const n of b.notes) console.log(`${b.name}: ${n}`);
