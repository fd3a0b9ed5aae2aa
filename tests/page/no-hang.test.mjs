// The two things that used to hold the page for seconds: a huge reply, and one giant
// statement. A long Redis reply reaches the page as its first lines, the rest part by part
// when shown or copied; a long Mongo input is split in slices; a statement too big to cut
// says so, and is drawn saying so, before it runs. Ordering is asserted, never timing.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mongo, openPage, redis, startHarness, withPage } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

const outputOf = (entry) => entry.locator(".output").first().textContent();

/** Fills `key` with `n` items through `command` (HSET takes field-value pairs) in batches. */
function fill(page, command, key, n) {
  return page.evaluate(
    ({ command, key, n }) => {
      for (let start = 0; start < n; start += 10_000) {
        const words = [];
        for (let i = start; i < Math.min(n, start + 10_000); i++) words.push(command === "HSET" ? `f${i} v${i}` : `m${i}`);
        window.app.playground.redisScript(`${command} ${key} ${words.join(" ")}`, Date.now());
      }
    },
    { command, key, n },
  );
}

test("a huge Redis reply reaches the page as its first lines; shown in full, it is the reply redis-cli prints", () =>
  withPage(harness, async (page) => {
    await fill(page, "HSET", "h", 1_500);
    const whole = await page.evaluate(() => window.app.playground.redis("HGETALL h", Date.now()));
    const entry = await redis(page, "HGETALL h");
    assert.equal((await outputOf(entry)).split("\n").length, 200);
    // Hidden lines are counted before they are written.
    await entry.getByRole("button", { name: "Show 2000 more of 2800 hidden lines" }).click();
    const rest = entry.getByRole("button", { name: "Show the remaining 800 hidden lines" });
    await rest.click();
    assert.equal(await rest.count(), 0);
    assert.equal(await outputOf(entry), whole.slice(0, -1));
    // A repeated command is written whole, as redis-cli prints the replies in turn.
    const twice = await redis(page, "2 HLEN h");
    assert.equal(await outputOf(twice), "(integer) 1500\n(integer) 1500");
  }));

test("a million-field HGETALL renders at once; copying all of it gathers the parts in slices while frames are drawn", () =>
  withPage(harness, async (page) => {
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(harness.url).origin });
    await fill(page, "HSET", "h", 1_000_000);
    const entry = await redis(page, "HGETALL h");
    assert.equal((await outputOf(entry)).split("\n").length, 200);
    await entry.getByRole("button", { name: "Show 2000 more of 1999800 hidden lines" }).waitFor();
    const seen = await page.evaluate(() => {
      const copy = [...document.querySelectorAll("#redis-console .copy-all")].at(-1);
      const writeText = navigator.clipboard.writeText.bind(navigator.clipboard);
      let written = false;
      navigator.clipboard.writeText = (text) => {
        written = true;
        return writeText(text);
      };
      copy.click();
      return new Promise((ok) => requestAnimationFrame(() => ok({ writtenAtFrame: written })));
    });
    // A frame was drawn before the gathered reply reached the clipboard.
    assert.deepEqual(seen, { writtenAtFrame: false });
    await entry.getByRole("button", { name: "Copied 2000000 lines" }).waitFor({ timeout: 120_000 });
    const copied = await page.evaluate(async () => {
      const text = await navigator.clipboard.readText();
      const lines = text.split("\n");
      return { lines: lines.length, first: lines.slice(0, 2), last: lines.slice(-2) };
    });
    assert.deepEqual(copied, {
      lines: 2_000_000,
      first: ['      1) "f0"', '      2) "v0"'],
      last: ['1999999) "f999999"', '2000000) "v999999"'],
    });
    assert.equal(await outputOf(await redis(page, "HLEN h")), "(integer) 1000000");
  }));

test("the page keeps the newest long replies: an older one says it can no longer show more", () =>
  withPage(harness, async (page) => {
    await fill(page, "RPUSH", "l", 3_000);
    const first = await redis(page, "LRANGE l 0 -1");
    for (let i = 0; i < 3; i++) await redis(page, "LRANGE l 0 -1");
    await first.getByRole("button", { name: "Show 2000 more of 2800 hidden lines" }).click();
    await first.locator(".output.note", { hasText: "no longer kept" }).waitFor();
    assert.equal((await outputOf(first)).split("\n").length, 200);
    // The newest still shows all of it.
    const last = page.locator("#redis-console [role=log]:not([hidden]) .entry").last();
    await last.getByRole("button", { name: "Show 2000 more of 2800 hidden lines" }).click();
    await last.getByRole("button", { name: "Show the remaining 800 hidden lines" }).click();
    assert.match(await outputOf(last), /\n3000\) "m2999"$/);
  }));

test("a seven-megabyte Mongo paste is split in slices: a frame is drawn before its statements start", () =>
  withPage(harness, async (page) => {
    await mongo(page, "db.s.countDocuments()");
    const total = 100_000;
    const seen = await page.evaluate((total) => {
      const console_ = window.app.mongo;
      const data = new DataTransfer();
      data.setData("text/plain", "db.s.insertOne({n: 1, s: 'some text of a document, some more text'})\n".repeat(total));
      const input = document.querySelector("#mongo-console [data-role=input]");
      input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      const state = () => ({ splitting: Boolean(console_.splitting), running: Boolean(console_.pasteRun) });
      const afterPaste = state();
      return new Promise((ok) => requestAnimationFrame(() => ok({ afterPaste, atFrame: state() })));
    }, total);
    assert.deepEqual(seen, { afterPaste: { splitting: true, running: false }, atFrame: { splitting: true, running: false } });
    // Typed while the paste is being split: it runs after the paste's statements.
    const input = page.getByRole("textbox", { name: "Mongo shell" });
    await input.fill("db.s.insertOne({last: true})");
    await input.press("Enter");
    await page.waitForFunction(() => window.app.mongo.pasteRun);
    await page.locator("#mongo-console .paste-progress").getByRole("button", { name: "Stop" }).click();
    const note = page.locator("#mongo-console .output.note", { hasText: "stopped" });
    await note.waitFor();
    const ran = Number(/stopped: ([\d,]+) of 100,001/.exec(await note.textContent())[1].replaceAll(",", ""));
    assert.ok(ran > 0 && ran < total, String(ran));
    assert.equal(await outputOf(await mongo(page, "db.s.countDocuments()")), String(ran));
    assert.equal(await outputOf(await mongo(page, "db.s.countDocuments({last: true})")), "0");
  }));

test("Ctrl+C while a long Mongo paste is read into statements stops it before any runs", () =>
  withPage(harness, async (page) => {
    await mongo(page, "db.s.countDocuments()");
    const status = await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData("text/plain", "db.s.insertOne({n: 1, s: 'some text of a document, some more text'})\n".repeat(100_000));
      const input = document.querySelector("#mongo-console [data-role=input]");
      input.focus();
      input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      const status = document.querySelector("#mongo-console .paste-progress [role=status]")?.textContent ?? null;
      // In the same task: the split is under way, its first slice done.
      input.dispatchEvent(new KeyboardEvent("keydown", { key: "c", ctrlKey: true, bubbles: true, cancelable: true }));
      return status;
    });
    assert.equal(status, "reading 6,900,000 pasted characters into statements …");
    await page.locator("#mongo-console .output.note", { hasText: "stopped while reading the paste" }).waitFor();
    assert.equal(await page.locator("#mongo-console .paste-progress").count(), 0);
    assert.equal(await outputOf(await mongo(page, "db.s.countDocuments()")), "0");
  }));

/** `db.<coll>.insertMany([…])` of `n` documents of about a hundred characters, ids 0…n-1. */
function giantInsert(coll, n) {
  const text = "x".repeat(90);
  return `db.${coll}.insertMany([${Array.from({ length: n }, (_, i) => `{_id: ${i}, s: '${text}'}`).join(", ")}])`;
}

/**
 * Presses the Mongo console's Stop as soon as its progress line matches `pattern` (in the
 * page: the line's text, and so its button's place, changes every step). Resolves to the
 * line's text then.
 */
function stopWhen(page, pattern) {
  return page.evaluate((pattern) => {
    const root = document.querySelector("#mongo-console");
    return new Promise((ok) => {
      const watch = new MutationObserver(() => {
        const status = root.querySelector(".paste-progress [role=status]");
        if (!new RegExp(pattern).test(status?.textContent ?? "")) return;
        watch.disconnect();
        root.querySelector(".paste-progress .paste-stop").click();
        ok(status.textContent);
      });
      watch.observe(root, { childList: true, subtree: true, characterData: true });
    });
  }, pattern);
}

/** Pastes `src` into the Mongo console. */
function paste(page, src) {
  return page.evaluate((src) => {
    const data = new DataTransfer();
    data.setData("text/plain", src);
    const input = document.querySelector("#mongo-console [data-role=input]");
    input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, src);
}

/**
 * In the page: each call into the engine for a giant statement is noted in `__order`, then
 * posts a task that notes "a task" when the page handles it (so a step the page answers
 * events after is followed by one); what the last call printed is `__printed`; every text
 * the progress line shows is in `__statuses`.
 */
function watchSteps() {
  const engine = window.app.playground;
  window.__order = [];
  for (const name of ["mongoPrepare", "mongoStepPrepared", "mongoRunPrepared"]) {
    const call = engine[name];
    engine[name] = (...args) => {
      window.__order.push(name);
      const channel = new MessageChannel();
      channel.port1.onmessage = () => window.__order.push("a task");
      channel.port2.postMessage(null);
      const result = call(...args);
      if (result !== undefined) window.__printed = result;
      return result;
    };
  }
  window.__statuses = [];
  const root = document.querySelector("#mongo-console");
  new MutationObserver(() => {
    const status = root.querySelector(".paste-progress [role=status]")?.textContent;
    if (status && status !== window.__statuses.at(-1)) window.__statuses.push(status);
  }).observe(root, { childList: true, subtree: true, characterData: true });
}

test("one giant insertMany says so, and a frame shows it, before it runs; then it runs in steps the page answers events between, and prints what one call prints", () =>
  withPage(harness, async (page) => {
    await mongo(page, "db.big.countDocuments()");
    const n = 100_000;
    const src = giantInsert("big", n);
    await page.evaluate(watchSteps);
    const seen = await page.evaluate((src) => {
      // Whether the paste is complete is not asked of the engine, which would lex all of it.
      const engine = window.app.playground;
      window.__asked = 0;
      const complete = engine.mongoInputComplete;
      engine.mongoInputComplete = (src) => {
        window.__asked = Math.max(window.__asked, src.length);
        return complete(src);
      };
      const log = document.querySelector("#mongo-console [role=log]");
      const state = () => ({
        note: log.querySelector(".big-statement")?.textContent ?? null,
        ran: [...log.querySelectorAll(".entry .output")].some((o) => o.textContent.includes("insertedIds")),
      });
      return new Promise((ok) => {
        // At the note's arrival, ask for the next frame: it comes before the statement runs.
        const watch = new MutationObserver(() => {
          if (!state().note) return;
          watch.disconnect();
          requestAnimationFrame(() => ok(state()));
        });
        watch.observe(log, { childList: true, subtree: true });
        const data = new DataTransfer();
        data.setData("text/plain", src);
        const input = document.querySelector("#mongo-console [data-role=input]");
        input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      });
    }, src);
    const chars = src.length.toLocaleString("en-US");
    assert.deepEqual(seen, { note: `(sandbox) running one statement of ${chars} characters…`, ran: false });
    const output = page.locator("#mongo-console .entry .output", { hasText: "insertedIds" });
    await output.waitFor({ timeout: 120_000 });
    assert.match(await page.locator("#mongo-console .big-statement").textContent(), / done$/);
    assert.equal(await page.locator("#mongo-console .paste-progress").count(), 0);
    assert.ok((await page.evaluate(() => window.__asked)) < 1_000_000);
    // The progress line said how far it was while it ran, stage after stage.
    const statuses = await page.evaluate(() => window.__statuses);
    const stages = [...new Set(statuses.map((s) => s.split(" ")[0]))];
    assert.deepEqual(stages, ["reading", "evaluating", "preparing", "inserting", "printing"]);
    assert.ok(statuses.some((s) => /^inserting [\d,]+ \/ 100,000 documents …$/.test(s)), statuses.join("\n"));
    const order = await page.evaluate(() => window.__order);
    assert.equal(order[0], "mongoPrepare");
    assert.ok(!order.includes("mongoRunPrepared"), order.join());
    const steps = order.filter((name) => name === "mongoStepPrepared").length;
    assert.ok(steps > 10, `${steps} steps`);
    // Between any two calls into the engine, the page handled the task the first posted.
    for (let i = 1; i < order.length; i += 2) assert.equal(order[i], "a task", `after call ${i}`);
    assert.match(await output.textContent(), /^\{\n {2}acknowledged: true,\n {2}insertedIds: \{\n {4}'0': 0,\n {4}'1': 1,/);
    // What the steps printed is what one call prints for the same documents.
    const same = await page.evaluate((src) => window.__printed === window.app.playground.mongo(src.replace("db.big.", "db.once."), Date.now()), src);
    assert.equal(same, true);
    assert.equal(await outputOf(await mongo(page, "db.big.countDocuments()")), String(n));
  }));

test("Stop while a giant insertMany inserts ends it; what it inserted stays and the note says how many", () =>
  withPage(harness, async (page) => {
    await mongo(page, "db.big.countDocuments()");
    // Stop is pressed as soon as the progress line says some documents were inserted.
    const pressed = stopWhen(page, "^inserting [1-9]");
    await paste(page, giantInsert("big", 100_000));
    assert.match(await pressed, /^inserting [\d,]+ \/ 100,000 documents …$/);
    const note = page.locator("#mongo-console .output.note", { hasText: "documents were inserted" });
    await note.waitFor({ timeout: 120_000 });
    const [, inserted, rest] = /^\(sandbox\) stopped: ([\d,]+) of 100,000 documents were inserted; the other ([\d,]+) were not\.$/.exec((await note.textContent()).trim());
    const number = (text) => Number(text.replaceAll(",", ""));
    assert.ok(number(inserted) > 0 && number(inserted) < 100_000, inserted);
    assert.equal(number(inserted) + number(rest), 100_000);
    assert.match(await page.locator("#mongo-console .big-statement").textContent(), / stopped$/);
    assert.equal(await outputOf(await mongo(page, "db.big.countDocuments()")), String(number(inserted)));
  }));

test("a giant statement of another shape still runs, in two calls", () =>
  withPage(harness, async (page) => {
    await mongo(page, "db.big.countDocuments()");
    const items = Array.from({ length: 11_000 }, (_, i) => `{n: ${i}, s: '${"x".repeat(90)}'}`).join(", ");
    const src = `db.big.insertOne({_id: 'all', items: [${items}]})`;
    assert.ok(src.length > 1_000_000);
    await paste(page, src);
    await page.locator("#mongo-console .entry .output", { hasText: "insertedId: 'all'" }).waitFor({ timeout: 120_000 });
    assert.match(await page.locator("#mongo-console .big-statement").textContent(), /characters… the page waits for it… done$/);
    assert.equal(await outputOf(await mongo(page, "db.big.findOne().items.length")), "11000");
  }));

test("Ctrl+C while a giant insertMany is read stops it before anything is inserted", () =>
  withPage(harness, async (page) => {
    await mongo(page, "db.big.countDocuments()");
    const pressed = page.evaluate(() => {
      const root = document.querySelector("#mongo-console");
      const input = root.querySelector("[data-role=input]");
      return new Promise((ok) => {
        const watch = new MutationObserver(() => {
          const status = root.querySelector(".paste-progress [role=status]")?.textContent ?? "";
          if (!/^reading [\d,]+ \/ [\d,]+ characters of the statement …$/.test(status)) return;
          watch.disconnect();
          input.dispatchEvent(new KeyboardEvent("keydown", { key: "c", ctrlKey: true, bubbles: true, cancelable: true }));
          ok(status);
        });
        watch.observe(root, { childList: true, subtree: true, characterData: true });
      });
    });
    await paste(page, giantInsert("big", 100_000));
    await pressed;
    await page.locator("#mongo-console .output.note", { hasText: "stopped before any document was inserted" }).waitFor({ timeout: 120_000 });
    assert.equal(await page.locator("#mongo-console .paste-progress").count(), 0);
    assert.equal(await outputOf(await mongo(page, "db.big.countDocuments()")), "0");
  }));

test("after a read in a big sandbox the keyspace panel keeps its snapshot; after a write it takes a new one", () =>
  withPage(harness, async (page) => {
    await page.evaluate(() => {
      for (let start = 0; start < 100_000; start += 10_000) {
        const pairs = Array.from({ length: 10_000 }, (_, i) => `key:${start + i} v`);
        window.app.playground.redisScript(`MSET ${pairs.join(" ")}`, Date.now());
      }
    });
    // Counts the panel's snapshots from here on.
    await page.evaluate(() => {
      const engine = window.app.playground;
      const keyspace = engine.redisKeyspace;
      window.__snapshots = 0;
      engine.redisKeyspace = (...args) => {
        window.__snapshots++;
        return keyspace(...args);
      };
    });
    const snapshots = () => page.evaluate(() => window.__snapshots);
    // The first command after the keys arrived: the panel has not seen them yet.
    await redis(page, "DBSIZE");
    await page.locator("keyspace-panel .panel-count", { hasText: "100000 keys" }).waitFor();
    const seen = await snapshots();
    assert.ok(seen >= 1, `${seen}`);
    for (const line of ["KEYS *", "DBSIZE", "GET key:5", "TTL key:5", "SCAN 0"]) await redis(page, line);
    // Two frames, in which a deferred refresh would have run.
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
    assert.equal(await snapshots(), seen);
    assert.equal(await page.locator("#server-info [data-stat=keys]").textContent(), "100000");
    await redis(page, "SET aaa 1");
    await page.locator("keyspace-panel .ks-row[data-key=aaa]").waitFor();
    assert.ok((await snapshots()) > seen);
    await page.locator("keyspace-panel .panel-count", { hasText: "100001 keys" }).waitFor();
    assert.equal(await page.locator("#server-info [data-stat=keys]").textContent(), "100001");
  }));

test("a giant insertMany that fails late prints its MongoBulkWriteError in steps the page answers events between, as one call prints it", () =>
  withPage(harness, async (page) => {
    await mongo(page, "db.big.countDocuments()");
    const n = 50_000;
    // The last document repeats the first one's id: all the others are inserted first.
    const src = giantInsert("big", n).replace(/\]\)$/, ", {_id: 0}])");
    await page.evaluate(watchSteps);
    await paste(page, src);
    const output = page.locator("#mongo-console .entry .output", { hasText: "MongoBulkWriteError" });
    await output.waitFor({ timeout: 120_000 });
    const statuses = await page.evaluate(() => window.__statuses);
    const printing = statuses.filter((s) => /^printing [\d,]+ \/ 50,000 inserted ids …$/.test(s));
    assert.ok(printing.length > 1, statuses.join("\n"));
    const order = await page.evaluate(() => window.__order);
    assert.ok(!order.includes("mongoRunPrepared"), order.join());
    for (let i = 1; i < order.length; i += 2) assert.equal(order[i], "a task", `after call ${i}`);
    // The error names its collection: one call into another says the other's name.
    const same = await page.evaluate(
      (src) => window.__printed === window.app.playground.mongo(src.replace("db.big.", "db.once."), Date.now()).replaceAll("test.once", "test.big"),
      src,
    );
    assert.equal(same, true);
    assert.match(await page.evaluate(() => window.__printed), /^Uncaught:\nMongoBulkWriteError: E11000 .*\nResult: BulkWriteResult \{\n {2}insertedCount: 50000,/);
    assert.equal(await outputOf(await mongo(page, "db.big.countDocuments()")), String(n));
  }));

/** Fills `db.<coll>` with `n` documents `{i, s}` through calls into the engine. */
function fillCollection(page, coll, n) {
  return page.evaluate(
    ({ coll, n }) => {
      for (let start = 0; start < n; start += 100_000) {
        const length = Math.min(100_000, n - start);
        window.app.playground.mongo(`db.${coll}.insertMany(Array.from({length: ${length}}, (_, i) => ({i: i + ${start}, s: 'text'})))`, Date.now());
      }
    },
    { coll, n },
  );
}

/** Types `src` into the Mongo console and presses Enter, without waiting for its entry. */
async function enter(page, src) {
  const input = page.getByRole("textbox", { name: "Mongo shell" });
  await input.fill(src);
  await input.press("Enter");
}

test("let a = db.c.find().toArray() copies the documents in steps the page answers events between, then binds what one call binds", () =>
  withPage(harness, async (page) => {
    const n = 200_000;
    await mongo(page, "db.big.countDocuments()");
    await fillCollection(page, "big", n);
    await page.evaluate(watchSteps);
    await enter(page, "let a = db.big.find({}, {_id: 0}).sort({i: -1}).toArray()");
    // Entered while the copy runs: it waits its turn, and sees the variable bound.
    await page.locator("#mongo-console .paste-progress").waitFor();
    await enter(page, "a.length");
    const length = page.locator("#mongo-console .entry", { hasText: "a.length" }).locator(".output");
    await length.waitFor({ timeout: 120_000 });
    assert.equal(await length.textContent(), String(n));
    const statuses = await page.evaluate(() => window.__statuses);
    assert.ok(
      statuses.some((s) => /^reading [1-9][\d,]* \/ 200,000 documents …$/.test(s)),
      statuses.join("\n"),
    );
    const order = await page.evaluate(() => window.__order);
    assert.equal(order[0], "mongoPrepare");
    assert.ok(!order.includes("mongoRunPrepared"), order.join());
    const steps = order.filter((name) => name === "mongoStepPrepared").length;
    assert.ok(steps > 3, `${steps} steps`);
    // Between any two calls into the engine, the page handled the task the first posted.
    for (let i = 1; i < order.length; i += 2) assert.equal(order[i], "a task", `after call ${i}`);
    assert.equal(await page.evaluate(() => window.__printed), "");
    assert.equal(await page.locator("#mongo-console .paste-progress").count(), 0);
    // What the variable holds is what one call gives.
    const reads = (v) => `${v}[5]\n${v}[${v}.length - 1]\n${v}.slice(0, 3)`;
    const once = await page.evaluate((reads) => {
      const engine = window.app.playground;
      engine.mongo("let b = db.big.find({}, {_id: 0}).sort({i: -1}).toArray()", Date.now());
      return engine.mongo(reads, Date.now());
    }, reads("b"));
    assert.equal(await outputOf(await mongo(page, reads("a"))), once.trimEnd());
  }));

test("Stop while the documents of let a = ….toArray() are copied leaves a unassigned and says so", () =>
  withPage(harness, async (page) => {
    await mongo(page, "db.big.countDocuments()");
    await fillCollection(page, "big", 200_000);
    const pressed = stopWhen(page, "^reading [1-9]");
    await enter(page, "let a = db.big.find().toArray()");
    const note = page.locator("#mongo-console .output.note", { hasText: "was not assigned" });
    await note.waitFor({ timeout: 120_000 });
    assert.match(await pressed, /^reading [\d,]+ \/ 200,000 documents …$/);
    const [, read] = /^\(sandbox\) stopped after reading ([\d,]+) of 200,000 documents; a was not assigned\.$/.exec((await note.textContent()).trim());
    const number = Number(read.replaceAll(",", ""));
    assert.ok(number > 0 && number < 200_000, read);
    assert.equal(await page.locator("#mongo-console .paste-progress").count(), 0);
    assert.equal(await outputOf(await mongo(page, "typeof a")), "undefined");
    assert.equal(await outputOf(await mongo(page, "db.big.countDocuments()")), "200000");
  }));
