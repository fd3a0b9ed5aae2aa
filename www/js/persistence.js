// Keeps the student's work: the whole sandbox is saved to IndexedDB shortly after each change
// and restored when the page opens; it can be exported and imported as a file, shared as a
// link that replays the session, and exported as scripts for real servers.
//
// Saving: SAVE_DELAY_MS after the last change (commands, clock controls), and at once after a
// Redis SAVE / BGSAVE or when the page is hidden. A reopened page therefore has the state
// after the last command whose save completed: at most SAVE_DELAY_MS of commands behind the
// last one typed (plus the save's own time), never a mixture.
//
// The delayed save is a stepped one (`snapshotBegin` / `snapshotStep`): it writes the snapshot
// in slices of at most SLICE_MS and gives the page back between them, so a sandbox of a
// million keys saves without holding the page. A save that fits in one slice, as most do,
// ends in the same task, as a one-call save would. The engine hands the file over in parts of
// CHUNK_BYTES as it writes it (the header, which holds the body's checksum, last), so no call
// copies a whole 40 MB file into the page. The engine drops a stepped save when the
// sandbox changes between two slices (a command, a clock control, a tick that expired
// something: `persist::background`); it then starts over SAVE_DELAY_MS later, in one call
// after MAX_DROPPED_IN_A_ROW drops in a row. The saves that must happen at once (page
// hidden, SAVE, import, a share link) are one call, and cancel a stepped save under way:
// its older bytes can never be written after theirs.
//
// IndexedDB layout (database `nosql-playground`, store `snapshots`): `current` names the
// snapshot to restore, `snapshot:<n>`. A snapshot of up to CHUNK_BYTES is one record
// `{bytes, savedAt}` (the only layout pages before the parts had); a larger one is a head
// `{parts, size, savedAt}` and its parts `snapshot:<n>/<i>` of CHUNK_BYTES each. Copying a
// value into the database takes the page for as long as its size takes (a 34 MB snapshot,
// 80-120 ms in one task), so each part is put from the previous one's callback, a task of
// its own, and the page answers between them. A save writes the parts, then the head, then
// switches `current` and deletes every other snapshot's records, all in one transaction: a
// save cut short (a closed tab) leaves the previous snapshot current and whole. A snapshot
// that cannot be restored (damaged, or from a newer format version) is moved to
// `set-aside:<time>` with the reason, reported on the page with a download button, and never
// deleted by the page.

import { h } from "./dom.js";

export const SAVE_DELAY_MS = 1000;
/** Longest the stepped save holds the page at a time: under a frame, with room to draw it. */
export const SLICE_MS = 12;
/** Keys, items of a collection, documents or blocks of bytes of the stepped save's first call (then adapted). */
const FIRST_BUDGET = 1024;
/** A few milliseconds of steps: a call at most holds the page that long past its slice. */
const MAX_BUDGET = 4096;
/**
 * Stepped saves dropped in a row after which the next delayed save is one call: a big
 * sandbox whose keys expire every few hundred milliseconds would otherwise never be saved
 * until the page is hidden.
 */
export const MAX_DROPPED_IN_A_ROW = 3;
/** Bytes of one record of a large snapshot (see the layout above). */
export const CHUNK_BYTES = 1024 * 1024;
const DB_NAME = "nosql-playground";
const STORE = "snapshots";
/** Most session lines a share link carries (the newest are kept). */
const MAX_SHARED_LINES = 2000;

function openDb(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Databases opened, and their saved snapshots read, before their Persistence starts (`openEarly`), by name. */
const early = new Map();

/**
 * Starts opening the database `name` now, and reading the snapshot to restore from it; the
 * Persistence that later starts with that name takes both. Neither needs the engine:
 * started alongside the engine's load, their round trips to the browser (and the database's
 * creation on a first visit) no longer come after it, nor wait behind the frames the page
 * draws meanwhile. Whether a sandbox may be saved there is read now too (`mayHaveSaved`).
 */
export function openEarly(name = DB_NAME) {
  if (!early.has(name)) {
    const opening = openDb(name);
    const reading = opening.then(readCurrent);
    opening.catch(() => {});
    reading.catch(() => {});
    early.set(name, { opening, reading, mayHaveSaved: mayHaveSaved(name) });
  }
}

// Whether this browser ever saved a sandbox in a database, kept in localStorage, which a page
// reads at once: IndexedDB answers only after several round trips to the browser, and a page
// that never saved here (a first visit) need not wait for them to know there is nothing to
// restore. The mark is set before every save and when a snapshot is found; without
// localStorage, every start waits for the database.
const savedMark = (name) => `${name}:saved`;

function markSaved(name) {
  try {
    localStorage.setItem(savedMark(name), "1");
  } catch {
    // Not kept: the next start waits for the database, as it would with the mark.
  }
}

function mayHaveSaved(name) {
  try {
    return localStorage.getItem(savedMark(name)) !== null;
  } catch {
    return true;
  }
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
  });
}

/** The key range of the parts of the snapshot `key`. */
const partsOf = (key) => IDBKeyRange.bound(`${key}/`, `${key}/\uffff`);
const partKey = (key, i) => `${key}/${String(i).padStart(6, "0")}`;

function concat(parts) {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/**
 * A snapshot's record with its parts (in key order) joined into `bytes`. When parts are
 * missing, `bytes` is null, `damaged` says so and `kept` holds the parts there are.
 */
function joined(record, parts) {
  if (!Number.isInteger(record?.parts)) return record;
  const found = parts.filter((p) => p instanceof Uint8Array);
  const bytes = concat(found);
  if (found.length === record.parts && bytes.length === record.size) return { ...record, bytes };
  return { ...record, bytes: null, kept: bytes, damaged: `it is missing parts (${found.length} of ${record.parts} found)` };
}

/**
 * `{key, record}`: the key `current` names and its record (`{bytes}`, parts joined), read in
 * one transaction. The head and the parts are asked for together: no round trip more than a
 * snapshot of one record takes.
 */
function readCurrent(db) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE);
    const store = tx.objectStore(STORE);
    const found = { key: undefined, record: undefined };
    const current = store.get("current");
    let record;
    let parts;
    current.onsuccess = () => {
      found.key = current.result;
      if (typeof found.key !== "string") return;
      record = store.get(found.key);
      parts = store.getAll(partsOf(found.key));
    };
    tx.oncomplete = () => {
      if (record) found.record = joined(record.result, parts.result);
      resolve(found);
    };
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
  });
}

function keysWithPrefix(db, prefix) {
  return new Promise((resolve, reject) => {
    const range = IDBKeyRange.bound(prefix, prefix + "\uffff");
    const request = db.transaction(STORE).objectStore(STORE).getAllKeys(range);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function download(name, data, type = "application/octet-stream") {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function stamp() {
  return new Date().toISOString().replace(/[:.]/g, "-");
}

/** Redis commands that only read: a line running one of these does not schedule a save. */
const READS = new Set(
  ("GET MGET GETRANGE STRLEN EXISTS TYPE TTL PTTL EXPIRETIME PEXPIRETIME KEYS SCAN DBSIZE RANDOMKEY " +
    "HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSCAN HSTRLEN HTTL HPTTL HEXPIRETIME HPEXPIRETIME " +
    "LRANGE LINDEX LLEN LPOS SMEMBERS SISMEMBER SMISMEMBER SCARD SSCAN SINTER SUNION SDIFF " +
    "ZRANGE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZSCORE ZMSCORE ZRANK ZREVRANK ZCARD ZCOUNT ZSCAN " +
    "XRANGE XREVRANGE XLEN XINFO XPENDING GEOPOS GEODIST GEOSEARCH GEOHASH BITCOUNT BITPOS GETBIT PFCOUNT " +
    "JSON.GET JSON.MGET JSON.TYPE JSON.STRLEN JSON.ARRLEN JSON.OBJKEYS JSON.OBJLEN JSON.RESP " +
    "FT.SEARCH FT.AGGREGATE FT.INFO FT.EXPLAIN FT._LIST INFO PING ECHO TIME LASTSAVE HELP COMMAND MEMORY OBJECT").split(" "),
);

function firstWord(line) {
  return /^\s*(?:\d+\s+)?(\S+)/.exec(line ?? "")?.[1]?.toUpperCase() ?? "";
}

// --- share links: the session's lines, deflate-raw, base64url, in `#s=` ---------------------

function toBase64Url(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("it holds characters a share link never has");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function pipeThrough(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** Most bytes a share link unpacks to. Deflate packs a thousand to one, so a link of a
 * megabyte could otherwise unpack to a gigabyte and take the tab down before any check. */
export const MAX_SHARE_BYTES = 16 * 1024 * 1024;

class ShareTooLarge extends Error {}

/** Inflates `bytes`, stopping as soon as the output passes `max` bytes. */
async function inflateAtMost(bytes, max) {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      reader.cancel().catch(() => {});
      throw new ShareTooLarge(`the link's session is too large (it unpacks to more than ${max / 1024 / 1024} MB)`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * A session line's code: the engine ("r" Redis, "m" Mongo); in upper case for a line of a
 * lesson's setup, which a replay runs silently as the lesson did; for Redis, followed by the
 * client the line ran on when that is not the first ("r2"). Links made before setup lines
 * and clients were recorded hold only "r" and "m", which still mean what they meant, so the
 * link format is still version 1.
 */
export function lineCode(engine, { setup = false, client = 1 } = {}) {
  const letter = engine === "mongo" ? "m" : "r";
  const code = setup ? letter.toUpperCase() : letter;
  return letter === "r" && client !== 1 ? `${code}${client}` : code;
}

/** `{engine: "redis" | "mongo", setup, client}` of a line code, or null for a code no page makes. */
export function parseLineCode(code) {
  const match = typeof code === "string" ? /^(?:([rR])([1-9]\d{0,9})?|([mM]))$/.exec(code) : null;
  if (!match) return null;
  const client = match[2] === undefined ? 1 : Number(match[2]);
  if (client >= 2 ** 32) return null;
  const letter = match[1] ?? match[3];
  return { engine: match[1] ? "redis" : "mongo", setup: letter !== letter.toLowerCase(), client };
}

const isLine = (l) => Array.isArray(l) && l.length === 2 && parseLineCode(l[0]) !== null && typeof l[1] === "string";

/** `{v: 1, lines: [[code, text], …]}` (see `lineCode`) → the fragment's payload. */
export async function encodeShare(lines) {
  const json = JSON.stringify({ v: 1, lines });
  const packed = await pipeThrough(new TextEncoder().encode(json), new CompressionStream("deflate-raw"));
  return toBase64Url(packed);
}

/** The lines of a share payload, or an Error saying what is wrong with it. */
export async function decodeShare(payload) {
  let json;
  try {
    const packed = fromBase64Url(payload);
    const bytes = await inflateAtMost(packed, MAX_SHARE_BYTES);
    json = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    if (error instanceof ShareTooLarge) throw error;
    throw new Error(`the link is damaged or incomplete (${error.message || error.name})`);
  }
  let parsed;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error("the link's contents are not a session");
  }
  if (parsed?.v !== 1) throw new Error(`the link was made by an unknown version (${JSON.stringify(parsed?.v)})`);
  if (!Array.isArray(parsed.lines) || !parsed.lines.every(isLine)) throw new Error("the link's session has malformed lines");
  // The page never makes a longer link; replaying more, visibly, would hold the tab for long.
  if (parsed.lines.length > MAX_SHARED_LINES) {
    throw new Error(`the link holds ${parsed.lines.length} lines, more than the ${MAX_SHARED_LINES} a share link carries`);
  }
  return parsed.lines;
}

// --- the page's persistence ----------------------------------------------------------------

export class Persistence {
  /**
   * @param {object} app the playground, consoles, clients and loop (main.js's `window.app`)
   * @param {{dbName?: string, events?: EventTarget, anchor?: Element, bar?: boolean,
   *   shareLinks?: boolean}} [options] an embed's: its own database, where its changes are
   *   announced, what its notices follow, and no bar and no `#s=` link (the page's).
   */
  constructor(app, { dbName = DB_NAME, events = document, anchor = null, bar = true, shareLinks = true } = {}) {
    this.app = app;
    this.dbName = dbName;
    this.events = events;
    this.shareLinks = shareLinks;
    this.playground = app.playground;
    /** The session's lines in order, for share links: [[code, text], …] (see `lineCode`). */
    this.lines = [];
    this.timer = null;
    this.saving = Promise.resolve();
    this.saves = 0;
    /** The stepped save under way (`autosave`), and how many the sandbox's changes dropped. */
    this.stepped = null;
    this.abandoned = 0;
    this.droppedInARow = 0;
    this.budget = FIRST_BUDGET;
    this.sliceMs = SLICE_MS;
    this.delayMs = SAVE_DELAY_MS;
    /** How the stepped save gives the page back between slices (tests hold it there). */
    this.yieldBetweenSlices = (next) => setTimeout(next, 0);
    this.chunkBytes = CHUNK_BYTES;
    /** Called between two parts of a write (tests hold it there, keeping `store`'s transaction alive). */
    this.betweenParts = (next, _store) => next();
    this.redisSaves = this.playground.redisSaves();
    /** Changes seen, and the count covered by the last completed save (for tests). */
    this.changes = 0;
    this.savedChanges = 0;
    this.replaying = false;
    this.bar = bar ? this.buildBar() : null;
    this.notices = h("div", { class: "persist-notices", role: "status", "aria-live": "polite" });
    (anchor ?? document.getElementById("clock-bar")).after(...(this.bar ? [this.bar] : []), this.notices);
  }

  async start() {
    const opened = early.get(this.dbName);
    early.delete(this.dbName);
    this.opened = this.open(opened);
    if (opened?.mayHaveSaved === false) {
      // Nothing was ever saved here: the page goes on while the database opens. Changes made
      // meanwhile are saved once it has; a snapshot found all the same (saved by a page that
      // kept no mark, or the mark alone was cleared) is restored if nothing changed yet
      // (restore()).
      this.opened.then(() => {
        if (this.changes > this.savedChanges) this.schedule();
      });
    } else {
      await this.opened;
    }
    this.events.addEventListener("playground:change", (e) => this.onChange(e.detail ?? {}));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.saveNow();
    });
    window.addEventListener("pagehide", () => this.saveNow());
    // Not awaited: a link that asks before replacing the student's work waits for an answer.
    this.sharing = this.shareLinks ? this.openShareLink() : Promise.resolve();
  }

  /** Opens the database and restores the snapshot it holds (`early`: what `openEarly` began). */
  async open(early) {
    try {
      this.db = await (early?.opening ?? openDb(this.dbName));
    } catch (error) {
      this.notice(`Your work cannot be saved in this browser (IndexedDB: ${error?.message ?? error}).`, "error");
    }
    if (this.db) await this.restore(early?.reading);
  }

  onChange(detail) {
    if (detail.input !== undefined && !this.replaying) {
      const code = lineCode(detail.engine, { client: detail.client ?? 1 });
      if (detail.input.trim() !== "") this.lines.push([code, detail.input]);
      // Only the last lines go into a link: a pasted million would otherwise all be kept.
      if (this.lines.length > 2 * MAX_SHARED_LINES) this.lines.splice(0, this.lines.length - MAX_SHARED_LINES);
    }
    // A lesson that cleared the sandbox starts the session over: a replay starts from an
    // empty sandbox too, and running the lines before the clearing would leave their keys.
    if (detail.clean) this.lines = [];
    if (detail.setup) {
      const { redis = [], mongo = [] } = detail.setup;
      for (const line of redis) this.lines.push([lineCode("redis", { setup: true }), line]);
      for (const statement of mongo) this.lines.push([lineCode("mongo", { setup: true }), statement]);
    }
    this.changes += 1;
    // A read leaves nothing new to save (the session's lines go with the next save), and a
    // save of a large sandbox holds the page for a moment: reads of a big list stay smooth.
    if (detail.engine === "redis" && READS.has(firstWord(detail.input))) {
      return;
    }
    const saves = this.playground.redisSaves();
    if (saves !== this.redisSaves) {
      this.redisSaves = saves;
      this.saveNow();
      return;
    }
    this.schedule();
  }

  schedule() {
    // One timer for a burst of changes (a pasted block runs thousands): each change moves
    // the save later, and the timer, when it fires early, waits for the rest.
    this.dueAt = performance.now() + this.delayMs;
    if (this.timer !== null) return;
    const wait = () => {
      const left = this.dueAt - performance.now();
      this.timer = left > 0 ? setTimeout(wait, left) : null;
      if (left <= 0) this.autosave();
    };
    this.timer = setTimeout(wait, this.delayMs);
  }

  hostData() {
    return JSON.stringify({
      history: { redis: this.app.redis.history.entries, mongo: this.app.mongo.history.entries },
      redisDb: this.playground.redisDb(),
      lines: this.lines.slice(-MAX_SHARED_LINES),
    });
  }

  /** Saves now, in one call (after any write under way); resolves when it is written. */
  saveNow() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.db) return this.saving;
    this.cancelStepped();
    this.droppedInARow = 0;
    const covered = this.changes;
    const bytes = this.playground.snapshotSave(this.hostData(), Date.now());
    this.saving = this.saving
      .then(() => this.write(bytes))
      .then(() => {
        this.saves += 1;
        this.savedChanges = Math.max(this.savedChanges, covered);
      })
      .catch((error) => this.notice(`Saving failed: ${error?.message ?? error}`, "error"));
    return this.saving;
  }

  /**
   * The delayed save, in steps: begins the snapshot now, writes a slice of it at once and
   * the rest in slices between which the page goes on; resolves when it is written, or
   * dropped (the sandbox changed: the save is scheduled again; or a one-call save came).
   */
  autosave() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.db) return this.saving;
    if (this.droppedInARow >= MAX_DROPPED_IN_A_ROW) return this.saveNow();
    this.cancelStepped();
    const run = { cancelled: false, covered: this.changes, slices: 0, resolve: null, parts: [], last: false };
    const bytes = new Promise((resolve) => {
      run.resolve = resolve;
    });
    this.stepped = run;
    const host = this.hostData();
    // Not after a change since `host` was taken: the first step then finds no save, and the
    // save starts over.
    const begin = () => this.changes === run.covered && this.playground.snapshotBegin(host, Date.now());
    if (host.length > CHUNK_BYTES) {
      // Histories holding a giant paste (megabytes): taking them, handing them to the
      // engine and the first slice are each a task of their own.
      this.yieldBetweenSlices(() => run.cancelled || (begin(), this.yieldBetweenSlices(() => this.slice(run))));
    } else {
      begin();
      this.slice(run);
    }
    this.saving = this.saving
      .then(() => bytes)
      .then(async (written) => {
        if (!written) return;
        await this.write(written);
        this.saves += 1;
        this.savedChanges = Math.max(this.savedChanges, run.covered);
      })
      .catch((error) => this.notice(`Saving failed: ${error?.message ?? error}`, "error"));
    return this.saving;
  }

  /** One slice of the stepped save `run`: steps until it is done or SLICE_MS have passed. */
  slice(run) {
    if (run.cancelled) return;
    const end = performance.now() + this.sliceMs;
    for (;;) {
      const start = performance.now();
      let out;
      try {
        out = this.playground.snapshotStep(this.budget, this.chunkBytes);
      } catch {
        // The sandbox changed since the save began (or the engine was replaced).
        this.stepped = null;
        this.abandoned += 1;
        this.droppedInARow += 1;
        run.resolve(null);
        this.schedule();
        return;
      }
      if (out === undefined) {
        // Calls of a few milliseconds: few calls, and a slice that ends near its mark.
        const took = performance.now() - start;
        if (took < this.sliceMs / 16) this.budget = Math.min(this.budget * 2, MAX_BUDGET);
        else if (took > this.sliceMs / 4) this.budget = Math.max(1, Math.floor(this.budget / 2));
      } else if (run.last) {
        // The header, known once the body is: the first part has room for it.
        run.parts[0].set(out);
        this.stepped = null;
        this.droppedInARow = 0;
        run.resolve(run.parts);
        return;
      } else {
        // The file comes a part at a time as it is written, never whole in one call.
        run.parts.push(out);
        run.last = out.length < this.chunkBytes;
      }
      if (performance.now() >= end) break;
    }
    run.slices += 1;
    this.yieldBetweenSlices(() => this.slice(run));
  }

  /** Drops the stepped save under way, if any: it writes nothing. */
  cancelStepped() {
    const run = this.stepped;
    if (!run) return;
    this.stepped = null;
    run.cancelled = true;
    run.resolve(null);
    this.playground.snapshotCancel();
  }

  /** Waits until no save is pending or running (tests, import). */
  async idle() {
    await this.opened;
    // Input waiting for the full engine module (engine.js) runs once it has loaded: that too.
    await this.playground.switching?.catch(() => {});
    while (this.timer !== null || this.stepped !== null) {
      if (this.timer !== null) await this.saveNow();
      else await this.saving;
    }
    await this.saving;
  }

  /**
   * Writes the snapshot to restore (see the layout at the top): `bytes`, or the stepped
   * save's parts in order (each of chunkBytes but the last).
   */
  async write(bytes) {
    // Before the write, so that a page closed during it still looks for the database.
    markSaved(this.dbName);
    const key = `snapshot:${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const tx = this.db.transaction(STORE, "readwrite");
    const written = done(tx);
    const store = tx.objectStore(STORE);
    const size = this.chunkBytes;
    const list = Array.isArray(bytes) ? bytes.filter((p) => p.length) : null;
    const total = list ? list.reduce((n, p) => n + p.length, 0) : bytes.length;
    const parts = total > size ? (list?.length ?? Math.ceil(total / size)) : 0;
    const finish = () => {
      const savedAt = Date.now();
      if (!parts && list) bytes = list[1] ? concat(list) : list[0];
      store.put(parts ? { parts, size: total, savedAt } : { bytes, savedAt }, key);
      store.put(key, "current");
      // Every other snapshot, and parts a save cut short left behind.
      store.delete(IDBKeyRange.bound("snapshot:", key, false, true));
      store.delete(IDBKeyRange.bound(`${key}/\uffff`, "snapshot:\uffff", true, false));
    };
    // A hidden page has no one waiting on it, and may not get many more tasks: all at once.
    const eager = document.visibilityState === "hidden";
    const put = (i) => {
      if (i === parts) {
        finish();
        return;
      }
      // A copy of the part's own bytes: a view would take its whole buffer into the record.
      const request = store.put(list?.[i] ?? bytes.slice(i * size, (i + 1) * size), partKey(key, i));
      if (eager) put(i + 1);
      else request.onsuccess = () => this.betweenParts(() => put(i + 1), store);
    };
    try {
      put(0);
    } catch (error) {
      written.catch(() => {});
      tx.abort();
      throw error;
    }
    await written;
  }

  /** @param {Promise<{key, record}>} [reading] the snapshot `openEarly` has been reading */
  async restore(reading) {
    let key;
    let record;
    try {
      ({ key, record } = await (reading ?? readCurrent(this.db)));
      if (typeof key !== "string") return;
      markSaved(this.dbName);
    } catch (error) {
      this.notice(`Your saved work could not be read: ${error?.message ?? error}`, "error");
      return;
    }
    const bytes = record?.bytes instanceof Uint8Array ? record.bytes : null;
    // What a set-aside keeps of a snapshot that cannot be read whole.
    const kept = bytes ?? record?.kept ?? null;
    if (this.changes > 0) {
      // Read after the page went on without waiting for it (start()), and work began since.
      await this.setAside(key, kept, "it was found only after new work had begun here, which loading it would replace");
      return;
    }
    const missing = bytes ? await this.engineFor(bytes) : null;
    if (missing) {
      // The snapshot is fine; this page cannot load it yet. Saving now would replace it.
      this.db = null;
      this.notice(
        `Your saved work needs the ${missing}, which could not be loaded, so it was not ` +
          "restored. It is kept as it was: reload the page to try again (nothing is saved meanwhile).",
        "error",
        [],
        "engine",
      );
      return;
    }
    try {
      if (!bytes) throw new Error(record?.damaged ?? "the saved record holds no snapshot");
      this.apply(this.playground.snapshotLoad(bytes, Date.now()));
    } catch (error) {
      await this.setAside(key, kept, error?.message ?? String(error));
    }
  }

  /**
   * Makes the engine able to load `bytes`: a snapshot holding function libraries, cached
   * scripts or Mongo data needs the full module (engine.js), which is loaded first. `null`
   * when it can, else what could not be loaded ("Lua engine and MongoDB engine").
   */
  async engineFor(bytes) {
    const needs = this.playground.snapshotNeeds?.(bytes) ?? [];
    if (needs.length === 0) return null;
    try {
      await this.playground.switchToFull();
      return null;
    } catch {
      return needs.join(" and ");
    }
  }

  /**
   * Takes the page's own part of a loaded snapshot: histories and the session's lines. On a
   * reload (`imported` false) a console's history already in localStorage, written at every
   * command, is newer than the snapshot's and is kept; the snapshot's fills an empty one.
   */
  apply(hostJson, imported = false) {
    let data = {};
    try {
      data = JSON.parse(hostJson) ?? {};
    } catch {
      data = {};
    }
    // The database the Redis console had selected (the server's clients are not saved).
    if (Number.isInteger(data.redisDb) && data.redisDb > 0 && data.redisDb < 16) {
      this.playground.redis(`SELECT ${data.redisDb}`, Date.now());
    }
    this.app.clients?.refresh?.();
    const strings = (a) => (Array.isArray(a) ? a.filter((x) => typeof x === "string") : []);
    for (const [name, console] of [["redis", this.app.redis], ["mongo", this.app.mongo]]) {
      const entries = strings(data.history?.[name]);
      if (entries.length && (imported || console.history.entries.length === 0)) {
        console.history.entries = entries;
        console.history.reset();
      }
      console.updatePrompt?.();
    }
    this.lines = Array.isArray(data.lines) ? data.lines.filter(isLine) : [];
    this.redisSaves = this.playground.redisSaves();
    this.app.loop?.tickIfDue?.(Date.now(), { force: true });
    this.events.dispatchEvent(new CustomEvent("playground:restored"));
  }

  async setAside(key, bytes, reason) {
    const asideKey = `set-aside:${stamp()}`;
    try {
      const tx = this.db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      store.put({ bytes: bytes ?? new Uint8Array(), reason, setAsideAt: Date.now() }, asideKey);
      store.delete("current");
      if (key) {
        store.delete(key);
        store.delete(partsOf(key));
      }
      await done(tx);
    } catch {
      // Keeping the old record where it is is the next best thing: nothing is deleted.
    }
    this.notice(
      `Your saved work could not be restored: ${reason}. The sandbox starts empty; the saved ` +
        "snapshot was set aside (nothing was deleted) and you can download it.",
      "error",
      [["Download the set-aside snapshot", () => download(`nosql-playground-set-aside-${stamp()}.nsqlsnap`, bytes ?? new Uint8Array())]],
      "set-aside",
    );
  }

  /** A dismissable message under the clock bar, with optional buttons. */
  notice(text, kind = "info", actions = [], role = "") {
    const box = h("div", { class: `persist-notice ${kind}`, dataset: { notice: role } });
    const close = () => box.remove();
    box.append(
      h("p", { text }),
      ...actions.map(([label, act]) =>
        h("button", { type: "button", class: "btn", onclick: () => { if (act() !== false) close(); } }, label),
      ),
      h("button", { type: "button", class: "btn", "aria-label": "Dismiss", onclick: close }, "Dismiss"),
    );
    this.notices.append(box);
    return box;
  }

  // --- files ---------------------------------------------------------------------------------

  exportState() {
    download(`nosql-playground-${stamp()}.nsqlsnap`, this.playground.snapshotSave(this.hostData(), Date.now()));
  }

  async importState(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const missing = await this.engineFor(bytes);
    if (missing) {
      this.notice(`${file.name} needs the ${missing}, which could not be loaded, so it was not imported. Nothing changed.`, "error", [], "import");
      return false;
    }
    try {
      this.apply(this.playground.snapshotLoad(bytes, Date.now()), true);
    } catch (error) {
      this.notice(`${file.name} was not imported: ${error?.message ?? error}. Nothing changed.`, "error", [], "import");
      return false;
    }
    this.changes += 1;
    await this.saveNow();
    this.notice(`Imported ${file.name}.`, "info", [], "import");
    return true;
  }

  async exportForServers(kind) {
    // The Mongo exports are the Mongo engine's to write.
    if (kind.startsWith("mongo") && this.playground.mongoNeedsFull) await this.playground.switchToFull();
    const now = Date.now();
    const p = this.playground;
    if (kind === "redis-cli") download("redis-keyspace.redis", p.exportRedisCli(now), "text/plain");
    else if (kind === "resp") download("redis-keyspace.resp", p.exportRedisResp(now));
    else if (kind === "mongosh") download("mongo-databases.js", p.exportMongosh(), "text/javascript");
    else if (kind === "mongoimport") {
      for (const [name, text] of JSON.parse(p.exportMongoImport())) download(name, text, "application/json");
    }
  }

  // --- share links ---------------------------------------------------------------------------

  async shareLink() {
    // The newest lines that a link can carry and the page can open again.
    const lines = this.lines.slice(-MAX_SHARED_LINES);
    const encoder = new TextEncoder();
    let size = lines.reduce((n, l) => n + encoder.encode(JSON.stringify(l)).length + 1, 32);
    while (size > MAX_SHARE_BYTES && lines.length > 0) size -= encoder.encode(JSON.stringify(lines.shift())).length + 1;
    const payload = await encodeShare(lines);
    const url = new URL(location.href);
    url.hash = `s=${payload}`;
    return url.href;
  }

  async copyShareLink() {
    const link = await this.shareLink();
    try {
      await navigator.clipboard.writeText(link);
      this.notice(`Share link copied (${link.length} characters).`, "info", [], "share");
    } catch {
      const box = this.notice(`Share link (${link.length} characters):`, "info", [], "share");
      box.querySelector("p").after(h("input", { type: "text", readonly: true, value: link, "aria-label": "Share link" }));
    }
  }

  hasWork() {
    const info = JSON.parse(this.playground.redisInfo(Date.now()));
    const catalog = JSON.parse(this.playground.mongoCatalog());
    return info.keys > 0 || (catalog.databases ?? []).length > 0 || this.lines.length > 0;
  }

  async openShareLink() {
    const match = /^#s=(.*)$/.exec(location.hash);
    if (!match) return;
    const clearHash = () => history.replaceState(null, "", location.pathname + location.search);
    let lines;
    try {
      lines = await decodeShare(match[1]);
    } catch (error) {
      clearHash();
      this.notice(`This share link cannot be opened: ${error.message}. Your own work is unchanged.`, "error", [], "share-error");
      return;
    }
    clearHash();
    // A session that runs Lua or Mongo is replayed in the full engine module (engine.js).
    const of = (engine) => lines.filter(([code]) => parseLineCode(code).engine === engine).map(([, text]) => text);
    try {
      await this.playground.prepare?.(of("redis"), of("mongo"));
    } catch (error) {
      this.notice(
        `This share link needs an engine that could not be loaded (${error.message}). ` +
          "It was not opened; your own work is unchanged. Reload the page to try again.",
        "error",
        [],
        "share-error",
      );
      return;
    }
    if (!this.hasWork()) {
      await this.replay(lines);
      return;
    }
    await new Promise((resolve) => {
      this.notice(
        `This link holds a shared session of ${lines.length} commands. Opening it replaces what is in ` +
          "your sandbox now (your current work is set aside and can be downloaded first).",
        "ask",
        [
          ["Open the shared session", () => { this.replaceWith(lines).then(resolve); }],
          ["Keep my work", () => { resolve(); }],
        ],
        "share-ask",
      );
    });
  }

  async replaceWith(lines) {
    const bytes = this.playground.snapshotSave(this.hostData(), Date.now());
    if (this.db) await this.setAsideQuietly(bytes, "replaced by a shared session");
    this.notice(
      "Your previous work was set aside before the shared session opened.",
      "info",
      [["Download my previous work", () => download(`nosql-playground-${stamp()}.nsqlsnap`, bytes)]],
      "replaced",
    );
    await this.replay(lines);
  }

  async setAsideQuietly(bytes, reason) {
    const tx = this.db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).put({ bytes, reason, setAsideAt: Date.now() }, `set-aside:${stamp()}`);
    await done(tx);
  }

  /** Runs a session's lines into an empty sandbox, visibly, in the consoles. */
  async replay(lines) {
    this.playground.snapshotLoad(this.playground.emptySnapshot(Date.now()), Date.now());
    this.lines = [];
    this.replaying = true;
    let silent = 0;
    try {
      for (const [code, text] of lines) {
        const { engine, setup, client } = parseLineCode(code);
        if (setup) {
          this.runSilently(engine, client, text);
          silent += 1;
        } else if (engine === "mongo") {
          this.app.mongo.run(text);
        } else {
          this.app.redis.clients?.use(client);
          this.app.redis.run(text);
        }
        this.lines.push([code, text]);
      }
    } finally {
      this.replaying = false;
      this.app.mongo.trackDatabase?.();
      this.app.redis.clients?.refresh();
      this.app.redis.updatePrompt?.();
    }
    this.changes += 1;
    await this.saveNow();
    const setup = silent > 0 ? `, after ${silent} lines of lesson setup run silently` : "";
    this.notice(`Opened a shared session (${lines.length - silent} commands replayed${setup}).`, "info", [], "shared");
  }

  /** A setup line, run as the lesson ran it: no echo, no history, its output dropped. */
  runSilently(engine, client, text) {
    if (engine === "mongo") {
      this.playground.mongo(text, Date.now());
      return;
    }
    this.playground.redisAs(client, text, Date.now());
    // What a setup script logged must not turn up under the next command shown.
    this.playground.redisScriptLog?.();
  }

  async setAsideKeys() {
    return this.db ? keysWithPrefix(this.db, "set-aside:") : [];
  }

  // --- the bar -------------------------------------------------------------------------------

  buildBar() {
    const fileInput = h("input", {
      type: "file",
      accept: ".nsqlsnap,application/octet-stream",
      hidden: true,
      "aria-label": "Import state file",
      onchange: (e) => {
        const file = e.target.files?.[0];
        if (file) this.importState(file);
        e.target.value = "";
      },
    });
    const servers = h(
      "select",
      {
        class: "btn",
        "aria-label": "Export for a real server",
        onchange: (e) => {
          if (e.target.value) {
            this.exportForServers(e.target.value).catch((error) =>
              this.notice(`The export could not be written: ${error?.message ?? error}.`, "error", [], "export"),
            );
          }
          e.target.value = "";
        },
      },
      h("option", { value: "" }, "Export for a real server…"),
      h("option", { value: "redis-cli" }, "Redis: redis-cli script"),
      h("option", { value: "resp" }, "Redis: RESP for redis-cli --pipe"),
      h("option", { value: "mongosh" }, "MongoDB: mongosh script"),
      h("option", { value: "mongoimport" }, "MongoDB: mongoimport JSON files"),
    );
    return h(
      "div",
      { class: "persist-bar", role: "toolbar", "aria-label": "Save and share" },
      h("button", { type: "button", class: "btn", onclick: () => this.exportState() }, "Export state"),
      h("button", { type: "button", class: "btn", onclick: () => fileInput.click() }, "Import state"),
      fileInput,
      h("button", { type: "button", class: "btn", onclick: () => this.copyShareLink() }, "Share link"),
      servers,
    );
  }
}

/** Creates the page's persistence, restores the saved sandbox and opens a share link. */
export async function startPersistence(app, options) {
  const persistence = new Persistence(app, options);
  await persistence.start();
  return persistence;
}
