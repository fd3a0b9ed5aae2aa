// Big pastes run in slices: the page answers other events while they run, shows how far they
// are, and can stop them between commands, keeping what ran (as Ctrl+C in a real client).
// Ordering is asserted, never timing: a frame or a click is seen while the run is under way.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mongo, redis, startHarness, withPage } from "./harness.mjs";
import { closedLineEnds, splitStatements } from "../../www/js/statements.js";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

const outputOf = async (entry) => (await entry.locator(".output").last().textContent()).trim();

test("a large mongosh input splits into the statements mongosh would run one by one", () => {
  const always = () => true;
  const cases = [
    ["db.a.insertOne({x: 1})\ndb.a.insertOne({x: 2})", always, ["db.a.insertOne({x: 1})", "db.a.insertOne({x: 2})"]],
    ["db.a.insertOne({\n  x: 1\n})\ndb.b.find()", always, ["db.a.insertOne({\n  x: 1\n})", "db.b.find()"]],
    // A chained call on the next line continues the statement, as the editor runs it.
    ["db.c.find()\n  .limit(2)\nx", always, ["db.c.find()\n  .limit(2)", "x"]],
    ["print('(')\nprint(\"}\")", always, ["print('(')", 'print("}")']],
    ["let s = `a\n${ {b: 1}.b }`\nprint(s)", always, ["let s = `a\n${ {b: 1}.b }`", "print(s)"]],
    ["db.c.find({s: /it's [(]/})\nx", always, ["db.c.find({s: /it's [(]/})", "x"]],
    ["let n = 4 / 2\nlet m = (n) / 2\nm", always, ["let n = 4 / 2", "let m = (n) / 2", "m"]],
    ["// a ( comment\nx\n/* {\n */ y", always, ["// a ( comment", "x", "/* {\n */ y"]],
    ["a\n\n\nb\n", always, ["a", "b"]],
    ["x = 'a\\\nb'\ny", always, ["x = 'a\\\nb'", "y"]],
    // What the engine calls incomplete takes the next lines too.
    ["let a = 1 +\n2\nb", (text) => !/\+$/.test(text), ["let a = 1 +\n2", "b"]],
    // One statement, or what the scan cannot tell, runs whole.
    ["db.a.insertMany([\n{x: 1},\n{x: 2}])", always, null],
    ["print('open\nx", always, null],
    ["f(\nx", always, null],
    // An unfinished tail is a piece of its own (a paste leaves it in the editor).
    ["a\nf({\nx: 1", always, ["a", "f({\nx: 1"]],
    ["x)\ny", always, null],
  ];
  for (const [src, complete, expected] of cases) {
    assert.deepEqual(splitStatements(src, complete), expected, src);
  }
  assert.deepEqual(closedLineEnds("a(\n)\nb"), [1]);
});

/** How many of `total` pasted items ran, from the note the console `id` shows once stopped. */
async function ranBeforeStop(page, id, total, noun) {
  const note = page.locator(`#${id} .entry .output.note`, { hasText: "stopped" });
  await note.waitFor();
  const text = await note.textContent();
  const match = /^\(sandbox\) stopped: ([\d,]+) of ([\d,]+) pasted (\w+) ran; the other ([\d,]+) did not\.$/.exec(text);
  assert.ok(match, text);
  const [ran, all, what, rest] = match.slice(1).map((n) => (/\d/.test(n) ? Number(n.replaceAll(",", "")) : n));
  assert.deepEqual([all, what, ran + rest], [total, noun, total], text);
  assert.ok(ran > 0 && ran < total, text);
  return ran;
}

/** Pastes `unit × count` into `selector` as the clipboard would, and records, in order, what
 * the page saw: how far the run was when the paste event returned, and at the first
 * animation frame after it. */
function pasteAndWatch(page, selector, unit, count, runOf) {
  return page.evaluate(
    ({ selector, unit, count, runOf }) => {
      const host = window.app[runOf];
      const data = new DataTransfer();
      data.setData("text/plain", unit.repeat(count));
      const input = document.querySelector(selector);
      input.focus();
      const seen = {};
      input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      seen.afterPaste = host.pasteRun?.ran ?? null;
      window.__frameSaw = new Promise((ok) =>
        requestAnimationFrame(() => ok({ ...seen, atFrame: host.pasteRun?.ran ?? null })),
      );
      return window.__frameSaw;
    },
    { selector, unit, count, runOf },
  );
}

test("a pasted block of Redis commands runs in slices with progress; Stop keeps what ran, and a reload keeps it", () =>
  withPage(harness, async (page) => {
    const total = 200_000;
    const seen = await pasteAndWatch(page, "#redis-console [data-role=input]", "INCR n\n", total, "redis");
    // The paste event returned with commands still to run, and a frame was drawn while they ran.
    assert.ok(seen.afterPaste !== null && seen.afterPaste > 0 && seen.afterPaste < total, JSON.stringify(seen));
    assert.ok(seen.atFrame !== null && seen.atFrame < total, JSON.stringify(seen));
    const progress = page.locator("#redis-console .paste-progress");
    const status = await progress.locator("[role=status]").textContent();
    assert.match(status, /^running [\d,]+ \/ 200,000 pasted commands …$/);
    // The Stop button stays where it is while the count beside it changes.
    const stop = progress.getByRole("button", { name: "Stop" });
    const at = await stop.boundingBox();
    await page.waitForFunction(
      (before) => document.querySelector("#redis-console .paste-progress [role=status]")?.textContent !== before,
      status,
    );
    assert.equal((await stop.boundingBox())?.x, at?.x);
    // A click is answered while the run goes on: the Stop button is that click.
    await stop.click();
    const ran = await ranBeforeStop(page, "redis-console", total, "commands");
    assert.equal(await progress.count(), 0);
    // The replies not drawn while it ran are counted; the last one drawn is the last that ran.
    const log = page.locator("#redis-console [role=log]:not([hidden])");
    assert.match(await log.locator(".entries-hidden").textContent(), /^\(sandbox\) … [\d,]+ more replies not shown$/);
    const replies = await log.locator(".entry:not(.entries-hidden) .output:not(.note)").allTextContents();
    assert.equal(replies.at(-1), `(integer) ${ran}`);
    assert.equal(await outputOf(await redis(page, "GET n")), `"${ran}"`);

    await page.evaluate(() => window.app.persistence.idle());
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    assert.equal(await outputOf(await redis(page, "GET n")), `"${ran}"`);
    // The pasted commands are in the history as typed ones are (repeats kept once).
    const history = await page.evaluate(() => JSON.parse(localStorage.getItem("nosql-playground:history:redis")));
    assert.deepEqual(history.slice(-2), ["INCR n", "GET n"]);
  }));

test("a line typed while a paste runs waits its turn; Ctrl+C stops the paste", () =>
  withPage(harness, async (page) => {
    const total = 200_000;
    await pasteAndWatch(page, "#redis-console [data-role=input]", "RPUSH l x\n", total, "redis");
    const input = page.getByRole("textbox", { name: "Redis command" });
    await input.fill("SET after-paste 1");
    await input.press("Enter");
    await input.press("Control+c");
    // The typed line joined the run's end, so the run counts it.
    const ran = await ranBeforeStop(page, "redis-console", total + 1, "commands");
    // The typed line was queued behind the paste, so it was stopped with it.
    assert.equal(await outputOf(await redis(page, "EXISTS after-paste")), "(integer) 0");
    assert.equal(await outputOf(await redis(page, "LLEN l")), `(integer) ${ran}`);
  }));

test("a large Mongo input of many statements runs them one by one in slices, and Stop ends it between statements", () =>
  withPage(harness, async (page) => {
    // The first Mongo statement brings the Mongo engine in.
    await mongo(page, "db.c.countDocuments()");
    const total = 50_000;
    const entered = await page.evaluate(async (total) => {
      const input = document.querySelector("#mongo-console [data-role=input]");
      input.value = "db.c.insertOne({n: 1, s: 'some text'})\n".repeat(total);
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
      // The input is split into statements first, in slices of its own.
      const splitting = Boolean(window.app.mongo.splitting);
      await window.app.mongo.splitting;
      const afterEnter = window.app.mongo.pasteRun?.ran ?? null;
      return new Promise((ok) => requestAnimationFrame(() => ok({ splitting, afterEnter, atFrame: window.app.mongo.pasteRun?.ran ?? null })));
    }, total);
    assert.ok(entered.splitting, JSON.stringify(entered));
    assert.ok(entered.afterEnter > 0 && entered.afterEnter < total, JSON.stringify(entered));
    assert.ok(entered.atFrame !== null && entered.atFrame < total, JSON.stringify(entered));
    const progress = page.locator("#mongo-console .paste-progress");
    assert.match(await progress.locator("[role=status]").textContent(), /^running [\d,]+ \/ 50,000 pasted statements …$/);
    await progress.getByRole("button", { name: "Stop" }).click();
    const ran = await ranBeforeStop(page, "mongo-console", total, "statements");
    assert.equal(await outputOf(await mongo(page, "db.c.countDocuments()")), String(ran));
    // Each statement echoes on its own, as mongosh echoes each pasted line.
    const echoes = await page.locator("#mongo-console .entry:not(.entries-hidden) .echo").allTextContents();
    assert.equal(echoes.at(-1), "test> db.c.countDocuments()");
    assert.equal(echoes.at(-2), "test> db.c.insertOne({n: 1, s: 'some text'})");
  }));

test("a ten-megabyte Mongo paste runs as it arrives, without being laid into the editor", () =>
  withPage(harness, async (page) => {
    // Before the Mongo engine has loaded: the paste waits for it, then runs.
    const n = 100_000;
    const text = "x".repeat(90);
    await page.evaluate(
      ({ n, text }) => {
        const data = new DataTransfer();
        data.setData("text/plain", `db.big.insertMany([${`{n: 1, s: '${text}'}, `.repeat(n - 1)}{n: 7, s: '${text}'}])`);
        const input = document.querySelector("#mongo-console [data-role=input]");
        input.focus();
        input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      },
      { n, text },
    );
    assert.equal(await page.locator("#mongo-console [data-role=input]").inputValue(), "");
    await page.locator("#mongo-console .entry .output", { hasText: "insertedIds" }).waitFor({ timeout: 120_000 });
    assert.equal(await outputOf(await mongo(page, "db.big.countDocuments()")), String(n));
    // Many statements pasted at once run one by one, the same way.
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData("text/plain", "db.small.insertOne({s: 'some text of a document'})\n".repeat(1_000));
      const input = document.querySelector("#mongo-console [data-role=input]");
      input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => !window.app.mongo.pasteRun && !window.app.mongo.splitting);
    assert.equal(await outputOf(await mongo(page, "db.small.countDocuments()")), "1000");
    // An unfinished last statement is left in the editor to be finished, as mongosh waits for it.
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData("text/plain", "db.more.insertOne({s: 'some text of a document'})\n".repeat(1_000) + "db.more.find({");
      const input = document.querySelector("#mongo-console [data-role=input]");
      input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => !window.app.mongo.pasteRun && !window.app.mongo.splitting);
    assert.equal(await page.locator("#mongo-console [data-role=input]").inputValue(), "db.more.find({");
    await page.locator("#mongo-console [data-role=input]").fill("db.more.countDocuments()");
    await page.locator("#mongo-console [data-role=input]").press("Enter");
    await page.locator("#mongo-console .entry .echo", { hasText: "db.more.countDocuments()" }).waitFor();
    assert.equal(await outputOf(page.locator("#mongo-console .entry").last()), "1000");
  }));
