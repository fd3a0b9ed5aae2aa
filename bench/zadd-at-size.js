// ZADD into a sorted set that already holds 100k members: the measurement issue #3's target
// names ("ZADD into a 100k sorted set ≥ 1000× ioredis-mock"). The 1M row in bench.js times
// both engines from an empty set, where the mock, cut short by its budget, is timed on a set of
// a few thousand; here both hold the same 100k members before anything is timed.
//
// Each repetition fills a fresh set as fast as each side allows (untimed: ours with ZADD lines
// of many score/member pairs, the mock with zadd calls of many pairs), then times ZADD of new
// members one command per call, in rounds; after each round one untimed ZREM takes that round's
// members out again, so every timed ZADD meets a set of between N and N + round members.
import { Playground } from "../www/pkg-full/nosql_playground.js";
import { RedisMock } from "./dist/peers.js";

const now = () => performance.now();
// Scores are a permutation, so members land all over the set (the 1M row's scores).
const score = (i) => (i * 7919) % 1000003;
const filled = (i) => "m" + i;
const added = (i) => "n" + i;

// Pairs per filling call. ioredis-mock copies the whole set twice per call (see below), so few
// large calls fill it fastest; 10k pairs are 20k arguments, well under V8's limit for a spread.
const FILL_PAIRS_OURS = 1000;
const FILL_PAIRS_MOCK = 10_000;

function pairs(a, b) {
  const out = [];
  for (let i = a; i < b; i++) out.push(String(score(i)), filled(i));
  return out;
}

/**
 * @param cfg run.mjs's configuration: cfg.n.zadd_at members held, cfg.n.zadd_new new members
 *   timed per repetition, cfg.budget_ms / cfg.mock_slow_budget_ms per repetition and side
 * @param fmtN formats a count as the table does (100k)
 */
export async function zaddAtSize(cfg, fmtN) {
  const n = cfg.n.zadd_at;
  const target = cfg.n.zadd_new;
  // Rounds small against the set: at 100k the set never exceeds 101k members for ours, and
  // 100,010 for the mock (each of its ZADDs takes milliseconds, so its rounds are short).
  const roundOurs = Math.max(1, Math.min(1000, Math.floor(n / 100)));
  const roundMock = 10;
  const ours = [];
  const peer = [];
  const fillOurs = [];
  const fillMock = [];
  let wrong = null;

  for (let rep = 0; rep < cfg.reps && !wrong; rep++) {
    const p = new Playground();
    try {
      const t = Date.now();
      let t0 = now();
      for (let a = 0; a < n; a += FILL_PAIRS_OURS) {
        p.redis("ZADD z " + pairs(a, Math.min(n, a + FILL_PAIRS_OURS)).join(" "), t);
      }
      fillOurs.push(now() - t0);
      const card = p.redis("ZCARD z", t);
      if (card !== `(integer) ${n}\n`) { wrong = `ZCARD answered ${card.trim()} after filling ${n}`; break; }
      let ops = 0;
      let ms = 0;
      while (ops < target && ms < cfg.budget_ms) {
        const k = Math.min(roundOurs, target - ops);
        const lines = [];
        for (let j = ops; j < ops + k; j++) lines.push(`ZADD z ${score(n + j)} ${added(j)}`);
        let last = "";
        t0 = now();
        for (let j = 0; j < k; j++) last = p.redis(lines[j], t);
        ms += now() - t0;
        if (last !== "(integer) 1\n") { wrong = `ZADD of a new member answered ${last.trim()}`; break; }
        const removed = p.redis("ZREM z " + Array.from({ length: k }, (_, j) => added(ops + j)).join(" "), t);
        if (removed !== `(integer) ${k}\n`) { wrong = `ZREM of ${k} new members answered ${removed.trim()}`; break; }
        ops += k;
      }
      ours.push({ ops, ms, opsPerSec: (ops / ms) * 1000 });
    } finally {
      p.free();
    }
  }

  // A wrong answer from the mock leaves its column n/a; ours is still reported.
  let peerWrong = null;
  const r = new RedisMock();
  for (let rep = 0; rep < cfg.reps && !peerWrong; rep++) {
    await r.flushall();
    let t0 = now();
    for (let a = 0; a < n; a += FILL_PAIRS_MOCK) await r.zadd("z", ...pairs(a, Math.min(n, a + FILL_PAIRS_MOCK)));
    fillMock.push(now() - t0);
    const card = await r.zcard("z");
    if (card !== n) { peerWrong = `ZCARD answered ${card} after filling ${n}`; break; }
    let ops = 0;
    let ms = 0;
    while (ops < target && ms < cfg.mock_slow_budget_ms) {
      const k = Math.min(roundMock, target - ops);
      const args = [];
      for (let j = ops; j < ops + k; j++) args.push([score(n + j), added(j)]);
      let last = null;
      t0 = now();
      for (let j = 0; j < k; j++) last = await r.zadd("z", args[j][0], args[j][1]);
      ms += now() - t0;
      if (last !== 1) { peerWrong = `ZADD of a new member answered ${last}`; break; }
      await r.zrem("z", ...args.map((x) => x[1]));
      ops += k;
    }
    peer.push({ ops, ms, opsPerSec: (ops / ms) * 1000 });
  }
  await r.flushall();
  r.disconnect();

  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const round = (k) => `rounds of ${k} new members, each taken out again by one untimed ZREM`;
  return [{
    id: "zadd_at_100k",
    label: `ZADD a new member into a sorted set of ${fmtN(n)}`,
    unit: "ops/s",
    ours: wrong ? { na: "wrong answer: " + wrong } : {
      samples: ours,
      note: `${fmtN(Math.min(...ours.map((s) => s.ops)))} ZADDs per rep in ${round(roundOurs)}; filled in ${median(fillOurs).toFixed(0)} ms ` +
        `by ZADD lines of ${fmtN(FILL_PAIRS_OURS)} pairs`,
    },
    peer: peerWrong ? { na: "wrong answer: " + peerWrong } : {
      label: `ioredis-mock, await per op; ${Math.min(...peer.map((s) => s.ops))}–${Math.max(...peer.map((s) => s.ops))} ZADDs per rep in ${round(roundMock)}; ` +
        `filled in ${median(fillMock).toFixed(0)} ms by zadd calls of ${fmtN(FILL_PAIRS_MOCK)} pairs`,
      samples: peer,
    },
    target: { ratio: 1000 },
  }];
}
