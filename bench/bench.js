// Workloads run inside one Chromium page: our wasm engines and their peers take turns on the
// same generated data, so both sides see the same CPU, the same JIT and the same GC.
// Each group returns rows of raw repetitions; bench/run.mjs computes medians and ratios.
// The full module: the page's first one has no Mongo engine.
import init, { Playground } from "../www/pkg-full/nosql_playground.js";
import { RedisMock, Query, Aggregator } from "./dist/peers.js";
import { zaddAtSize } from "./zadd-at-size.js";

// init() hands back the instance's exports; its memory is what the memory workload reads.
const wasm = await init();

// One host reading per batch: the clock only matters for expiry, which no workload uses, and
// reading Date.now() per command would time the host, not the engine.
const hostMs = () => Date.now();
const now = () => performance.now();
const na = (why) => ({ na: why });

function unknownCommand(reply) {
  return /^\(error\) ERR unknown command/.test(reply);
}

// A fresh engine per repetition: a rep must not inherit the previous rep's keys.
function withPlayground(fn) {
  const p = new Playground();
  try {
    return fn(p);
  } finally {
    p.free();
  }
}

async function supports(line) {
  return withPlayground((p) => {
    const reply = p.redis(line, hostMs());
    return unknownCommand(reply) ? null : reply;
  });
}

// Runs ops [0, n) in chunks until done or until the budget runs out, so an O(n²) peer (or
// engine) cannot stall the run; ops/s is then over the ops that ran, which flatters whoever was
// cut short, never the other side.
async function timedOps(n, chunk, budgetMs, run) {
  const t0 = now();
  let done = 0;
  while (done < n) {
    const end = Math.min(n, done + chunk);
    await run(done, end);
    done = end;
    if (now() - t0 > budgetMs) break;
  }
  const ms = now() - t0;
  return { ops: done, ms, opsPerSec: (done / ms) * 1000 };
}

function opsRow(name, unit, samples, extra = {}) {
  return { name, unit, reps: samples.map((s) => s.opsPerSec), ops: samples.map((s) => s.ops), ...extra };
}

// ---------------------------------------------------------------- Redis

function keys(n) {
  const k = new Array(n);
  for (let i = 0; i < n; i++) k[i] = "key:" + i;
  return k;
}

function chunkScripts(lines, size) {
  const out = [];
  for (let i = 0; i < lines.length; i += size) out.push(lines.slice(i, i + size).join("\n"));
  return out;
}

async function redisSetGet(cfg) {
  const n = cfg.n.setget;
  const chunk = cfg.n.script_chunk;
  const budget = cfg.budget_ms;
  const k = keys(n);
  const setLines = k.map((key, i) => "SET " + key + " v" + i);
  const getLines = k.map((key) => "GET " + key);
  const setScripts = chunkScripts(setLines, chunk);
  const getScripts = chunkScripts(getLines, chunk);
  const rows = {
    set_line: [], get_line: [], set_script: [], get_script: [],
    mock_set: [], mock_get: [], mock_set_pipe: [], mock_get_pipe: [],
  };
  let wrong = null;
  const check = (p, setOps, getReply, idx) => {
    const size = p.redis("DBSIZE", hostMs());
    if (size !== `(integer) ${setOps}\n`) wrong = `DBSIZE answered ${size.trim()} after ${setOps} SETs`;
    if (getReply !== `"v${idx}"\n`) wrong = `GET ${k[idx]} answered ${getReply.trim()}`;
  };

  for (let rep = 0; rep < cfg.reps; rep++) {
    withPlayground((p) => {
      const t = hostMs();
      rows.set_line.push(timedOpsSync(n, chunk, budget, (a, b) => {
        for (let i = a; i < b; i++) p.redis(setLines[i], t);
      }));
      const setOps = rows.set_line.at(-1).ops;
      let last = "";
      rows.get_line.push(timedOpsSync(setOps, chunk, budget, (a, b) => {
        for (let i = a; i < b; i++) last = p.redis(getLines[i], t);
      }));
      check(p, setOps, last, rows.get_line.at(-1).ops - 1);
    });
    withPlayground((p) => {
      const t = hostMs();
      rows.set_script.push(timedOpsSync(n, chunk, budget, (a) => {
        p.redisScript(setScripts[a / chunk], t);
      }));
      const setOps = rows.set_script.at(-1).ops;
      let out = "";
      rows.get_script.push(timedOpsSync(setOps, chunk, budget, (a) => {
        out = p.redisScript(getScripts[a / chunk], t);
      }));
      const lastLine = out.slice(out.lastIndexOf("\n", out.length - 2) + 1);
      check(p, setOps, lastLine, rows.get_script.at(-1).ops - 1);
    });
  }

  const r = new RedisMock();
  for (let rep = 0; rep < cfg.reps; rep++) {
    await r.flushall();
    rows.mock_set.push(await timedOps(n, chunk, budget, async (a, b) => {
      for (let i = a; i < b; i++) await r.set(k[i], "v" + i);
    }));
    rows.mock_get.push(await timedOps(rows.mock_set.at(-1).ops, chunk, budget, async (a, b) => {
      for (let i = a; i < b; i++) await r.get(k[i]);
    }));
    await r.flushall();
    rows.mock_set_pipe.push(await timedOps(n, chunk, budget, async (a, b) => {
      const pl = r.pipeline();
      for (let i = a; i < b; i++) pl.set(k[i], "v" + i);
      await pl.exec();
    }));
    rows.mock_get_pipe.push(await timedOps(rows.mock_set_pipe.at(-1).ops, chunk, budget, async (a, b) => {
      const pl = r.pipeline();
      for (let i = a; i < b; i++) pl.get(k[i]);
      await pl.exec();
    }));
  }
  await r.flushall();
  r.disconnect();

  // The wasm boundary alone: an empty line crosses into the engine and back doing nothing, so
  // the gap between this and GET per line is the engine's own share.
  const floor = [];
  for (let rep = 0; rep < cfg.reps; rep++) {
    withPlayground((p) => {
      const t = hostMs();
      floor.push(timedOpsSync(n, chunk, budget, (a, b) => { for (let i = a; i < b; i++) p.redis("", t); }));
    });
  }

  const ours = (s) => (wrong ? na("wrong answer: " + wrong) : { samples: s, note: cutShort(s, n).replace(/^; /, "") });
  for (const key of Object.keys(rows)) rows[key].cut = cutShort(rows[key], n);
  return [
    { id: "set_line", label: `SET ${fmtN(n)} keys, one redis() per line`, unit: "ops/s",
      ours: ours(rows.set_line), peer: { label: "ioredis-mock, await per op" + rows.mock_set.cut, samples: rows.mock_set },
      target: { ratio: 10 } },
    { id: "get_line", label: `GET ${fmtN(n)} keys, one redis() per line`, unit: "ops/s",
      ours: ours(rows.get_line), peer: { label: "ioredis-mock, await per op" + rows.mock_get.cut, samples: rows.mock_get },
      target: { ratio: 10 } },
    { id: "set_script", label: `SET ${fmtN(n)} keys, redisScript() per ${fmtN(chunk)} lines`, unit: "ops/s",
      ours: ours(rows.set_script), peer: { label: `ioredis-mock pipeline of ${fmtN(chunk)}` + rows.mock_set_pipe.cut, samples: rows.mock_set_pipe },
      target: { ratio: 10 } },
    { id: "get_script", label: `GET ${fmtN(n)} keys, redisScript() per ${fmtN(chunk)} lines`, unit: "ops/s",
      ours: ours(rows.get_script), peer: { label: `ioredis-mock pipeline of ${fmtN(chunk)}` + rows.mock_get_pipe.cut, samples: rows.mock_get_pipe },
      target: { ratio: 10 } },
    { id: "empty_line", label: "floor: redis(\"\") round trip, no command", unit: "ops/s",
      ours: { samples: floor }, peer: null, target: null },
  ];
}

// Same contract as timedOps for engines that answer synchronously (no microtask per chunk).
function timedOpsSync(n, chunk, budgetMs, run) {
  const t0 = now();
  let done = 0;
  while (done < n) {
    const end = Math.min(n, done + chunk);
    run(done, end);
    done = end;
    if (now() - t0 > budgetMs) break;
  }
  const ms = now() - t0;
  return { ops: done, ms, opsPerSec: (done / ms) * 1000 };
}

// One Redis workload with a write phase and optionally a read phase, for ours and the mock.
// `line(i)` gives our command text, `mock(r, i)` the peer's call, `verify(p, ops, opsBefore)`
// checks that our engine's state is right after the run (null when it is, else what is wrong).
async function redisWorkload(cfg, spec) {
  const first = spec.phases[0].line(0);
  const probe = await supports(first);
  const rows = [];
  for (const phase of spec.phases) {
    const samplesOurs = [];
    const samplesMock = [];
    let wrong = null;
    if (probe !== null) {
      for (let rep = 0; rep < cfg.reps; rep++) {
        withPlayground((p) => {
          const t = hostMs();
          const opsBefore = spec.n;
          for (const prior of spec.phases) {
            if (prior === phase) break;
            // earlier phases set up state, untimed
            for (let i = 0; i < spec.n; i++) p.redis(prior.line(i), t);
          }
          const unsupported = unknownCommand(p.redis(phase.line(0), t));
          if (unsupported) { wrong = "n/a"; return; }
          const s = timedOpsSync(spec.n - 1, cfg.n.script_chunk, cfg.budget_ms, (a, b) => {
            for (let i = a + 1; i < b + 1; i++) p.redis(phase.line(i), t);
          });
          samplesOurs.push(s);
          // the untimed probe op above counts for the state, not for the rate
          const problem = phase.verify ? phase.verify(p, s.ops + 1, opsBefore) : null;
          if (problem) wrong = problem;
        });
      }
    }
    const r = new RedisMock();
    for (let rep = 0; rep < cfg.reps; rep++) {
      await r.flushall();
      for (const prior of spec.phases) {
        if (prior === phase) break;
        for (let i = 0; i < Math.min(spec.n, spec.mockSetupCap ?? spec.n); i++) await prior.mock(r, i);
      }
      // a later phase consumes what the earlier ones built, so it gets no more ops than were set up
      const mockN = phase === spec.phases[0] ? spec.n : Math.min(spec.n, spec.mockSetupCap ?? spec.n);
      samplesMock.push(await timedOps(mockN, cfg.n.script_chunk >> 4, spec.mockBudgetMs ?? cfg.budget_ms,
        async (a, b) => { for (let i = a; i < b; i++) await phase.mock(r, i); }));
    }
    await r.flushall();
    r.disconnect();
    let ours;
    if (probe === null || wrong === "n/a") ours = na("not implemented yet");
    else if (wrong) ours = na("wrong answer: " + wrong);
    else ours = { samples: samplesOurs, note: cutShort(samplesOurs.map((x) => ({ ops: x.ops + 1 })), spec.n).replace(/^; /, "") };
    rows.push({ id: phase.id, label: phase.label, unit: "ops/s", ours,
      peer: { label: "ioredis-mock, await per op" + cutShort(samplesMock, spec.n), samples: samplesMock },
      target: phase.target ?? null });
  }
  return rows;
}

// Says so in the table when the budget (or a capped setup) left the peer with fewer ops than
// ours: its ops/s then comes from a smaller structure.
function cutShort(samples, n) {
  const done = Math.min(...samples.map((s) => s.ops));
  return done < n ? `; did ${fmtN(roundDown(done))}+ of ${fmtN(n)}` : "";
}

function roundDown(x) {
  const p = 10 ** Math.max(0, Math.floor(Math.log10(x)) - 1);
  return Math.floor(x / p) * p;
}

const intReply = (reply) => {
  const m = /^\(integer\) (-?\d+)\n$/.exec(reply);
  return m ? Number(m[1]) : null;
};

function redisOthers(cfg) {
  const nIncr = cfg.n.incr;
  const nZ = cfg.n.zadd;
  const nL = cfg.n.list;
  const nH = cfg.n.hash;
  // Scores are a permutation so that members land all over the set, not appended in order.
  const zscore = (i) => (i * 7919) % 1000003;
  const zrank = (i, size) => (i * 7919) % Math.max(1, size - 9);
  // ioredis-mock re-sorts on every ZADD: its set for the ZRANGE phase is built this far only.
  const zMockSetup = Math.min(nZ, 5000);
  return [
    { group: "incr", n: nIncr, phases: [{
      id: "incr", label: `INCR one key ${fmtN(nIncr)} times`,
      line: () => "INCR counter", mock: (r) => r.incr("counter"), target: { ratio: 10 },
      verify: (p, ops) => {
        const got = p.redis("GET counter", hostMs());
        return got === `"${ops}"\n` ? null : `GET counter answered ${got.trim()} after ${ops} INCRs`;
      },
    }] },
    { group: "zadd", n: nZ, mockBudgetMs: cfg.mock_slow_budget_ms, mockSetupCap: zMockSetup, phases: [{
      id: "zadd", label: `ZADD ${fmtN(nZ)} members into one sorted set`,
      // No target: the issue's is ZADD into a 100k set (zadd-at-size.js), and from an empty
      // set the mock is timed on the few thousand members its budget lets it reach.
      line: (i) => `ZADD z ${zscore(i)} m${i}`, mock: (r, i) => r.zadd("z", zscore(i), "m" + i),
      verify: (p, ops) => {
        const card = intReply(p.redis("ZCARD z", hostMs()));
        return card === ops ? null : `ZCARD answered ${card} after ${ops} distinct ZADDs`;
      },
    }, {
      // 10 members from ranks spread over the whole set; the mock's set is the capped setup's.
      id: "zrange", label: `ZRANGE by rank, 10 members of ${fmtN(nZ)}`,
      line: (i) => `ZRANGE z ${zrank(i, nZ)} ${zrank(i, nZ) + 9}`,
      mock: (r, i) => r.zrange("z", zrank(i, zMockSetup), zrank(i, zMockSetup) + 9),
      verify: (p) => {
        const reply = p.redis(`ZRANGE z ${nZ - 10} ${nZ - 1}`, hostMs());
        return reply.startsWith(' 1) "m') && reply.includes("10) ") ? null : `ZRANGE z ${nZ - 10} ${nZ - 1} answered ${JSON.stringify(reply.slice(0, 80))}`;
      },
    }] },
    { group: "list", n: nL, mockBudgetMs: cfg.mock_slow_budget_ms, mockSetupCap: 20000, phases: [
      { id: "lpush", label: `LPUSH ${fmtN(nL)} elements onto one list`,
        line: (i) => `LPUSH l v${i}`, mock: (r, i) => r.lpush("l", "v" + i), target: { ratio: 10 },
        verify: (p, ops) => {
          const len = intReply(p.redis("LLEN l", hostMs()));
          return len === null || len === ops ? null : `LLEN answered ${len} after ${ops} LPUSHes`;
        } },
      { id: "lpop", label: `LPOP ${fmtN(nL)} elements`,
        line: () => "LPOP l", mock: (r) => r.lpop("l"), target: { ratio: 10 },
        verify: (p, ops, pushed) => {
          const left = intReply(p.redis("LLEN l", hostMs()));
          return left === null || left === pushed - ops ? null : `LLEN answered ${left} after ${ops} of ${pushed} LPOPs`;
        } },
    ] },
    { group: "hash", n: nH, phases: [
      { id: "hset", label: `HSET ${fmtN(nH)} hashes of 3 fields`,
        line: (i) => `HSET h:${i} name user${i} age ${i % 80} city c${i % 10}`,
        mock: (r, i) => r.hset("h:" + i, "name", "user" + i, "age", String(i % 80), "city", "c" + (i % 10)),
        target: { ratio: 10 },
        verify: (p, ops) => {
          const size = intReply(p.redis("DBSIZE", hostMs()));
          return size === ops ? null : `DBSIZE answered ${size} after ${ops} HSETs on distinct keys`;
        } },
      { id: "hgetall", label: `HGETALL ${fmtN(nH)} hashes of 3 fields`,
        line: (i) => `HGETALL h:${i}`, mock: (r, i) => r.hgetall("h:" + i), target: { ratio: 10 },
        verify: (p) => {
          const reply = p.redis("HGETALL h:7", hostMs());
          return reply.includes('"user7"') && reply.includes('"city"') ? null : `HGETALL h:7 answered ${JSON.stringify(reply)}`;
        } },
    ] },
  ];
}

// The same 10-byte value for key i on both sides (run.mjs loads the real server with it).
const memValue = (i) => String(i).padStart(10, "0");

// Linear memory is the only figure a page can read: it grows in 64 KiB pages and never shrinks,
// so the growth over a fill is a high-water mark (hash-table resizes and the chunk buffers
// included), not what the allocator holds at the end. For the same reason it is measured once per
// fresh page: a second fill would reuse the memory the first one freed and show almost nothing.
function redisMemory(cfg) {
  const n = cfg.n.memory;
  const chunk = cfg.n.script_chunk;
  const scripts = [];
  for (let a = 0; a < n; a += chunk) {
    const lines = [];
    for (let i = a; i < Math.min(n, a + chunk); i++) lines.push(`SET key:${i} ${memValue(i)}`);
    scripts.push(lines.join("\n"));
  }
  const label = `${fmtN(n)} keys with 10-byte values: bytes per key (ours: wasm linear memory growth, ` +
    "64 KiB pages, never shrinks)";
  return withPlayground((p) => {
    const t = hostMs();
    const before = wasm.memory.buffer.byteLength;
    for (const s of scripts) p.redisScript(s, t);
    const after = wasm.memory.buffer.byteLength;
    const size = intReply(p.redis("DBSIZE", t));
    const last = p.redis(`GET key:${n - 1}`, t);
    const wrong = size !== n ? `DBSIZE answered ${size} after ${n} SETs`
      : last !== `"${memValue(n - 1)}"\n` ? `GET key:${n - 1} answered ${last.trim()}` : null;
    return [{ id: "memory_per_key", label, unit: "B/key",
      ours: wrong ? na("wrong answer: " + wrong)
        : { samples: [{ perKey: (after - before) / n, ops: n }], note: `${fmtMiB(before)} → ${fmtMiB(after)}` },
      peer: null, target: null }];
  });
}

const fmtMiB = (b) => (b / 2 ** 20).toFixed(1) + " MiB";

// ---------------------------------------------------------------- Mongo

const CITIES = ["Paris", "Oslo", "Lima", "Cairo", "Tokyo", "Delhi", "Quito", "Rome", "Seoul", "Accra"];

function userDoc(i) {
  // 7919 and 100003 are prime, so scores are distinct for the first 100003 ids and sorts have no ties.
  return { _id: i, name: "user" + i, age: i % 80, city: CITIES[i % 10],
    tags: ["t" + (i % 7), "t" + ((i % 13) + 7)], score: (i * 7919) % 100003 };
}

function orderDoc(i, users) {
  return { _id: i, user: (i * 37) % users, total: i % 500 };
}

function bigDoc(i) {
  return { _id: i, email: "user" + i + "@example.com", n: i, g: i % 100 };
}

// Parses what mongoJson printed: one JSON value per line; an {error} line becomes an exception.
function parseJsonLines(out) {
  const lines = out.split("\n").filter((l) => l.trim() !== "");
  const vals = lines.map((l) => {
    try { return JSON.parse(l); } catch { throw new Error("unparsable output " + JSON.stringify(l.slice(0, 80))); }
  });
  for (const v of vals) {
    if (v && typeof v === "object" && !Array.isArray(v) && v.error) {
      throw new Error(`${v.error.name ?? "Error"}: ${v.error.message ?? JSON.stringify(v.error)}`);
    }
  }
  if (vals.length === 1 && Array.isArray(vals[0])) return vals[0];
  return vals;
}

// Ways to get every result of a query out of the engine, tried in order; the first whose answer
// matches mingo's is the one timed. Cursor printing in mongosh shows only a first batch, so
// toArray() comes first.
const FORMS = [(src) => `${src}.toArray()`, (src) => src];

function sameValue(a, b) {
  if (typeof a === "number" && typeof b === "number") {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return sameValue(ka, kb) && ka.every((key) => sameValue(a[key], b[key]));
  }
  return a === b;
}

// Finds the form of `src` whose output our engine gets right; null with the reason otherwise.
function pickForm(p, src, expected, canon) {
  let reason = "no output";
  for (const form of FORMS) {
    const text = form(src);
    let docs;
    try {
      docs = parseJsonLines(p.mongoJson(text, hostMs()));
    } catch (e) {
      reason = String(e.message ?? e).slice(0, 100);
      continue;
    }
    if (docs.length === 0 && expected.length !== 0) { reason = "no results"; continue; }
    if (sameValue(canon(docs), canon(expected))) return { text };
    reason = `answer differs from mingo's (${docs.length} results vs ${expected.length})`;
  }
  return { reason };
}

// Repeats `fn` until at least minMs have passed, so sub-millisecond queries are timed over many
// runs; returns ms per run.
function msPerRun(fn, minMs) {
  let runs = 0;
  const t0 = now();
  let t;
  do { fn(runs++); t = now() - t0; } while (t < minMs);
  return { ms: t / runs, runs };
}

function repeatMs(cfg, fn) {
  fn(0); // warm-up: JIT for mingo, first-touch allocations for both
  const samples = [];
  for (let rep = 0; rep < cfg.reps; rep++) samples.push(msPerRun(fn, cfg.min_ms));
  return samples;
}

function insertJson(p, coll, docs, chunk) {
  for (let i = 0; i < docs.length; i += chunk) {
    const out = parseJsonLines(p.mongoJson(`db.${coll}.insertMany(${JSON.stringify(docs.slice(i, i + chunk))})`, hostMs()));
    if (out.length === 0) throw new Error("insertMany gave no output");
  }
}

// A wasm call cannot be interrupted, so before handing the engine one insertMany of N documents,
// grow the batch by doubling on fresh engines and stop when the next doubling would blow the
// budget at the growth rate seen so far (an engine with a quadratic parser would otherwise hold
// the page for hours). Returns null when N is safe to run, else why not.
function insertTooSlow(cfg, makeDoc, N) {
  let n = Math.min(100, N);
  let prev = null;
  for (;;) {
    const text = `db.c.insertMany(${JSON.stringify(Array.from({ length: n }, (_, i) => makeDoc(i)))})`;
    const ms = withPlayground((p) => {
      const t0 = now();
      const out = p.mongoJson(text, hostMs());
      const ms = now() - t0;
      // an engine error surfaces as the reason
      if (parseJsonLines(out).length === 0) throw new Error("no output");
      return ms;
    });
    if (n >= N) return null;
    const next = Math.min(2 * n, N);
    const growth = Math.max(next / n, prev ? ms / prev : 1);
    const projected = ms * growth ** Math.log2(N / n);
    if (ms * growth > cfg.budget_ms) {
      return `too slow to run at this size: insertMany of ${fmtN(n)} docs took ${fmtMs(ms)} ` +
        `(×${growth.toFixed(1)} per doubling; ${fmtN(N)} projected ${fmtMs(projected)})`;
    }
    prev = ms;
    n = next;
  }
}

function medianMs(samples) {
  const xs = samples.map((x) => x.ms).sort((a, b) => a - b);
  return xs.length ? xs[Math.floor(xs.length / 2)] : NaN;
}

function fmtMs(ms) {
  return ms >= 1000 ? (ms / 1000).toFixed(1) + " s" : ms.toFixed(1) + " ms";
}

async function mongoSuite(cfg) {
  const N = cfg.n.docs;
  const users = Array.from({ length: N }, (_, i) => userDoc(i));
  const orders = Array.from({ length: cfg.n.orders }, (_, i) => orderDoc(i, N));
  const rows = [];
  const resolver = (name) => ({ c: users, orders })[name];

  // insertMany: mingo keeps no store, so the peer is what a page would do to turn the same text
  // into documents (JSON.parse). Reported, no target.
  const text = `db.c.insertMany(${JSON.stringify(users)})`;
  const payload = JSON.stringify(users);
  let p = null;
  let insertProblem = null;
  try {
    insertProblem = insertTooSlow(cfg, userDoc, N);
  } catch (e) {
    insertProblem = "engine lacks insertMany: " + e.message;
  }
  const oursInsert = [];
  for (let rep = 0; rep < cfg.reps && !insertProblem; rep++) {
    if (p) p.free();
    p = new Playground();
    const t0 = now();
    const out = p.mongoJson(text, hostMs());
    const ms = now() - t0;
    try {
      const vals = parseJsonLines(out);
      if (vals.length === 0) insertProblem = "engine lacks insertMany (no output)";
    } catch (e) {
      insertProblem = "engine lacks insertMany: " + e.message;
    }
    oursInsert.push({ ms });
  }
  if (!insertProblem) {
    const all = pickForm(p, "db.c.find({})", users, (d) => d.map((x) => x._id).sort((a, b) => a - b));
    if (all.reason) insertProblem = "find({}) after insertMany: " + all.reason;
  }
  const peerInsert = repeatMs(cfg, () => JSON.parse(payload));
  rows.push({ id: "insert_many", label: `insertMany ${fmtN(N)} documents`, unit: "ms",
    ours: insertProblem ? na(insertProblem) : { samples: oursInsert },
    peer: { label: "JSON.parse of the same text (mingo keeps no store)", samples: peerInsert }, target: null });

  const ids = (d) => d.map((x) => x._id).sort((a, b) => a - b);
  const inOrder = (d) => d.map((x) => x._id);
  const byId = (d) => [...d].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  const queries = [
    { id: "find2", label: `find with 2 predicates over ${fmtN(N)} docs`,
      src: `db.c.find({ city: "Lima", age: 42 })`,
      peer: () => new Query({ city: "Lima", age: 42 }).find(users).all(), canon: ids },
    { id: "find_sort_limit", label: `find + sort + limit 10 over ${fmtN(N)} docs`,
      src: `db.c.find({ city: "Oslo" }).sort({ score: -1 }).limit(10)`,
      peer: () => new Query({ city: "Oslo" }).find(users).sort({ score: -1 }).limit(10).all(), canon: inOrder },
    { id: "match_group_sort", label: `$match + $group + $sort over ${fmtN(N)} docs`,
      pipeline: [{ $match: { age: { $gte: 18 } } },
        { $group: { _id: "$city", n: { $sum: 1 }, avg: { $avg: "$score" } } }, { $sort: { n: -1, _id: 1 } }],
      canon: (d) => d },
    { id: "unwind_group", label: `$unwind + $group over ${fmtN(N)} docs`,
      pipeline: [{ $unwind: "$tags" }, { $group: { _id: "$tags", n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
      canon: (d) => d },
    { id: "lookup", label: `$lookup ${fmtN(orders.length)} × ${fmtN(N)}`, coll: "orders",
      pipeline: [{ $lookup: { from: "c", localField: "user", foreignField: "_id", as: "u" } }],
      canon: byId },
  ];
  let ordersLoaded = false;
  for (const q of queries) {
    const coll = q.coll ?? "c";
    const src = q.src ?? `db.${coll}.aggregate(${JSON.stringify(q.pipeline)})`;
    const peerRun = q.peer ?? (() => new Aggregator(q.pipeline, { collectionResolver: resolver }).run(coll === "c" ? users : orders));
    const expected = peerRun();
    // What the student sees is text: our time includes writing the answer as JSON text, so
    // the peer's includes JSON.stringify of mingo's objects (see bench/README.md).
    const peerSamples = repeatMs(cfg, () => JSON.stringify(peerRun()));
    const bareMs = medianMs(repeatMs(cfg, peerRun));
    let ours;
    if (insertProblem) {
      ours = na("needs insertMany");
    } else {
      if (coll === "orders" && !ordersLoaded) {
        try { insertJson(p, "orders", orders, 100000); ordersLoaded = true; } catch (e) { /* reported by pickForm */ }
      }
      const picked = pickForm(p, src, expected, q.canon);
      ours = picked.reason ? na(picked.reason) : { samples: repeatMs(cfg, () => p.mongoJson(picked.text, hostMs())), form: picked.text };
    }
    rows.push({ id: q.id, label: q.label, unit: "ms", ours,
      peer: { label: `mingo + JSON.stringify; mingo alone ${fmtMs(bareMs)}`, samples: peerSamples },
      target: { ratio: 10 }, results: expected.length });
  }
  if (p) p.free();
  return rows;
}

async function mongoIndexed(cfg) {
  const N = cfg.n.indexed;
  const rows = [];
  const docs = Array.from({ length: N }, (_, i) => bigDoc(i));
  const probeKey = (k) => ((k + 1) * 7919) % N;
  const peerSamples = repeatMs({ ...cfg, min_ms: 1 }, (k) => new Query({ email: "user" + probeKey(k) + "@example.com" }).find(docs).all());
  let ours;
  try {
    const slow = insertTooSlow(cfg, bigDoc, Math.min(N, 100000));
    if (slow) ours = na(slow);
  } catch (e) {
    ours = na("engine lacks insertMany: " + e.message);
  }
  if (ours) {
    return [{ id: "indexed_find", label: `indexed equality find on ${fmtN(N)} docs`, unit: "ms", ours,
      peer: { label: "mingo (no indexes: full scan)", samples: peerSamples }, target: { ratio: 10 }, results: 1 }];
  }
  const p = new Playground();
  try {
    try {
      insertJson(p, "big", docs, 100000);
      if (parseJsonLines(p.mongoJson("db.big.createIndex({ email: 1 })", hostMs())).length === 0) {
        throw new Error("createIndex gave no output");
      }
    } catch (e) {
      ours = na("engine lacks insertMany/createIndex: " + e.message);
    }
    if (!ours) {
      const src = (k) => `db.big.find({ email: "user${probeKey(k)}@example.com" })`;
      const picked = pickForm(p, src(3), [docs[probeKey(3)]], (d) => d);
      if (picked.reason) ours = na(picked.reason);
      else {
        const form = picked.text === `${src(3)}.toArray()` ? (k) => `${src(k)}.toArray()` : src;
        ours = { samples: repeatMs(cfg, (k) => p.mongoJson(form(k), hostMs())), form: form(0) };
        // The lesson's numbers: the same query without the index, and what each examined.
        const scan = (k) => `${src(k)}.hint({ $natural: 1 }).toArray()`;
        const collscan = { samples: repeatMs({ ...cfg, min_ms: 1 }, (k) => p.mongoJson(scan(k), hostMs())) };
        rows.push({ id: "indexed_vs_collscan", label: `equality find on ${fmtN(N)} docs: IXSCAN vs COLLSCAN`, unit: "ms",
          ours: { ...ours, note: examined(p, src(3)) },
          peer: { label: `ours without the index, COLLSCAN: ${examined(p, `${src(3)}.hint({ $natural: 1 })`)}`, samples: collscan.samples },
          target: { ratio: 10 }, results: 1 });
        rows.push(findLoopRow(cfg, p, N, probeKey, peerSamples));
      }
      rows.push(rangeSortRow(cfg, p, docs));
    }
  } finally {
    p.free();
  }
  return [{ id: "indexed_find", label: `indexed equality find on ${fmtN(N)} docs`, unit: "ms", ours,
    peer: { label: "mingo (no indexes: full scan)", samples: peerSamples }, target: { ratio: 10 }, results: 1 }, ...rows];
}

// The same equality finds, many to one statement: a loop of findOne as a lesson's script runs
// them. Time per find: the statement's parse and the wasm crossing are shared by all of them.
function findLoopRow(cfg, p, N, probeKey, peerSamples) {
  const PER = 1000;
  const loop = (k) => `for (let i = ${k * PER}; i < ${(k + 1) * PER}; i++) db.big.findOne({ email: "user" + ((i + 1) * 7919 % ${N}) + "@example.com" })`;
  const row = { id: "indexed_find_loop", label: `indexed equality find on ${fmtN(N)} docs, ${PER} findOne in one statement (per find)`,
    unit: "ms", peer: { label: "mingo (no indexes: full scan)", samples: peerSamples }, target: { ratio: 10 }, results: 1 };
  try {
    const got = parseJsonLines(p.mongoJson(loop(0), hostMs()));
    if (got?.[0]?._id !== probeKey(PER - 1)) return { ...row, ours: na(`last findOne gave ${JSON.stringify(got).slice(0, 80)}`) };
    const samples = repeatMs(cfg, (k) => p.mongoJson(loop(k), hostMs())).map((x) => ({ ms: x.ms / PER, runs: x.runs * PER }));
    return { ...row, ours: { samples, form: loop(0) } };
  } catch (e) {
    return { ...row, ours: na("loop of findOne failed: " + String(e.message ?? e).slice(0, 80)) };
  }
}

// "keys K, docs D" from explain("executionStats") of a find.
function examined(p, find) {
  const [e] = parseJsonLines(p.mongoJson(`${find}.explain("executionStats").executionStats`, hostMs()));
  return `keys ${e.totalKeysExamined}, docs ${e.totalDocsExamined}`;
}

// Range + sort served by a compound index (equality, sort, range), against mingo and against
// the same find without the index.
function rangeSortRow(cfg, p, docs) {
  const N = docs.length;
  const lo = (k) => (k * 7919) % Math.max(1, N - N / 10);
  const query = (k) => ({ g: 7, n: { $gte: lo(k), $lt: lo(k) + N / 10 } });
  const peerSamples = repeatMs({ ...cfg, min_ms: 1 },
    (k) => new Query(query(k)).find(docs).sort({ n: -1 }).limit(10).all());
  const src = (k) => `db.big.find(${JSON.stringify(query(k))}).sort({ n: -1 }).limit(10).toArray()`;
  const row = { id: "indexed_range_sort", label: `range + sort + limit 10 via { g: 1, n: -1 } on ${fmtN(N)} docs`, unit: "ms",
    peer: { label: "mingo (no indexes: full scan + sort)", samples: peerSamples }, target: { ratio: 10 }, results: 10 };
  try {
    parseJsonLines(p.mongoJson("db.big.createIndex({ g: 1, n: -1 })", hostMs()));
    const expected = new Query(query(3)).find(docs).sort({ n: -1 }).limit(10).all();
    const got = parseJsonLines(p.mongoJson(src(3), hostMs()));
    if (!sameValue(got, expected)) return { ...row, ours: na(`answer differs from mingo's (${got?.length} results)`) };
    const find = src(3).replace(/\.toArray\(\)$/, "");
    const scanNote = examined(p, find.replace(".sort(", ".hint({ $natural: 1 }).sort("));
    return { ...row, ours: { samples: repeatMs(cfg, (k) => p.mongoJson(src(k), hostMs())), form: src(0),
      note: `${examined(p, find)}; without the index ${scanNote}` } };
  } catch (e) {
    return { ...row, ours: na("engine lacks compound indexes: " + String(e.message ?? e).slice(0, 80)) };
  }
}

// ---------------------------------------------------------------- text and geo indexes

// Issue #10's last two rows: `$text` over 100k short documents and `$near` over 100k points,
// each against the same question answered without its index by our COLLSCAN (mingo has
// neither operator; where it can answer the COLLSCAN form, its time is in the peer's label).
const WORDS = ("river stone garden window market bridge candle forest harbor pencil mirror " +
  "basket ladder meadow orchard lantern saddle tunnel valley anchor blanket castle desert " +
  "engine falcon glacier island jacket kettle lemon marble needle ocean pepper quilt rocket " +
  "silver temple umbrella velvet wagon yellow zebra copper dragon feather hammer jungle " +
  "kitchen lizard magnet napkin parrot rabbit spider tomato violin walnut").split(" ");
const RARE = "volcano";

function shortDoc(i, rand) {
  const n = 4 + Math.floor(rand() * 5);
  const words = Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]);
  // About one document in a thousand mentions the rare word: a query with ~100 answers.
  if (rand() < 0.001) words[Math.floor(rand() * n)] = RARE;
  return { _id: i, body: words.join(" ") };
}

function pointDoc(i, rand) {
  // Points over New York City, as the manual's geo examples place them.
  return { _id: i, loc: { type: "Point", coordinates: [-74.05 + 0.2 * rand(), 40.6 + 0.3 * rand()] } };
}

// The squared distance from a point as an aggregation expression over `loc.coordinates`, with
// longitude differences scaled by the cosine of the point's latitude (the engine has no
// trigonometry operators; over a city this ranks points as great-circle distance does):
// what a query without a geo index computes per document.
function distanceExpr([lng, lat]) {
  const sq = (x) => ({ $pow: [x, 2] });
  const k = Math.cos((lat * Math.PI) / 180);
  return { $add: [
    sq({ $multiply: [{ $subtract: [{ $arrayElemAt: ["$loc.coordinates", 0] }, lng] }, k] }),
    sq({ $subtract: [{ $arrayElemAt: ["$loc.coordinates", 1] }, lat] }),
  ] };
}

async function mongoTextGeo(cfg) {
  const N = cfg.n.textgeo;
  const rows = [];
  const rand = mulberry32(10);
  const texts = Array.from({ length: N }, (_, i) => shortDoc(i, rand));
  const points = Array.from({ length: N }, (_, i) => pointDoc(i, rand));
  const p = new Playground();
  try {
    insertJson(p, "t", texts, 20000);
    insertJson(p, "pts", points, 20000);
    parseJsonLines(p.mongoJson(`db.t.createIndex({ body: "text" })`, hostMs()));
    parseJsonLines(p.mongoJson(`db.pts.createIndex({ loc: "2dsphere" })`, hostMs()));

    // $text: the rare word through the text index, against a regex on every document.
    const ids = (d) => d.map((x) => x._id).sort((a, b) => a - b);
    const textSrc = `db.t.find({ $text: { $search: "${RARE}" } }, { _id: 1 })`;
    // No other word contains the rare one, so the plain substring finds the same documents.
    const scanFilter = { body: { $regex: RARE } };
    const scanSrc = `db.t.find(${JSON.stringify(scanFilter)}, { _id: 1 }).hint({ $natural: 1 })`;
    const expected = new Query(scanFilter).find(texts, { _id: 1 }).all();
    const textRow = { id: "text_100k", label: `$text over ${fmtN(N)} short documents: text index vs regex COLLSCAN`,
      unit: "ms", target: { ratio: 10 }, results: expected.length };
    const ixPick = pickForm(p, textSrc, expected, ids);
    const scanPick = pickForm(p, scanSrc, expected, ids);
    if (ixPick.reason || scanPick.reason) {
      rows.push({ ...textRow, ours: na(ixPick.reason ?? scanPick.reason), peer: null });
    } else {
      const mingoMs = medianMs(repeatMs(cfg, () => JSON.stringify(new Query(scanFilter).find(texts, { _id: 1 }).all())));
      rows.push({ ...textRow,
        ours: { samples: repeatMs(cfg, () => p.mongoJson(ixPick.text, hostMs())), form: ixPick.text, note: examined(p, textSrc) },
        peer: { label: `ours, regex COLLSCAN: ${examined(p, scanSrc)}; mingo's regex scan ${fmtMs(mingoMs)}`,
          samples: repeatMs(cfg, () => p.mongoJson(scanPick.text, hostMs())) } });
    }

    // $near: the ten nearest through the 2dsphere index, against computing every distance.
    const centre = (k) => [-74.0 + 0.01 * (k % 10), 40.7 + 0.01 * ((k * 7) % 10)];
    const nearSrc = (k) => `db.pts.find({ loc: { $near: { $geometry: { type: "Point", coordinates: ${JSON.stringify(centre(k))} } } } }, { _id: 1 }).limit(10)`;
    const pipeline = (k) => [{ $addFields: { d: distanceExpr(centre(k)) } }, { $sort: { d: 1 } }, { $limit: 10 }, { $project: { _id: 1 } }];
    const scanAgg = (k) => `db.pts.aggregate(${JSON.stringify(pipeline(k))})`;
    const inOrder = (d) => d.map((x) => x._id);
    const nearRow = { id: "near_100k", label: `$near limit 10 over ${fmtN(N)} points: 2dsphere index vs every distance computed`,
      unit: "ms", target: { ratio: 10 }, results: 10 };
    let mingoExpected = null;
    let mingoNote = "mingo cannot run the pipeline";
    try {
      mingoExpected = new Aggregator(pipeline(3)).run(points);
      const ms = medianMs(repeatMs(cfg, (k) => JSON.stringify(new Aggregator(pipeline(k)).run(points))));
      mingoNote = `mingo's pipeline ${fmtMs(ms)}`;
    } catch (e) { /* the note says so */ }
    const scanOut = parseJsonLines(p.mongoJson(`${scanAgg(3)}.toArray()`, hostMs()));
    const reference = mingoExpected ?? scanOut;
    const nearPick = pickForm(p, nearSrc(3), reference, inOrder);
    const scanCheck = sameValue(inOrder(scanOut), inOrder(reference));
    if (nearPick.reason || !scanCheck) {
      rows.push({ ...nearRow, ours: na(nearPick.reason ?? "the pipeline's answer differs"), peer: null });
    } else {
      const form = nearPick.text.endsWith(".toArray()") ? (k) => `${nearSrc(k)}.toArray()` : nearSrc;
      rows.push({ ...nearRow,
        ours: { samples: repeatMs(cfg, (k) => p.mongoJson(form(k), hostMs())), form: form(0), note: examined(p, nearSrc(3)) },
        peer: { label: `ours, $addFields + $sort + $limit over every document (COLLSCAN); ${mingoNote}`,
          samples: repeatMs(cfg, (k) => p.mongoJson(scanAgg(k), hostMs())) } });
    }
  } finally {
    p.free();
  }
  return rows;
}

// ---------------------------------------------------------------- vector search

// Issue #12's vector bar: 100k FLOAT32 vectors of 128 dimensions loaded with HSET as binary
// blobs, a FLAT and an HNSW index over them, 100 KNN 10 queries. The vectors are what
// embeddings look like rather than uniform noise: points of a 16-dimensional space mapped
// into 128 dimensions, plus a little noise (uniform noise in 128 dimensions has no
// neighbourhoods for any index to find, and no recall figure means anything on it). The data
// come from a seeded generator, so every run measures the same vectors.
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = Array.from({ length: 256 }, (_, b) => "\\x" + b.toString(16).padStart(2, "0"));

// A vector as redis-cli's quoted argument: every byte of its FLOAT32 blob as \xHH.
function quotedBlob(v) {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let out = '"';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out + '"';
}

function embeddingLike(n, dim, seed) {
  const rand = mulberry32(seed);
  const latent = 16;
  const basis = Float32Array.from({ length: latent * dim }, () => rand() - 0.5);
  const out = new Float32Array(n * dim);
  const z = new Float32Array(latent);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < latent; l++) z[l] = rand() - 0.5;
    for (let j = 0; j < dim; j++) {
      let x = 0;
      for (let l = 0; l < latent; l++) x += z[l] * basis[l * dim + j];
      out[i * dim + j] = x + 0.05 * (rand() - 0.5);
    }
  }
  return out;
}

// The peer: exact KNN in plain JavaScript over one Float32Array, as a page without an index
// would do it.
function bruteForceKnn(data, dim, q, k) {
  const n = data.length / dim;
  const best = [];
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let j = 0, o = i * dim; j < dim; j++) {
      const x = data[o + j] - q[j];
      d += x * x;
    }
    if (best.length < k || d < best[best.length - 1][0]) {
      let at = best.length;
      while (at > 0 && best[at - 1][0] > d) at--;
      best.splice(at, 0, [d, i]);
      if (best.length > k) best.pop();
    }
  }
  return best.map(([, i]) => "vec:" + i);
}

const replyKeys = (reply) => [...reply.matchAll(/"([^"]*)"/g)].map((m) => m[1]);

function recallOf(found, exact) {
  let hit = 0;
  for (let i = 0; i < found.length; i++) for (const key of found[i]) if (exact[i].includes(key)) hit++;
  return hit / exact.reduce((s, e) => s + e.length, 0);
}

function redisVector(cfg) {
  const n = cfg.n.vectors;
  const dim = 128, k = 10, queries = 100, chunk = 1000;
  // The queries are more points of the same space (the same basis), not of the data set.
  const all = embeddingLike(n + queries, dim, 12);
  const data = all.subarray(0, n * dim);
  const query = (i) => all.subarray((n + i) * dim, (n + i + 1) * dim);
  const qBlobs = Array.from({ length: queries }, (_, i) => quotedBlob(query(i)));
  const search = (index, i, attrs = "") =>
    `FT.SEARCH ${index} "*=>[KNN ${k} @v $q${attrs}]" PARAMS 2 q ${qBlobs[i]} NOCONTENT DIALECT 2`;
  const size = `${fmtN(n)} × ${dim}-dim`;
  const rows = [];
  const p = new Playground();
  try {
    const t = hostMs();
    let t0 = now();
    for (let a = 0; a < n; a += chunk) {
      const lines = [];
      for (let i = a; i < Math.min(n, a + chunk); i++) {
        lines.push(`HSET vec:${i} v ${quotedBlob(data.subarray(i * dim, (i + 1) * dim))}`);
      }
      p.redisScript(lines.join("\n"), t);
    }
    const loadMs = now() - t0;
    const build = (line) => {
      const s = now();
      const reply = p.redis(line, t);
      if (reply !== "OK\n") throw new Error(`${line.slice(0, 40)}… answered ${reply.trim()}`);
      return now() - s;
    };
    const flatMs = build(`FT.CREATE vf PREFIX 1 vec: SCHEMA v VECTOR FLAT 6 TYPE FLOAT32 DIM ${dim} DISTANCE_METRIC L2`);
    const hnswMs = build(`FT.CREATE vh PREFIX 1 vec: SCHEMA v VECTOR HNSW 6 TYPE FLOAT32 DIM ${dim} DISTANCE_METRIC L2`);
    rows.push({ id: "vector_load", label: `vectors: HSET ${size} FLOAT32 blobs`, unit: "ms",
      ours: { samples: [{ ms: loadMs, runs: n }] }, peer: null, target: null });
    rows.push({ id: "vector_build_flat", label: `vectors: FT.CREATE FLAT over ${size}`, unit: "ms",
      ours: { samples: [{ ms: flatMs, runs: 1 }] }, peer: null, target: null });
    rows.push({ id: "vector_build_hnsw", label: `vectors: FT.CREATE HNSW over ${size} (M 16, EF_CONSTRUCTION 200)`, unit: "ms",
      ours: { samples: [{ ms: hnswMs, runs: 1 }] }, peer: null, target: null });

    const exact = Array.from({ length: queries }, (_, i) => bruteForceKnn(data, dim, query(i), k));
    // Per rep, the median over the queries of one query's time; the table's median is over reps.
    const timeQueries = (line, keep) => {
      const samples = [];
      for (let rep = 0; rep < cfg.reps; rep++) {
        const times = [];
        for (let i = 0; i < queries; i++) {
          const s = now();
          const reply = p.redis(line(i), t);
          times.push(now() - s);
          if (rep === 0) keep[i] = replyKeys(reply);
        }
        samples.push({ ms: medianMs(times.map((ms) => ({ ms }))), runs: queries });
      }
      return samples;
    };
    const peerSamples = [];
    for (let rep = 0; rep < cfg.reps; rep++) {
      const times = [];
      for (let i = 0; i < queries; i++) {
        const s = now();
        bruteForceKnn(data, dim, query(i), k);
        times.push(now() - s);
      }
      peerSamples.push({ ms: medianMs(times.map((ms) => ({ ms }))), runs: queries });
    }
    const peer = { label: "exact KNN in plain JS over a Float32Array", samples: peerSamples };
    const flatKeys = [];
    const flatSamples = timeQueries((i) => search("vf", i), flatKeys);
    const flatRecall = recallOf(flatKeys, exact);
    rows.push({ id: "vector_knn_flat", label: `vectors: KNN ${k}, FLAT, ${size}: one query`, unit: "ms",
      ours: flatRecall < 0.99 ? na(`wrong answer: FLAT found ${(flatRecall * 100).toFixed(1)}% of the exact neighbours`)
        : { samples: flatSamples }, peer, target: null });
    for (const ef of [null, 100]) {
      const keys = [];
      const samples = timeQueries((i) => search("vh", i, ef ? ` EF_RUNTIME ${ef}` : ""), keys);
      const recall = recallOf(keys, flatKeys);
      const which = ef ? `EF_RUNTIME ${ef}` : "default EF_RUNTIME 10";
      rows.push({ id: ef ? `vector_knn_hnsw_ef${ef}` : "vector_knn_hnsw", label: `vectors: KNN ${k}, HNSW (${which}), ${size}: one query`,
        unit: "ms", ours: { samples, note: `recall ${recall.toFixed(3)}` }, peer, target: null });
      rows.push({ id: ef ? `vector_recall_ef${ef}` : "vector_recall", label: `vectors: recall@${k} of HNSW (${which}) against FLAT`,
        unit: "recall", ours: { samples: [{ recall, runs: queries }] }, peer: null, target: { min: 0.95, unit: "recall" } });
    }
  } catch (e) {
    rows.push({ id: "vector_knn_flat", label: `vectors: KNN ${k} over ${size}`, unit: "ms",
      ours: na("engine failed: " + String(e.message ?? e).slice(0, 100)), peer: null, target: null });
  } finally {
    p.free();
  }
  return rows;
}

// ---------------------------------------------------------------- entry points for run.mjs

function fmtN(n) {
  if (n >= 1e6 && n % 1e6 === 0) return n / 1e6 + "M";
  if (n >= 1e3 && n % 1e3 === 0) return n / 1e3 + "k";
  return String(n);
}

const GROUPS = {
  redis_setget: redisSetGet,
  redis_incr: (cfg) => runOther(cfg, "incr"),
  redis_zadd: async (cfg) => [...await runOther(cfg, "zadd"), ...await zaddAtSize(cfg, fmtN)],
  redis_list: (cfg) => runOther(cfg, "list"),
  redis_hash: (cfg) => runOther(cfg, "hash"),
  redis_memory: redisMemory,
  mongo: mongoSuite,
  mongo_indexed: mongoIndexed,
  mongo_text_geo: mongoTextGeo,
  redis_vector: redisVector,
};

function runOther(cfg, group) {
  return redisWorkload(cfg, redisOthers(cfg).find((s) => s.group === group));
}

// Rows carry only numbers and strings across to Node.
function plain(rows) {
  const side = (s) => !s ? null : s.na ? s : {
    reps: s.samples.map((x) => x.opsPerSec ?? x.ms ?? x.perKey ?? x.recall),
    ops: s.samples.map((x) => x.ops ?? x.runs),
    ...(s.label ? { label: s.label } : {}),
    ...(s.form ? { form: s.form } : {}),
    ...(s.note ? { note: s.note } : {}),
  };
  return rows.map((r) => ({ ...r, ours: side(r.ours), peer: side(r.peer) }));
}

window.bench = {
  groups: Object.keys(GROUPS),
  crossOriginIsolated: self.crossOriginIsolated,
  async run(group, cfg) {
    return plain(await GROUPS[group](cfg));
  },
};
document.body.dataset.ready = "true";
