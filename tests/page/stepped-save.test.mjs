// The delayed save of a big sandbox goes in slices (persistence.js `autosave`): the page
// answers commands between them, a command between two slices makes the save start over, a
// one-call save cancels it, and a reload has the state after the last command, never a
// mixture. The tests hold the save between two slices (`yieldBetweenSlices`), so what they
// check follows from the order of events, not from timing.

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

const KEYS = 100_000;

async function open(context) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(harness.url);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), "true");
  page.errors = errors;
  return page;
}

/** Runs `fn` on a page of its own browser context (its own IndexedDB), then closes it. */
async function onFreshPage(fn) {
  const context = await harness.browser.newContext();
  try {
    await fn(await open(context));
  } finally {
    await context.close();
  }
}

const outputOf = async (entry) => (await entry.locator(".output").textContent()).trim();

/** The persistence's counters and whether a stepped save is under way. */
const state = (page) =>
  page.evaluate(() => {
    const p = window.app.persistence;
    return { saves: p.saves, abandoned: p.abandoned, stepped: p.stepped !== null, timer: p.timer !== null };
  });

/** Makes the next stepped save stop after its first call and wait at its first yield. */
function holdAtFirstYield(page) {
  return page.evaluate(() => {
    const p = window.app.persistence;
    window.__held = null;
    p.sliceMs = 0;
    p.yieldBetweenSlices = (next) => {
      window.__held = next;
    };
  });
}

/** Lets the held save go on, in slices as the page makes them. */
function release(page) {
  return page.evaluate(() => {
    const p = window.app.persistence;
    p.sliceMs = 12;
    p.yieldBetweenSlices = (next) => setTimeout(next, 0);
    const next = window.__held;
    window.__held = null;
    next();
  });
}

const fill = fillKeys;

/** A command that schedules the delayed save, which is held after its first call. */
async function startHeldSave(page) {
  await holdAtFirstYield(page);
  await redis(page, "SET marker first");
  await page.waitForFunction(() => window.__held !== null, null, { timeout: 30_000 });
}

/** Reopens the page and checks what it restored: `lines` and their outputs, and no errors. */
async function reopenAndCheck(page, lines) {
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 60_000 });
  for (const [line, output] of lines) assert.equal(await outputOf(await redis(page, line)), output);
  assert.deepEqual(page.errors.map(String), []);
}

test("a big sandbox's autosave goes in slices, starts over after a command between them, and a reload has the last state", async () => {
  await onFreshPage(async (page) => {
    await fill(page, KEYS);
    await startHeldSave(page);
    const held = await state(page);
    assert.deepEqual(held, { saves: 0, abandoned: 0, stepped: true, timer: false });

    // Between two slices the console answers (the test starts the next save itself).
    await page.evaluate(() => {
      window.app.persistence.delayMs = 3_600_000;
    });
    assert.equal(await outputOf(await redis(page, "SET typed mid-save")), "OK");
    assert.equal(await outputOf(await redis(page, "GET marker")), '"first"');

    // The next slice finds the sandbox changed: nothing is written, the save is due again.
    await release(page);
    assert.deepEqual(await state(page), { saves: 0, abandoned: 1, stepped: false, timer: true });

    // It starts over (when its delay is up) and completes.
    await page.evaluate(() => {
      window.app.persistence.autosave();
    });
    await page.waitForFunction(() => window.app.persistence.saves === 1, null, { timeout: 60_000 });
    assert.equal((await state(page)).abandoned, 1);

    await reopenAndCheck(page, [
      ["GET typed", '"mid-save"'],
      ["GET marker", '"first"'],
      ["DBSIZE", `(integer) ${KEYS + 2}`],
    ]);
  });
});

test("a one-call save cancels a stepped save under way, which then writes nothing", async () => {
  await onFreshPage(async (page) => {
    await fill(page, KEYS);
    await startHeldSave(page);

    // The page is hidden (or SAVE ran): the save happens at once, in one call.
    await page.evaluate(() => window.app.persistence.saveNow());
    assert.deepEqual(await state(page), { saves: 1, abandoned: 0, stepped: false, timer: false });
    // The held save's next slice sees it was cancelled and writes nothing over it.
    await release(page);
    await page.evaluate(() => window.app.persistence.idle());
    assert.deepEqual(await state(page), { saves: 1, abandoned: 0, stepped: false, timer: false });

    await reopenAndCheck(page, [
      ["GET marker", '"first"'],
      ["DBSIZE", `(integer) ${KEYS + 1}`],
    ]);
  });
});

test("moving the sandbox into the full module between two slices drops the save, which starts over there", async () => {
  await onFreshPage(async (page) => {
    await fill(page, 20_000);
    await startHeldSave(page);
    assert.equal(await page.evaluate(() => window.app.playground.isFull), false);
    await page.evaluate(() => window.app.playground.switchToFull());
    assert.equal(await page.evaluate(() => window.app.playground.isFull), true);

    // The new instance has no save under way: the next slice reports the change.
    await release(page);
    assert.deepEqual(await state(page), { saves: 0, abandoned: 1, stepped: false, timer: true });
    await page.evaluate(() => window.app.persistence.idle());
    assert.equal((await state(page)).saves, 1);

    await reopenAndCheck(page, [
      ["GET marker", '"first"'],
      ["DBSIZE", "(integer) 20001"],
    ]);
  });
});

test("after three stepped saves in a row were dropped, the next delayed save is one call", async () => {
  await onFreshPage(async (page) => {
    await fill(page, 20_000);
    await page.evaluate(() => {
      window.app.persistence.delayMs = 3_600_000;
    });
    for (let dropped = 1; dropped <= 3; dropped++) {
      await holdAtFirstYield(page);
      await page.evaluate(() => {
        window.app.persistence.autosave();
      });
      await redis(page, `SET typed:${dropped} v`);
      await release(page);
      assert.deepEqual(await state(page), { saves: 0, abandoned: dropped, stepped: false, timer: true });
    }
    await holdAtFirstYield(page);
    await page.evaluate(() => {
      window.app.persistence.autosave();
    });
    assert.equal(await page.evaluate(() => window.__held), null, "no slice: one call");
    await page.evaluate(() => window.app.persistence.idle());
    assert.deepEqual(await state(page), { saves: 1, abandoned: 3, stepped: false, timer: false });
  });
});

test("histories of over a megabyte are taken, handed to the engine and saved in tasks of their own, and a command between starts the save over", async () => {
  await onFreshPage(async (page) => {
    await fill(page, 20_000);
    await page.evaluate(() => {
      const p = window.app.persistence;
      p.delayMs = 3_600_000;
      // As a giant paste leaves them: one entry of over a megabyte.
      window.app.mongo.history.entries.push(`db.c.insertMany([${"{a: 1}, ".repeat(200_000)}])`);
      window.__begun = 0;
      const begin = p.playground.snapshotBegin.bind(p.playground);
      p.playground.snapshotBegin = (...args) => {
        window.__begun += 1;
        return begin(...args);
      };
    });
    const turn = () =>
      page.evaluate(() => {
        const next = window.__held;
        window.__held = null;
        next();
        return { begun: window.__begun, held: window.__held !== null };
      });

    await holdAtFirstYield(page);
    await page.evaluate(() => {
      window.app.persistence.autosave();
    });
    // The histories were taken; the engine gets them in the next task, the first slice after.
    assert.deepEqual(await page.evaluate(() => ({ begun: window.__begun, held: window.__held !== null })), { begun: 0, held: true });
    assert.deepEqual(await turn(), { begun: 1, held: true });
    assert.equal((await state(page)).saves, 0);
    await release(page);
    await page.evaluate(() => window.app.persistence.idle());
    assert.deepEqual(await state(page), { saves: 1, abandoned: 0, stepped: false, timer: false });

    // A command after the histories were taken: they lack it, so the engine never begins
    // that save, and it starts over.
    await holdAtFirstYield(page);
    await page.evaluate(() => {
      window.app.persistence.autosave();
    });
    await redis(page, "SET typed between");
    assert.deepEqual(await turn(), { begun: 1, held: true });
    await release(page);
    assert.deepEqual(await state(page), { saves: 1, abandoned: 1, stepped: false, timer: true });
    await page.evaluate(() => window.app.persistence.idle());
    assert.equal((await state(page)).saves, 2);
    await reopenAndCheck(page, [
      ["GET typed", '"between"'],
      ["DBSIZE", "(integer) 20001"],
    ]);
  });
});
