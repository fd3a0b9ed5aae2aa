// A large snapshot is stored in parts (persistence.js `write`), each put from its own task
// inside one transaction that switches `current` last: the console answers between the
// parts, a tab closed mid-write leaves the previous snapshot whole, a snapshot stored by
// pages before the parts (one record) still loads, and one whose parts are damaged is set
// aside. The tests write parts of a few kilobytes, so a small sandbox makes many of them, and
// hold the write between two parts; what they check follows from the order of events.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fillKeys, redis, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

const KEYS = 20_000;
const PART_BYTES = 16 * 1024;

async function open(context) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(harness.url);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), "true");
  page.errors = errors;
  // Only the saves a test asks for: a command typed does not start one of its own.
  await page.evaluate((bytes) => {
    const p = window.app.persistence;
    p.delayMs = 3_600_000;
    p.chunkBytes = bytes;
  }, PART_BYTES);
  return page;
}

/** Runs `fn` with a browser context of its own (its own IndexedDB), then closes it. */
async function inFreshContext(fn) {
  const context = await harness.browser.newContext();
  try {
    await fn(context);
  } finally {
    await context.close();
  }
}

const outputOf = async (entry) => (await entry.locator(".output").textContent()).trim();

const fill = fillKeys;

/**
 * Makes the next write stop after `parts` parts, its transaction kept alive (a request at a
 * time) until `window.__go` is set.
 */
function holdAfterParts(page, parts) {
  return page.evaluate((parts) => {
    window.__parts = 0;
    window.__go = false;
    window.app.persistence.betweenParts = (next, store) => {
      window.__parts += 1;
      const wait = () => {
        if (window.__go || window.__parts < parts) next();
        else store.count().onsuccess = wait;
      };
      wait();
    };
  }, parts);
}

/** Every key of the page's database, and the current snapshot's. */
function stored(page) {
  return page.evaluate(async () => {
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open("nosql-playground", 1);
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const store = db.transaction("snapshots").objectStore("snapshots");
    const [keys, current] = await Promise.all([req(store.getAllKeys()), req(store.get("current"))]);
    db.close();
    return { keys, current };
  });
}

const saves = (page) => page.evaluate(() => window.app.persistence.saves);

test("a large snapshot is written in parts, the console answers between them, and another page reads it whole", async () => {
  await inFreshContext(async (context) => {
    const page = await open(context);
    await fill(page, KEYS);
    await holdAfterParts(page, 2);
    await page.evaluate(() => {
      window.__written = window.app.persistence.saveNow().then(() => "written");
    });
    await page.waitForFunction(() => window.__parts >= 2, null, { timeout: 30_000 });

    // The write is under way: the console answers, and the write has not ended.
    assert.equal(await outputOf(await redis(page, "SET typed during-write")), "OK");
    assert.equal(await outputOf(await redis(page, "GET k:7")), '"v7"');
    assert.equal(await saves(page), 0);
    assert.equal(await page.evaluate(() => window.__parts), 2);

    await page.evaluate(() => {
      window.__go = true;
    });
    assert.equal(await page.evaluate(() => window.__written), "written");
    assert.equal(await saves(page), 1);

    // `current`, the head and its parts; nothing else.
    const { keys, current } = await stored(page);
    const parts = keys.filter((k) => k.startsWith(`${current}/`));
    assert.ok(parts.length > 2, `${parts.length} parts`);
    assert.deepEqual(keys.sort(), ["current", current, ...parts].sort());

    // The snapshot was taken before the typed command.
    const other = await open(context);
    assert.equal(await outputOf(await redis(other, "DBSIZE")), `(integer) ${KEYS}`);
    assert.equal(await outputOf(await redis(other, `GET k:${KEYS - 1}`)), `"v${KEYS - 1}"`);
    assert.equal(await outputOf(await redis(other, "GET typed")), "(nil)");
    assert.deepEqual([...page.errors, ...other.errors].map(String), []);
  });
});

test("the delayed save takes the file from the engine a part at a time and stores the one-call save's bytes", async () => {
  await inFreshContext(async (context) => {
    const page = await open(context);
    await fill(page, KEYS);
    const result = await page.evaluate(async () => {
      const p = window.app.persistence;
      const engine = p.playground;
      let begun;
      const begin = engine.snapshotBegin.bind(engine);
      engine.snapshotBegin = (...args) => {
        begun = args;
        return begin(...args);
      };
      // Every call's bytes: none may hand over more than a part.
      const handed = [];
      const step = engine.snapshotStep.bind(engine);
      engine.snapshotStep = (...args) => {
        const out = step(...args);
        if (out !== undefined) handed.push(out.length);
        return out;
      };
      await p.autosave();
      const whole = engine.snapshotSave(...begun);
      const db = p.db;
      const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
      const current = await req(db.transaction("snapshots").objectStore("snapshots").get("current"));
      const store = db.transaction("snapshots").objectStore("snapshots");
      const [head, parts] = await Promise.all([
        req(store.get(current)),
        req(store.getAll(IDBKeyRange.bound(`${current}/`, `${current}/\uffff`))),
      ]);
      const stored = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
      parts.reduce((at, b) => (stored.set(b, at), at + b.length), 0);
      return {
        handed,
        saves: p.saves,
        head,
        size: whole.length,
        same: stored.length === whole.length && stored.every((b, i) => b === whole[i]),
      };
    });
    assert.equal(result.saves, 1);
    assert.ok(result.size > 4 * PART_BYTES, `${result.size} bytes`);
    assert.ok(Math.max(...result.handed) <= PART_BYTES, `a call handed over ${Math.max(...result.handed)} bytes`);
    // The parts, the last shorter, then the header.
    assert.equal(result.handed.length, Math.floor(result.size / PART_BYTES) + 2);
    assert.equal(result.handed.at(-1), 24);
    assert.equal(result.head.parts, Math.ceil(result.size / PART_BYTES));
    assert.equal(result.head.size, result.size);
    assert.ok(result.same, "the stored parts differ from the one-call save's bytes");
    assert.deepEqual(page.errors.map(String), []);
  });
});

test("a tab closed while a snapshot's parts are written leaves the previous snapshot whole", async () => {
  await inFreshContext(async (context) => {
    const page = await open(context);
    await fill(page, KEYS);
    await redis(page, "SET marker first");
    await page.evaluate(() => window.app.persistence.saveNow());
    const first = await stored(page);

    await redis(page, "SET marker second");
    await redis(page, "DEL k:0 k:1 k:2");
    await holdAfterParts(page, 3);
    await page.evaluate(() => {
      window.app.persistence.saveNow();
    });
    await page.waitForFunction(() => window.__parts >= 3, null, { timeout: 30_000 });
    await page.close();

    const other = await open(context);
    assert.equal(await outputOf(await redis(other, "GET marker")), '"first"');
    assert.equal(await outputOf(await redis(other, "DBSIZE")), `(integer) ${KEYS + 1}`);
    assert.equal(await outputOf(await redis(other, "GET k:0")), '"v0"');
    assert.equal((await stored(other)).current, first.current);

    // The next save leaves only its own records.
    await other.evaluate(() => window.app.persistence.saveNow());
    const { keys, current } = await stored(other);
    assert.notEqual(current, first.current);
    assert.ok(keys.every((k) => k === "current" || k === current || k.startsWith(`${current}/`)), keys.join(" "));
    assert.deepEqual(other.errors.map(String), []);
  });
});

test("a snapshot stored as one record, as pages before the parts did, loads and is then stored in parts", async () => {
  await inFreshContext(async (context) => {
    const page = await open(context);
    await fill(page, 5000);
    await page.evaluate(async () => {
      const bytes = window.app.playground.snapshotSave("{}", Date.now());
      const db = window.app.persistence.db;
      const tx = db.transaction("snapshots", "readwrite");
      tx.objectStore("snapshots").put({ bytes, savedAt: Date.now() }, "snapshot:1-old");
      tx.objectStore("snapshots").put("snapshot:1-old", "current");
      await new Promise((ok, fail) => {
        tx.oncomplete = ok;
        tx.onerror = () => fail(tx.error);
      });
    });
    assert.ok(await page.evaluate((bytes) => window.app.playground.snapshotSave("{}", Date.now()).length > 4 * bytes, PART_BYTES));
    await page.close();

    const other = await open(context);
    assert.equal(await outputOf(await redis(other, "DBSIZE")), "(integer) 5000");
    await redis(other, "SET after upgrade");
    await other.evaluate(() => window.app.persistence.saveNow());
    const { keys, current } = await stored(other);
    assert.ok(!keys.includes("snapshot:1-old"), keys.join(" "));
    assert.ok(keys.some((k) => k.startsWith(`${current}/`)));
    await other.close();

    const third = await open(context);
    assert.equal(await outputOf(await redis(third, "GET after")), '"upgrade"');
    assert.equal(await outputOf(await redis(third, "DBSIZE")), "(integer) 5001");
    assert.deepEqual([...other.errors, ...third.errors].map(String), []);
  });
});

test("a snapshot missing one of its parts is set aside, not loaded in part", async () => {
  await inFreshContext(async (context) => {
    const page = await open(context);
    await fill(page, KEYS);
    await page.evaluate(() => window.app.persistence.saveNow());
    const { keys, current } = await stored(page);
    await page.evaluate(async (key) => {
      const tx = window.app.persistence.db.transaction("snapshots", "readwrite");
      tx.objectStore("snapshots").delete(key);
      await new Promise((ok) => (tx.oncomplete = ok));
    }, keys.filter((k) => k.startsWith(`${current}/`))[1]);
    await page.close();

    const other = await open(context);
    assert.equal(await outputOf(await redis(other, "DBSIZE")), "(integer) 0");
    const n = keys.filter((k) => k.startsWith(`${current}/`)).length;
    assert.match(
      await other.locator("[data-notice=set-aside]").textContent(),
      new RegExp(`could not be restored: it is missing parts \\(${n - 1} of ${n} found\\)`),
    );
    assert.equal((await other.evaluate(() => window.app.persistence.setAsideKeys())).length, 1);
  });
});
