// The sandbox's engine as the page sees it: one object the consoles, panels, lessons and
// persistence all hold, whichever wasm module runs underneath.
//
// The page first loads the smaller module (pkg/: a Redis sandbox without the Lua interpreter,
// RediSearch, RedisJSON, streams, the GEO* commands, the command docs' prose, the MongoDB
// engine or the driver snippets). The first time something needs the rest (a Redis line that
// runs Lua, FT.*, JSON.*, X*, GEO*, HELP <command> or COMMAND DOCS, Mongo input, a snapshot
// holding function libraries, cached scripts, search indexes, JSON documents, streams or
// Mongo data, a driver snippet) it loads the full module (pkg-full/) and moves the sandbox
// into it by deterministic replay: the core is pure (time enters as the numbers
// passed in, randomness is seeded), so every call that can change the sandbox is recorded with
// its exact arguments and, at the switch, made again in the same order on a new full
// Playground. Everything carries over, including what a snapshot cannot hold: other clients,
// MULTI queues, subscriptions, blocked clients. The first module's Mongo engine is a stand-in
// that answers as an unused one (src/mongo/absent.rs): Mongo input always waits for the switch.
// Before the first instance is dropped, both are compared (snapshot bytes, clients, server
// counters, clock); if they differ the switch is abandoned and the sandbox goes on as it was.
//
// While the full module loads, input from the consoles waits in one queue (`later`) and runs
// in order once the switch is done (or has failed); calls that are not input (the clock's
// frames, panels, lesson checks) go on against the first instance and are recorded with the
// rest, so the replay covers them too.

import { useRegexEngine } from "./lesson-format.js";

const FIRST = "../pkg/nosql_playground.js";
const FULL = "../pkg-full/nosql_playground.js";

/**
 * Playground methods that take `&mut self` in src/wasm.rs: the calls a replay makes again.
 * (tests/page/engine-switch.test.mjs checks this list against src/wasm.rs.)
 */
export const RECORDED = [
  "redis",
  "redisScript",
  "snippet",
  "redisAs",
  "redisAsPaged",
  "redisClientOpen",
  "redisClientClose",
  "redisPending",
  "redisPublished",
  "redisScriptLog",
  "redisInjectPublish",
  "mongo",
  "mongoPrepare",
  "mongoRunPrepared",
  "mongoStepPrepared",
  "mongoStopPrepared",
  "redisCheck",
  "mongoCheck",
  "mongoJson",
  "mongoFlow",
  "tick",
  "pause",
  "resume",
  "advance",
  "setSpeed",
  "mongoExplained",
  "mongoSetMemoryLimit",
  "snapshotLoad",
];

/**
 * Playground methods that take `&mut self` but are not replayed: the stepped save
 * (persistence.js). A save under way is no part of the sandbox; a new instance starts with
 * none, so a save the switch interrupts reports the change at its next step and starts over.
 */
export const NOT_RECORDED = ["snapshotBegin", "snapshotStep", "snapshotCancel"];

/** Draining calls that gave back nothing took nothing: polled every frame, not worth a record. */
const EMPTY_DRAIN = { redisPending: "", redisPublished: "[]", redisScriptLog: "[]", mongoExplained: "" };

/**
 * The wasm beside the glue at `href`, compiled as it downloads. Started with the glue's
 * import rather than by the glue once the import has resolved and the glue has run: the
 * compile starts as soon as the (preloaded) response is handed over, a round of tasks sooner.
 */
async function compileWasm(href) {
  const response = await fetch(new URL("nosql_playground_bg.wasm", href));
  if (!response.ok) throw new Error(`failed to fetch Wasm: ${response.status} ${response.statusText} fetching '${response.url}'`);
  // Streaming needs the wasm type (and a browser that streams): otherwise the slower way, as the glue does.
  const wasmType = response.headers.get("Content-Type")?.split(";")[0].trim() === "application/wasm";
  if (!wasmType || typeof WebAssembly.compileStreaming !== "function") {
    return WebAssembly.compile(await response.arrayBuffer());
  }
  return WebAssembly.compileStreaming(response);
}

// One load per module URL for the whole page (embeds share the code, not the instances). A
// failed load is forgotten, so a later attempt fetches again.
const modules = new Map();
function loadModule(url) {
  const href = new URL(url, import.meta.url).href;
  let loading = modules.get(href);
  if (!loading) {
    const compiled = compileWasm(href);
    compiled.catch(() => {});
    loading = import(href).then(async (module) => {
      await module.default({ module_or_path: compiled });
      useRegexEngine(module);
      return module;
    });
    loading.catch(() => modules.delete(href));
    modules.set(href, loading);
  }
  return loading;
}

/**
 * The engine with the first module loaded, or with `full` the full one at once (an embed
 * showing only the Mongo console); rejects when it cannot load.
 */
export async function loadEngine({ full = false } = {}) {
  return new Engine(await loadModule(full ? FULL : FIRST));
}

/** What each cargo feature of the full module is, as the page names it to the student. */
const PARTS = {
  scripting: "Lua engine",
  search: "search module",
  json: "JSON module",
  streams: "stream commands",
  geo: "geo commands",
  docs: "command docs",
  hyperloglog: "HyperLogLog commands",
  bitmap: "bitmap commands",
  sort: "SORT command",
  "zset-algebra": "ZUNION, ZINTER and ZDIFF commands",
  lcs: "LCS command",
  copy: "COPY command",
  internals: "OBJECT, MEMORY, DEBUG and SLOWLOG commands",
  "field-expiry": "hash field expiry commands",
  mongo: "MongoDB engine",
  snippets: "driver snippets",
};

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What the two instances must agree on before the first one is dropped. */
function differences(a, b, hostMs) {
  const found = [];
  if (!sameBytes(a.snapshotSave("", hostMs), b.snapshotSave("", hostMs))) found.push("the snapshot");
  for (const [what, read] of [
    ["the clients", (p) => p.redisClients(hostMs)],
    ["the server counters", (p) => p.redisInfo(hostMs)],
    ["the selected database", (p) => p.redisDb()],
    ["the Mongo database", (p) => p.mongoDb()],
    ["the collections", (p) => p.mongoCatalog()],
    ["the clock", (p) => [p.now(hostMs), p.isPaused(), p.speed()].join()],
  ]) {
    if (read(a) !== read(b)) found.push(what);
  }
  return found;
}

export class Engine extends EventTarget {
  /** @param {object} module the first module (its Playground class and statics) */
  constructor(module) {
    super();
    this.module = module;
    this.features = JSON.parse(module.Playground.features());
    this.inner = new module.Playground();
    /** The calls since the sandbox began (or was last replaced by a snapshot); null once full. */
    this.log = this.isFull ? null : [];
    /** The switch under way, if any. */
    this.switching = null;
    /** Input waiting for the switch, in order. */
    this.queue = [];
    this.forward(module);
  }

  /** Gives this object each method of the module's Playground, calling the current instance. */
  forward(module) {
    for (const name of Object.getOwnPropertyNames(module.Playground.prototype)) {
      if (name === "constructor" || name === "free" || name in this) continue;
      this[name] = RECORDED.includes(name)
        ? (...args) => this.recorded(name, args)
        : (...args) => this.inner[name](...args);
    }
  }

  /** Whether the module underneath has everything (Lua, search, JSON, streams, geo, Mongo, the snippets). */
  get isFull() {
    return Object.keys(PARTS).every((part) => this.features[part]);
  }

  /** Whether Mongo input must wait for the full module (the first one has no Mongo engine). */
  get mongoNeedsFull() {
    return !this.features.mongo;
  }

  /** Whether the switch is under way. */
  get loading() {
    return this.switching !== null;
  }

  recorded(name, args) {
    const result = this.inner[name](...args);
    if (this.log && EMPTY_DRAIN[name] !== result) {
      if (name === "snapshotLoad") {
        // A loaded snapshot replaces everything but the Mongo memory limit: the calls before
        // it need not be made again.
        const limit = this.log.filter(([n]) => n === "mongoSetMemoryLimit").slice(-1);
        this.log = [...limit, [name, [args[0].slice(), args[1]]]];
      } else {
        this.log.push([name, args]);
      }
    }
    return result;
  }

  // --- what needs the full module ------------------------------------------------------------

  /** Whether running the redis-cli `line` needs the full module (it runs Lua, FT.*, JSON.*, X* or GEO*). */
  redisNeedsFull(line) {
    return this.redisNeeds(line) !== null;
  }

  /** What of the full module running the redis-cli `line` needs ("Lua engine"), or null. */
  redisNeeds(line) {
    const part = this.module.Playground.redisRunsPart(line);
    return part && !this.features[part] ? PARTS[part] : null;
  }

  /** Whether loading the snapshot `bytes` needs the full module (it holds scripts, indexes, JSON, streams or Mongo data). */
  snapshotNeedsFull(bytes) {
    return this.snapshotNeeds(bytes).length > 0;
  }

  /** What of the full module loading the snapshot `bytes` needs: names such as "Lua engine". */
  snapshotNeeds(bytes) {
    const { Playground } = this.module;
    const needs = Playground.snapshotParts(bytes)
      .split(",")
      .filter((part) => part && !this.features[part])
      .map((part) => PARTS[part]);
    if (!this.features.mongo && Playground.snapshotUsesMongo(bytes)) needs.push(PARTS.mongo);
    return needs;
  }

  /** Whether driver snippets need the full module. */
  get snippetsNeedFull() {
    return !this.features.snippets;
  }

  /**
   * Before running the redis-cli `lines` and the mongosh `mongo` statements outside the
   * consoles (a setup, a replay): `null` when they can run now, else the promise of the switch
   * (rejected when the load fails).
   */
  prepare(lines, mongo = []) {
    const statements = typeof mongo === "string" ? [mongo] : (mongo ?? []);
    const needsMongo = this.mongoNeedsFull && statements.some((src) => src.trim() !== "");
    return needsMongo || (lines ?? []).some((line) => this.redisNeedsFull(line)) ? this.switchToFull() : null;
  }

  /** Starts fetching the full module without switching (a scripting command is being typed). */
  prefetch() {
    if (!this.isFull) loadModule(FULL).catch(() => {});
  }

  /**
   * Input that may have to wait: `null` when `task` can run now (the caller runs it), else a
   * promise of `task(failure)`'s result, run once the switch is done (`failure` null) or has
   * failed (`failure` the Error; a task that needed the full module should say it did not
   * run). Tasks run in the order they came; `needsFull` starts the switch.
   */
  later(needsFull, task) {
    if (!this.switching && !(needsFull && !this.isFull)) return null;
    const waiting = new Promise((resolve, reject) => this.queue.push({ task, resolve, reject }));
    if (!this.switching) this.switchToFull().catch(() => {});
    return waiting;
  }

  /** Loads the full module and moves the sandbox into it; resolves when done. */
  switchToFull() {
    if (this.isFull) return Promise.resolve();
    if (this.switching) return this.switching;
    this.dispatchEvent(new CustomEvent("loading"));
    const switching = loadModule(FULL)
      .then((module) => this.moveInto(module))
      .then(
        () => this.settle(null),
        (error) => {
          this.settle(error);
          throw error;
        },
      );
    this.switching = switching;
    return switching;
  }

  /** Replays the recorded calls into a new full instance, compares, and swaps it in. */
  moveInto(module) {
    const features = JSON.parse(module.Playground.features());
    let next;
    try {
      next = new module.Playground();
      for (const [name, args] of this.log) next[name](...args);
      const hostMs = Date.now();
      const differ = differences(this.inner, next, hostMs);
      if (differ.length > 0) throw new Error(`the replayed sandbox differs in ${differ.join(", ")}`);
    } catch (error) {
      try {
        next?.free();
      } catch {
        // A trapped instance cannot be freed; it is dropped all the same.
      }
      throw new Error(`the sandbox could not be moved into the full engine: ${error?.message ?? error}`);
    }
    const old = this.inner;
    this.inner = next;
    this.module = module;
    this.features = features;
    this.log = null;
    this.forward(module);
    old.free();
  }

  /** Ends the switch: runs the waiting input in order, then tells listeners. */
  settle(failure) {
    this.switching = null;
    const queue = this.queue;
    this.queue = [];
    for (const { task, resolve, reject } of queue) {
      try {
        resolve(task(failure));
      } catch (error) {
        reject(error);
      }
    }
    this.dispatchEvent(new CustomEvent(failure ? "failed" : "switched", { detail: { error: failure } }));
  }

  /** A blank sandbox's snapshot (a share link replays into one). */
  emptySnapshot(hostMs) {
    const empty = new this.module.Playground();
    try {
      return empty.snapshotSave("{}", hostMs);
    } finally {
      empty.free();
    }
  }

  /** A lesson check that runs Lua (or another missing part) cannot run yet: it starts the switch and fails meanwhile. */
  redisCheck(line, hostMs) {
    if (this.redisNeedsFull(line)) {
      this.switchToFull().catch(() => {});
      return JSON.stringify({ ok: "" });
    }
    return this.recorded("redisCheck", [line, hostMs]);
  }

  // The Mongo calls the first module lacks that the page makes whatever the student typed.

  /** A Mongo lesson check waits for the Mongo engine as a Lua one does. */
  mongoCheck(src, hostMs) {
    if (this.mongoNeedsFull) {
      this.switchToFull().catch(() => {});
      return JSON.stringify({ ok: "" });
    }
    return this.recorded("mongoCheck", [src, hostMs]);
  }

  /** Nothing was explained before any Mongo input ran. */
  mongoExplained() {
    return this.mongoNeedsFull ? "" : this.recorded("mongoExplained", []);
  }
}

/** The console line shown while the full module loads for `part`, once it has, and when it failed. */
export const loadingNote = (part = PARTS.scripting) => `(sandbox) loading the ${part}…`;
export const loadedNote = (part = PARTS.scripting) => `${loadingNote(part)} done`;
export function loadFailed(error, part = PARTS.scripting) {
  return (
    `(sandbox) the ${part} could not be loaded (${error?.message ?? error}), so this did not run. ` +
    "The sandbox goes on without it; run it again to retry.\n"
  );
}
/**
 * A line in a console's `log` while the full module loads for `part` (not an entry: no
 * command ran), then what came of `waiting`.
 */
export function noteLoading(log, waiting, engine, part) {
  const note = document.createElement("pre");
  note.className = "output note engine-note";
  note.textContent = loadingNote(part);
  log.element.append(note);
  log.scrollToEnd();
  const settled = () => {
    note.textContent = engine.isFull ? loadedNote(part) : `${loadingNote(part)} failed`;
  };
  waiting.then(settled, settled);
}
export const MONGO_ENGINE = PARTS.mongo;
