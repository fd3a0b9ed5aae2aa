// Very large replies: the console renders the first lines of a reply and keeps the rest for
// "show more" and "copy all", so a million-item LRANGE leaves a handful of DOM nodes. Nothing
// here asserts a time; the numbers go to the test's diagnostics.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mongo, openPage, redis, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

/** A page whose clipboard the test may read. */
async function withClipboardPage(fn) {
  const { page, context, errors } = await openPage(harness);
  try {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(harness.url).origin });
    await fn(page);
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  } finally {
    await context.close();
  }
}

const outputLines = (entry) => entry.locator(".output").evaluate((el) => el.textContent.split("\n").length);
const nodes = (entry) => entry.evaluate((el) => el.querySelectorAll("*").length);

test("LRANGE over a million items shows 200 lines, more on request, and copies all of them", (t) =>
  withClipboardPage(async (page) => {
    const made = await page.evaluate(() => {
      const started = performance.now();
      for (let batch = 0; batch < 100; batch++) {
        const items = Array.from({ length: 10_000 }, (_, i) => batch * 10_000 + i);
        window.app.playground.redisScript(`RPUSH big ${items.join(" ")}`, Date.now());
      }
      const filled = performance.now() - started;
      const at = performance.now();
      const reply = window.app.playground.redis("LRANGE big 0 -1", Date.now());
      return { filled, core: performance.now() - at, chars: reply.length };
    });
    const started = Date.now();
    const entry = await redis(page, "LRANGE big 0 -1");
    t.diagnostic(
      `RPUSH 1M in batches: ${made.filled.toFixed(0)} ms; LRANGE in the core: ${made.core.toFixed(0)} ms, ` +
        `${made.chars} characters; typed and rendered: ${Date.now() - started} ms, ${await nodes(entry)} nodes`,
    );
    assert.equal(await outputLines(entry), 200);
    assert.match(await entry.locator(".output").textContent(), /^      1\) "0"\n      2\) "1"\n/);
    // The echo, the output and its two actions: not a node per item.
    assert.ok((await nodes(entry)) < 12, `${await nodes(entry)} nodes`);
    await entry.getByRole("button", { name: "Show 2000 more of 999800 hidden lines" }).click();
    assert.equal(await outputLines(entry), 2_200);
    assert.match(await entry.locator(".output").textContent(), /\n   2200\) "2199"$/);
    await entry.getByRole("button", { name: "Show 2000 more of 997800 hidden lines" }).waitFor();

    const copy = entry.getByRole("button", { name: "Copy all 1000000 lines" });
    await copy.click();
    await entry.getByRole("button", { name: "Copied 1000000 lines" }).waitFor();
    const copied = await page.evaluate(async () => {
      const text = await navigator.clipboard.readText();
      const lines = text.split("\n");
      return { lines: lines.length, first: lines[0], last: lines.at(-1) };
    });
    assert.deepEqual(copied, { lines: 1_000_000, first: '      1) "0"', last: '1000000) "999999"' });
    // The console still answers at once.
    const next = await redis(page, "LLEN big");
    assert.equal(await next.locator(".output").textContent(), "(integer) 1000000");
  }));

test("find().toArray() over 100k documents prints as mongosh does: 100 items, then how many more", (t) =>
  withClipboardPage(async (page) => {
    let started = Date.now();
    await mongo(page, "db.big.insertMany(Array.from({length: 100000}, (_, i) => ({i})))");
    const inserted = Date.now() - started;
    started = Date.now();
    const entry = await mongo(page, "db.big.find().toArray()");
    t.diagnostic(`insertMany 100k: ${inserted} ms; find().toArray() typed and rendered: ${Date.now() - started} ms, ${await nodes(entry)} nodes`);
    const text = await entry.locator(".output").textContent();
    assert.equal(text.split("\n").length, 103);
    assert.match(text, /i: 99 },\n {2}\.\.\. 99900 more items\n\]$/);
    // Short enough to lay out whole, long enough to start collapsed behind "Show all".
    assert.equal(await entry.locator(".output.collapsed").count(), 1);
    await entry.getByRole("button", { name: "Show all (103 lines)" }).click();
    assert.equal(await entry.locator(".output.collapsed").count(), 0);
    const it = await mongo(page, "db.big.find()");
    assert.match(await it.locator(".output").textContent(), /Type "it" for more$/);
  }));

test("ZRANGE WITHSCORES, ZSCAN and ZPOPMIN over a million members with fractional scores show their first lines as redis-cli prints them", () =>
  withClipboardPage(async (page) => {
    await page.evaluate(() => {
      for (let batch = 0; batch < 100; batch++) {
        const pairs = Array.from({ length: 10_000 }, (_, i) => `${(batch * 10_000 + i) / 8 + 0.1} m${batch * 10_000 + i}`);
        window.app.playground.redisScript(`ZADD z ${pairs.join(" ")}`, Date.now());
      }
    });
    for (const line of ["ZRANGE z 0 -1 WITHSCORES", "ZREVRANGEBYSCORE z +inf -inf WITHSCORES"]) {
      const entry = await redis(page, line);
      const text = await entry.locator(".output").textContent();
      const lines = text.split("\n");
      assert.equal(lines.length, 200);
      if (line.startsWith("ZRANGE ")) {
        assert.deepEqual(lines.slice(0, 6), ['      1) "m0"', '      2) "0.1"', '      3) "m1"', '      4) "0.225"', '      5) "m2"', '      6) "0.35"']);
      } else {
        assert.deepEqual(lines.slice(0, 4), ['      1) "m999999"', '      2) "124999.975"', '      3) "m999998"', '      4) "124999.85"']);
      }
      await entry.getByRole("button", { name: "Show 2000 more of 1999800 hidden lines" }).waitFor();
    }
    // A SCAN's million items sit in the second of its two elements: the console shows its
    // first lines as redis-cli prints the nested array, and the rest on request.
    const scan = await redis(page, "ZSCAN z 0 COUNT 1000000");
    const scanned = (await scan.locator(".output").textContent()).split("\n");
    assert.equal(scanned.length, 200);
    assert.deepEqual(scanned.slice(0, 4), ['1) "0"', '2)       1) "m0"', '         2) "0.1"', '         3) "m1"']);
    // It reached the page as those lines alone: the engine writes the rest when asked.
    const kept = () => page.evaluate(() => JSON.parse(window.app.playground.redisLongReply()));
    const { items, written, linesLeft } = await kept();
    assert.deepEqual({ items, written, linesLeft }, { items: 2_000_001, written: 200, linesLeft: 1_999_801 });
    await scan.getByRole("button", { name: "Show 2000 more of 1999801 hidden lines" }).click();
    assert.equal(await outputLines(scan), 2_200);
    assert.match(await scan.locator(".output").textContent(), /\n {6}2199\) "m1099"$/);
    await scan.getByRole("button", { name: "Copy all 2000001 lines" }).click();
    await scan.getByRole("button", { name: "Copied 2000001 lines" }).waitFor();
    const copied = await page.evaluate(async () => {
      const lines = (await navigator.clipboard.readText()).split("\n");
      return { lines: lines.length, second: lines[1], last: lines.at(-1) };
    });
    assert.deepEqual(copied, { lines: 2_000_001, second: '2)       1) "m0"', last: '   2000000) "124999.975"' });
    // Popping them all answers in parts too, and leaves no key.
    const popped = await redis(page, "ZPOPMIN z 1000000");
    const pops = (await popped.locator(".output").textContent()).split("\n");
    assert.deepEqual(pops.slice(0, 2), ['      1) "m0"', '      2) "0.1"']);
    assert.equal((await kept()).linesLeft, 1_999_800);
    await popped.getByRole("button", { name: "Show 2000 more of 1999800 hidden lines" }).waitFor();
    const exists = await redis(page, "EXISTS z");
    assert.equal(await exists.locator(".output").textContent(), "(integer) 0");
  }));
