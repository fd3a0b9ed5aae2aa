// Memory use on the page for both engines: the Redis strip shows used_memory against
// maxmemory (panels.test.mjs), and the collections panel shows the documents' size against
// the Mongo sandbox's limit, up to the write that limit refuses.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mongo, redis, startHarness, withPage } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

const outputOf = async (entry) => (await entry.locator(".output").last().textContent()).trim();

test("the collections panel shows the documents' size against the sandbox memory limit", () =>
  withPage(harness, async (page) => {
    const panel = page.getByRole("region", { name: "MongoDB collections" });
    const meter = panel.locator("[data-role=memory]");
    const reading = async () => ({
      text: await meter.textContent(),
      used: Number(await meter.getAttribute("data-used")),
      limit: Number(await meter.getAttribute("data-limit")),
      full: await meter.locator(".mem-bar").evaluate((el) => el.classList.contains("full")),
      fill: await meter.locator(".mem-fill").evaluate((el) => el.style.transform),
    });
    assert.deepEqual(await reading(), { text: "Documents ≈ 0 B of 256 MB", used: 0, limit: 256 * 1024 * 1024, full: false, fill: "scaleX(0)" });

    // BSON sizes: 5 bytes of frame; per field a type byte, the name and its NUL, the value
    // (an Int32 is 4 bytes; a string 4 + its bytes + NUL).
    await mongo(page, "db.a.insertOne({_id: 1, s: 'xxxx'})");
    await page.waitForFunction(() => document.querySelector("collections-panel [data-role=memory]").dataset.used === "26");
    await mongo(page, "use other");
    await mongo(page, "db.b.insertMany([{_id: 1}, {_id: 2}])");
    await page.waitForFunction(() => document.querySelector("collections-panel [data-role=memory]").dataset.used === String(26 + 14 + 14));
    assert.equal((await reading()).text, "Documents ≈ 54 B of 256 MB");
    assert.match(await meter.getAttribute("title"), /^0% of the sandbox's memory limit/);

    // A small limit: the write that would pass it is refused with the server's code, the
    // panel shows the bar full, and deleting makes room again.
    await page.evaluate(() => window.app.playground.mongoSetMemoryLimit(100));
    await mongo(page, "db.b.countDocuments()");
    const half = await reading();
    assert.deepEqual([half.text, half.limit, half.full, half.fill], ["Documents ≈ 54 B of 100 B", 100, false, "scaleX(0.54)"]);
    const refused = await mongo(page, "db.b.insertOne({_id: 3, pad: 'a string of about fifty bytes, to go past the limit'})");
    assert.match(await outputOf(refused), /^MongoServerError: Sandbox memory limit reached: this write would take the documents of all collections past 100 bytes; drop collections or delete documents to make room$/);
    const code = await mongo(page, "try { db.b.insertOne({_id: 4, pad: 'x'.repeat(60)}) } catch (e) { e.code }");
    assert.equal(await outputOf(code), "146");
    assert.equal((await reading()).used, 54, "a refused write takes nothing");
    // 5 + (2 + 3 + 4) + (2 + 3 + 5 + 18) = 42 bytes: 96 in all, over 95% of the limit.
    await mongo(page, "db.b.insertOne({_id: 5, pad: 'x'.repeat(18)})");
    await page.waitForFunction(() => document.querySelector("collections-panel [data-role=memory]").dataset.used === "96");
    assert.equal((await reading()).full, true, "the bar turns red near the limit");
    assert.match(await meter.getAttribute("title"), /^96% of the sandbox's memory limit/);
    await mongo(page, "db.dropDatabase()");
    await page.waitForFunction(() => document.querySelector("collections-panel [data-role=memory]").dataset.used === "26");
    assert.equal((await reading()).full, false);
    assert.equal(await outputOf(await redis(page, "PING")), "PONG");
  }));
