import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mongo, startHarness, withPage as run } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});
const withPage = (fn, options) => run(harness, fn, options);
const viewer = (page) => page.getByRole("region", { name: "Pipeline viewer" });
const stageButton = (page, name) => viewer(page).getByRole("button", { name });
const counts = (page) =>
  viewer(page)
    .locator(".pv-stage [data-role=counts]")
    .evaluateAll((els) => els.map((el) => el.textContent));

const HOSTILE = `<img src=x onerror="window.pwned=1">`;
const INSERT = `db.orders.insertMany([
  {item: "a", qty: 1}, {item: "a", qty: 2}, {item: "b", qty: 3}, {item: "b", qty: 9}, {item: ${JSON.stringify(HOSTILE)}, qty: 5}
])`;
const PIPELINE = `db.orders.aggregate([
  {$match: {qty: {$lte: 3}}},
  {$group: {_id: "$item", total: {$sum: "$qty"}}},
  {$sort: {_id: 1}}
])`;

test("pipeline viewer: per-stage counts, a clicked stage's documents, keyboard reachable", () =>
  withPage(async (page) => {
    await mongo(page, INSERT);
    // A statement that is not an aggregate leaves the placeholder.
    await viewer(page).getByText("each stage's documents in and out").waitFor();
    await mongo(page, PIPELINE);
    await viewer(page).locator(".pv-stage").nth(2).waitFor();
    assert.deepEqual(await counts(page), ["5 → 3", "3 → 2", "2 → 2"]);
    assert.match(await viewer(page).locator("[data-role=summary]").textContent(), /db\.orders · 3 stages · 2 documents out/);
    const facts = await viewer(page).locator(".pv-stage").first().locator(".pv-facts").first().textContent();
    assert.match(facts, /^examined 5 · (< )?\d+(\.\d+)? ms$/);

    // The last stage is selected: its documents in full.
    const detail = viewer(page).getByRole("region", { name: "Stage output" });
    assert.match(await detail.locator("h3").textContent(), /Stage 3 \$sort: 2 documents/);
    assert.deepEqual(await detail.locator("pre").allTextContents(), ["{ _id: 'a', total: 3 }", "{ _id: 'b', total: 3 }"]);

    // Click the $match stage: its three documents.
    await stageButton(page, "1 $match").click();
    assert.equal(await stageButton(page, "1 $match").getAttribute("aria-pressed"), "true");
    assert.equal(await stageButton(page, "3 $sort").getAttribute("aria-pressed"), "false");
    assert.match(await detail.locator("h3").textContent(), /Stage 1 \$match: 3 documents/);
    assert.equal(await detail.locator("pre").count(), 3);
    assert.match(await detail.locator("pre").first().textContent(), /item: 'a', qty: 1/);

    // Keyboard: Tab moves from one stage button to the next, Enter selects it.
    await stageButton(page, "1 $match").focus();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.stage), "1");
    await page.keyboard.press("Enter");
    assert.equal(await stageButton(page, "2 $group").getAttribute("aria-pressed"), "true");
    assert.match(await detail.locator("h3").textContent(), /Stage 2 \$group: 2 documents/);
  }));

test("pipeline viewer: the bad stage is highlighted with the server's error", () =>
  withPage(async (page) => {
    await mongo(page, INSERT);
    await mongo(page, `db.orders.aggregate([{$match: {}}, {$foo: 1}, {$limit: 1}])`);
    const bad = viewer(page).locator(".pv-stage.failed");
    await bad.waitFor();
    assert.equal(await bad.count(), 1);
    assert.equal(await bad.getAttribute("data-stage"), "1");
    assert.equal(await bad.getAttribute("aria-invalid"), "true");
    assert.match(await bad.locator("[data-role=error]").textContent(), /Unrecognized pipeline stage name: '\$foo'/);
    assert.match(await viewer(page).getByRole("alert").textContent(), /Stage 2 failed: .*Unrecognized pipeline stage name/);
    // The stage before it still shows what it did; the one after did not run.
    assert.deepEqual(await counts(page), ["5 → 5", "failed", "did not run"]);
  }));

test("pipeline viewer: hostile field values render as text; a $merge pipeline is not run again", () =>
  withPage(async (page) => {
    await mongo(page, INSERT);
    await mongo(page, `db.orders.aggregate([{$match: {qty: 5}}])`);
    const detail = viewer(page).getByRole("region", { name: "Stage output" });
    await detail.locator("pre").first().waitFor();
    assert.match(await detail.locator("pre").first().textContent(), /<img src=x onerror=/);
    assert.equal(await viewer(page).locator("img").count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);

    // A second run of this $merge would fail on the documents the first one wrote, so the
    // viewer showing its note (not that failure) and five copies mean it wrote only once.
    await mongo(page, `db.orders.aggregate([{$match: {}}, {$merge: {into: "copy", whenMatched: "fail"}}])`);
    await viewer(page).getByRole("status").filter({ hasText: "does not run a pipeline ending in $merge again" }).waitFor();
    assert.equal(await viewer(page).locator(".pv-stage.failed").count(), 0);
    assert.deepEqual(await counts(page), ["did not run", "did not run"]);
    const entry = await mongo(page, "db.copy.countDocuments()");
    assert.equal((await entry.locator(".output").textContent()).trim(), "5");
  }));
