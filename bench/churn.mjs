// A long session's memory: linear memory never shrinks, so what matters after hours of use is
// how much of it the allocator can reuse once keys and documents come and go (fragmentation).
// Runs in Node on a built package (no browser needed: the allocator is inside the wasm) and
// prints the linear memory after each phase, and each phase's time for what it is worth.
//   node bench/churn.mjs [--pkg DIR] [--scale K] redis|mongo
// redis: fill 100k keys, then 1M cycles of SET a new key (values of 1–200 bytes) and DEL the
//        oldest, so 100k stay live throughout; then DEL everything and fill 100k again.
// mongo: 5 rounds of insertMany 100k documents (10k per statement) and deleteMany({}).
// fresh: 5 rounds of a new engine, insertMany 100k documents in one statement (the benchmark's
//        insertMany row), an aggregation, and the engine freed.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
let pkg = path.join(repo, "www/pkg-full");
let scale = 1;
let which = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--pkg") pkg = path.resolve(args[++i]);
  else if (args[i] === "--scale") scale = Number(args[++i]);
  else which = args[i];
}
if (!["redis", "mongo", "fresh"].includes(which)) {
  console.error("usage: node bench/churn.mjs [--pkg DIR] [--scale K] redis|mongo|fresh");
  process.exit(2);
}

const mod = await import(pathToFileURL(path.join(pkg, "nosql_playground.js")).href);
const wasm = mod.initSync({ module: readFileSync(path.join(pkg, "nosql_playground_bg.wasm")) });
let p = new mod.Playground();
const t0 = Date.now();
const mib = () => (wasm.memory.buffer.byteLength / 2 ** 20).toFixed(1);
let last = performance.now();
function report(phase) {
  const now = performance.now();
  console.log(`${which.padEnd(5)} ${phase.padEnd(44)} linear memory ${mib().padStart(7)} MiB  ${(now - last).toFixed(0).padStart(6)} ms`);
  last = now;
}

function check(reply, what) {
  if (/error/i.test(reply.slice(0, 200))) throw new Error(`${what}: ${reply.slice(0, 200)}`);
}

if (which === "redis") {
  const live = Math.round(100_000 / scale);
  const cycles = Math.round(1_000_000 / scale);
  const chunk = 10_000;
  const value = (i) => "v".repeat(1 + ((i * 7919) % 200));
  const run = (lines) => {
    for (let a = 0; a < lines.length; a += chunk) check(p.redisScript(lines.slice(a, a + chunk).join("\n"), t0), "redis");
  };
  report("start");
  run(Array.from({ length: live }, (_, i) => `SET key:${i} ${value(i)}`));
  report(`fill ${live} keys`);
  for (let a = 0; a < cycles; a += chunk) {
    const lines = [];
    for (let c = a; c < Math.min(cycles, a + chunk); c++) {
      lines.push(`SET key:${live + c} ${value(live + c)}`, `DEL key:${c}`);
    }
    run(lines);
  }
  report(`${cycles} SET/DEL cycles, ${live} live`);
  const size = p.redis("DBSIZE", t0).trim();
  if (size !== `(integer) ${live}`) throw new Error(`DBSIZE answered ${size}`);
  run([`FLUSHALL`]);
  report("FLUSHALL");
  run(Array.from({ length: live }, (_, i) => `SET again:${i} ${value(i)}`));
  report(`fill ${live} keys again`);
} else {
  const n = Math.round(100_000 / scale);
  const fresh = which === "fresh";
  const cities = ["Paris", "Oslo", "Lima", "Cairo", "Tokyo", "Delhi", "Quito", "Rome", "Seoul", "Accra"];
  const doc = (i, round) => ({ _id: i, name: `user${i}`, age: i % 80, city: cities[i % 10],
    tags: Array.from({ length: (i + round) % 4 }, (_, k) => `t${k}`), score: (i * 7919) % 100_003,
    note: "x".repeat((i * 31 + round * 7) % 64) });
  report("start");
  for (let round = 0; round < 5; round++) {
    const docs = Array.from({ length: n }, (_, i) => doc(i, round));
    if (fresh) {
      p.free();
      p = new mod.Playground();
      check(p.mongoJson(`db.c.insertMany(${JSON.stringify(docs)})`, t0), "insertMany");
      report(`round ${round + 1}: new engine, insertMany ${n} at once`);
      check(p.mongoJson(`db.c.aggregate([{ $unwind: "$tags" }, { $group: { _id: "$tags", n: { $sum: 1 } } }]).toArray()`, t0), "aggregate");
      report(`round ${round + 1}: $unwind + $group`);
      continue;
    }
    for (let a = 0; a < n; a += 10_000) check(p.mongoJson(`db.c.insertMany(${JSON.stringify(docs.slice(a, a + 10_000))})`, t0), "insertMany");
    report(`round ${round + 1}: insertMany ${n}`);
    check(p.mongoJson("db.c.deleteMany({})", t0), "deleteMany");
    report(`round ${round + 1}: deleteMany`);
  }
}
p.free();
