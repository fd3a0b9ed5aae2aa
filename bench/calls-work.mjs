// The workloads of bench/calls.mjs: one engine call per operation, as the page makes them.
// Runs in the page and in Node alike; each phase runs `n` operations and returns nothing, the
// driver measures the CPU time of the thread around it.
const HOST_MS = Date.now();
const KEYS = 200_000;
const FINDS = 100_000;
let redis = null;
let mongo = null;
let docs = 0;
let finds = [];
const setLines = Array.from({ length: KEYS }, (_, i) => `SET key:${i} v${i}`);
const getLines = Array.from({ length: KEYS }, (_, i) => `GET key:${i}`);

// `docs` documents shaped as bench.js's indexed group shapes them, with the same index and
// the same probe keys.
export function setup(Playground, { docs: n }) {
  redis = new Playground();
  mongo = new Playground();
  docs = n;
  for (let i = 0; i < n; i += 50_000) {
    const batch = Array.from({ length: Math.min(50_000, n - i) }, (_, j) => {
      const k = i + j;
      return { _id: k, email: `user${k}@example.com`, n: k, g: k % 100 };
    });
    mongo.mongoJson(`db.big.insertMany(${JSON.stringify(batch)})`, HOST_MS);
  }
  mongo.mongoJson("db.big.createIndex({ email: 1 })", HOST_MS);
  finds = Array.from({ length: FINDS }, (_, k) => `db.big.find({ email: "user${((k + 1) * 7919) % n}@example.com" }).toArray()`);
  const probe = (3 + 1) * 7919 % n;
  const answer = mongo.mongoJson(finds[3], HOST_MS);
  if (!answer.startsWith(`[{"_id": ${probe},`)) throw new Error(`the find answered ${answer.slice(0, 80)}`);
}

export const phases = {
  // A call that crosses into the engine and back with no string either way: the floor.
  now: (n) => { for (let i = 0; i < n; i++) redis.now(HOST_MS); },
  empty: (n) => { for (let i = 0; i < n; i++) redis.redis("", HOST_MS); },
  set: (n) => { for (let i = 0; i < n; i++) redis.redis(setLines[i % KEYS], HOST_MS); },
  get: (n) => { for (let i = 0; i < n; i++) redis.redis(getLines[i % KEYS], HOST_MS); },
  find: (n) => { for (let i = 0; i < n; i++) mongo.mongoJson(finds[i % FINDS], HOST_MS); },
  // 1000 findOne per statement, per find.
  find_loop: (n) => {
    for (let k = 0; k < n / 1000; k++) {
      mongo.mongoJson(`for (let i = ${k * 1000}; i < ${(k + 1) * 1000}; i++) db.big.findOne({ email: "user" + ((i + 1) * 7919 % ${docs}) + "@example.com" })`, HOST_MS);
    }
  },
};

export const PLAN = [["now", 300_000], ["empty", 300_000], ["set", 200_000], ["get", 200_000], ["find", 20_000], ["find_loop", 20_000]];
