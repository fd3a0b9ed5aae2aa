// The saved sandbox and the page's readiness (persistence.js, openEarly): a browser that never
// saved a sandbox here (no mark in localStorage) is ready without waiting for IndexedDB; one
// that did waits for the restore, as before. The database's open is held back by an init
// script until the test lets it go, so each case is decided by the order of events, not by
// timings: the engine is up (window.app) while the database has not answered.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redis, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

/**
 * In every page of `context` where localStorage holds `test:hold-db`, indexedDB.open of the
 * page's database hands back a stand-in request that is served by the real one only once
 * `window.releaseDb()` is called.
 */
async function holdDatabase(context) {
  await context.addInitScript(() => {
    if (localStorage.getItem("test:hold-db") === null) return;
    let release;
    const released = new Promise((resolve) => (release = resolve));
    window.releaseDb = release;
    const open = indexedDB.open.bind(indexedDB);
    indexedDB.open = (name, version) => {
      if (name !== "nosql-playground") return open(name, version);
      const held = { result: undefined, error: null, onupgradeneeded: null, onsuccess: null, onerror: null };
      released.then(() => {
        const real = open(name, version);
        for (const event of ["upgradeneeded", "success", "error"]) {
          real.addEventListener(event, (e) => {
            held.result = event === "error" ? undefined : real.result;
            held.error = event === "error" ? real.error : null;
            held[`on${event}`]?.(e);
          });
        }
      });
      return held;
    };
  });
}

const readyState = (page) => page.evaluate(() => document.body.dataset.ready ?? null);
const waitReady = (page) => page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 20_000 });
/** The engine and consoles are up (main.js sets window.app just before the restore). */
const waitEngine = (page) => page.waitForFunction(() => window.app?.redis !== undefined, null, { timeout: 20_000 });
const output = async (page, line) => (await (await redis(page, line)).locator(".output").textContent()).trim();
const idle = (page) => page.evaluate(() => window.app.persistence.idle());

/**
 * A page of `context` at the playground, with the database held back when `hold`, and the
 * mark that a sandbox was saved here removed first when `unmark`. The flags are written from
 * a page of the same origin before the playground's own loads (its init script reads them).
 */
async function open(context, { hold, unmark = false }) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(harness.url + "lessons/index.json");
  await page.evaluate(
    ([hold, unmark]) => {
      if (hold) localStorage.setItem("test:hold-db", "1");
      else localStorage.removeItem("test:hold-db");
      if (unmark) localStorage.removeItem("nosql-playground:saved");
    },
    [hold, unmark],
  );
  await page.goto(harness.url);
  page.errors = errors;
  return page;
}

/** Closes `page` once its last save is written, and says whether it raised errors. */
async function close(page) {
  await idle(page);
  await page.close();
  assert.deepEqual(page.errors, []);
}

test("a first visit is ready while the database is still opening, and its work is saved once it has", async () => {
  const context = await harness.browser.newContext();
  await holdDatabase(context);
  try {
    const page = await open(context, { hold: true });
    await waitReady(page);
    assert.equal(await output(page, "SET first visit"), "OK");
    // The save comes due while the database is held, and cannot be written yet.
    await page.waitForFunction(() => window.app.persistence.timer === null);
    assert.equal(await page.evaluate(() => window.app.persistence.saves), 0);
    await page.evaluate(() => window.releaseDb());
    await idle(page);
    assert.ok(await page.evaluate(() => localStorage.getItem("nosql-playground:saved")), "the save left its mark");
    await close(page);

    const again = await open(context, { hold: false });
    await waitReady(again);
    assert.equal(await output(again, "GET first"), '"visit"');
    await close(again);
  } finally {
    await context.close();
  }
});

test("a browser that saved here waits for the restore before it is ready", async () => {
  const context = await harness.browser.newContext();
  await holdDatabase(context);
  try {
    const page = await open(context, { hold: false });
    await waitReady(page);
    await redis(page, "SET kept 1");
    await close(page);

    const again = await open(context, { hold: true });
    await waitEngine(again);
    assert.equal(await readyState(again), null, "ready before the saved sandbox was read");
    await again.evaluate(() => window.releaseDb());
    await waitReady(again);
    assert.equal(await output(again, "GET kept"), '"1"');
    await close(again);
  } finally {
    await context.close();
  }
});

test("a snapshot found after a ready start without the mark is restored if nothing changed, else set aside", async () => {
  const context = await harness.browser.newContext();
  await holdDatabase(context);
  try {
    // A sandbox saved by a page that kept no mark (or whose mark alone was cleared).
    const page = await open(context, { hold: false });
    await waitReady(page);
    await redis(page, "SET old 1");
    await close(page);

    const quiet = await open(context, { hold: true, unmark: true });
    await waitReady(quiet);
    await quiet.evaluate(() => window.releaseDb());
    await quiet.evaluate(() => window.app.persistence.opened);
    assert.equal(await output(quiet, "GET old"), '"1"', "restored, nothing having changed");
    assert.ok(await quiet.evaluate(() => localStorage.getItem("nosql-playground:saved")), "and marked");
    await close(quiet);

    const busy = await open(context, { hold: true, unmark: true });
    await waitReady(busy);
    await redis(busy, "SET new 1");
    await busy.evaluate(() => window.releaseDb());
    await busy.evaluate(() => window.app.persistence.opened);
    const notice = busy.locator("[data-notice=set-aside]");
    await notice.waitFor();
    assert.match(await notice.textContent(), /found only after new work had begun here/);
    assert.equal(await output(busy, "GET old"), "(nil)", "the new work was not replaced");
    assert.equal(await output(busy, "GET new"), '"1"');
    assert.equal((await busy.evaluate(() => window.app.persistence.setAsideKeys())).length, 1);
    await close(busy);
  } finally {
    await context.close();
  }
});
