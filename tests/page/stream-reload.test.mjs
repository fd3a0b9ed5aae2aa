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

const ready = (page) =>
  page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 20_000 });
const outputOf = async (entry) => (await entry.locator(".output").textContent()).trim();

test("a stream reads the same after a reload: a deleted message's pending entry, consumer times, nodes", async () => {
  const context = await harness.browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(error));
    await page.goto(harness.url);
    await ready(page);
    await redis(page, ".time pause");
    for (const line of [
      "XADD s 1-0 a 1",
      "XADD s 2-0 a 2",
      "XADD s 3-0 a 3",
      "XGROUP CREATE s g 0",
      "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
      ".time +5s",
      "XGROUP CREATECONSUMER s g bob",
      "XDEL s 2-0",
    ]) {
      assert.doesNotMatch(await outputOf(await redis(page, line)), /\(error\)/, line);
    }
    const full = await outputOf(await redis(page, "XINFO STREAM s FULL"));
    // What Redis's AOF rewrite would lose: 2-0 is pending though deleted, bob was seen later.
    assert.match(full, /"pel-count"\s+\d+\) \(integer\) 2/);
    const seen = [...full.matchAll(/"seen-time"\s+\d+\) \(integer\) (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(seen.length, 2);
    assert.equal(seen[1] - seen[0], 5000);
    await page.evaluate(() => window.app.persistence.idle());
    await page.reload();
    await ready(page);
    assert.equal(await outputOf(await redis(page, "XINFO STREAM s FULL")), full);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});
