import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mongo, redis, startHarness, withPage as run } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});
const withPage = (fn, options) => run(harness, fn, options);
const view = (page) => page.getByRole("region", { name: "Query explain" });
const stages = (page, n) =>
  view(page)
    .locator("[data-role=plan]")
    .nth(n)
    .locator(".ev-stage")
    .evaluateAll((els) => els.map((el) => el.dataset.stage));

const SETUP = "for (let i = 0; i < 200; i++) db.users.insertOne({_id: i, email: 'u' + i + '@x.org', tags: ['a', 'b']})";

test("collections panel: the selected collection's indexes with their sizes", () =>
  withPage(async (page) => {
    await mongo(page, SETUP);
    await mongo(page, "db.users.createIndex({email: 1}, {unique: true}); db.users.createIndex({tags: 1})");
    const list = page.locator("collections-panel [data-role=indexes]");
    await list.locator(".coll-index").nth(2).waitFor();
    const rows = await list.locator(".coll-index").evaluateAll((els) =>
      els.map((el) => ({
        name: el.dataset.name,
        key: el.querySelector(".ix-key").textContent,
        props: [...el.querySelectorAll(".ix-prop")].map((p) => p.textContent),
        size: el.querySelector("[data-role=size]").textContent,
      })),
    );
    assert.deepEqual(rows.map((r) => [r.name, r.key, r.props]), [
      ["_id_", "{ _id: 1 }", ["unique"]],
      ["email_1", "{ email: 1 }", ["unique"]],
      ["tags_1", "{ tags: 1 }", ["multikey"]],
    ]);
    for (const r of rows) assert.match(r.size, /\d/);
    await mongo(page, "db.users.dropIndex('tags_1')");
    await page.waitForFunction(() => document.querySelectorAll("collections-panel .coll-index").length === 2);
  }));

test("explain view: the plan tree with keys and documents examined, and the compare action", () =>
  withPage(async (page) => {
    await mongo(page, SETUP);
    await view(page).getByText("the index it uses").waitFor();
    // Without an index the plan is a collection scan and there is nothing to compare.
    await mongo(page, "db.users.find({email: 'u7@x.org'}).explain('executionStats')");
    await view(page).locator("[data-role=plan]").first().waitFor();
    assert.deepEqual(await stages(page, 0), ["COLLSCAN"]);
    assert.match(await view(page).locator("[data-role=totals]").first().textContent(), /1 returned · 0 keys examined · 200 docs examined/);
    assert.equal(await view(page).locator("[data-role=compare]").isHidden(), true);

    await mongo(page, "db.users.createIndex({email: 1})");
    // A plain explain() still shows the counts: the view asks for executionStats itself.
    await mongo(page, "db.users.find({email: 'u7@x.org'}).explain()");
    await page.waitForFunction(() => document.querySelector("[data-slot=explain] .ev-stage")?.dataset.stage === "FETCH");
    assert.deepEqual(await stages(page, 0), ["FETCH", "IXSCAN"]);
    const ixscan = view(page).locator(".ev-ixscan");
    assert.match(await ixscan.textContent(), /1 keys examined/);
    assert.match(await ixscan.textContent(), /index email_1/);
    assert.match(await ixscan.textContent(), /bounds email: \["u7@x\.org", "u7@x\.org"\]/);
    assert.match(await view(page).locator("[data-role=raw]").textContent(), /"indexName": "email_1"/);

    const compare = view(page).getByRole("button", { name: "Compare without the index" });
    await compare.click();
    assert.equal(await compare.getAttribute("aria-pressed"), "true");
    assert.deepEqual(await stages(page, 1), ["COLLSCAN"]);
    assert.match(await view(page).locator("[data-role=ratio]").textContent(), /Without the index: 200 documents examined; with it: 1 keys and 1 documents \(100× less work\)/);

    // A statement that explains nothing leaves the view as it is.
    await mongo(page, "db.users.countDocuments()");
    assert.deepEqual(await stages(page, 0), ["FETCH", "IXSCAN"]);
  }));

test("explain view: an $or shows each branch's index scan under the OR", () =>
  withPage(async (page) => {
    await mongo(page, SETUP);
    await mongo(page, "db.users.createIndex({email: 1}); db.users.createIndex({tags: 1})");
    await mongo(page, "db.users.find({$or: [{email: 'u7@x.org'}, {tags: 'z'}]}).explain()");
    await page.waitForFunction(() => document.querySelector("[data-slot=explain] .ev-stage")?.dataset.stage === "SUBPLAN");
    assert.deepEqual(await stages(page, 0), ["SUBPLAN", "FETCH", "OR", "IXSCAN", "IXSCAN"]);
    const scans = await view(page).locator(".ev-ixscan").allTextContents();
    assert.match(scans[0], /index email_1/);
    assert.match(scans[1], /index tags_1/);
    // The branches sit one level below the OR.
    const indent = await view(page)
      .locator("[data-role=plan]")
      .first()
      .locator(".ev-stage")
      .evaluateAll((els) => els.map((el) => el.style.marginLeft));
    assert.equal(indent[3], indent[4]);
    assert.notEqual(indent[2], indent[3]);
    assert.equal(await view(page).locator("[data-role=compare]").isHidden(), false);
  }));

test("collections panel: documents a TTL index expires disappear as the clock runs", () =>
  withPage(async (page) => {
    await mongo(page, "db.sessions.insertMany([{_id: 1, at: new Date()}, {_id: 2, at: 'never'}]); db.sessions.createIndex({at: 1}, {expireAfterSeconds: 30})");
    const count = page.locator("collections-panel .coll-button[data-coll=sessions] .coll-count");
    await page.waitForFunction(() => document.querySelector("collections-panel .coll-index[data-name=at_1]"));
    assert.equal(await count.textContent(), "2");
    assert.match(await page.locator("collections-panel .coll-index[data-name=at_1]").textContent(), /TTL 30 s/);
    // Moving the clock from the Redis console runs no Mongo statement: the frame loop's tick
    // lets the TTL monitor run, and the panel follows.
    await redis(page, ".time +2m");
    await page.waitForFunction(
      () => document.querySelector("collections-panel .coll-button[data-coll=sessions] .coll-count")?.textContent === "1",
    );
  }));

test("collections panel: each document under a TTL index counts down to its expiry", () =>
  withPage(async (page) => {
    await mongo(page, "db.s.createIndex({createdAt: 1}, {expireAfterSeconds: 60})");
    await mongo(page, "db.s.insertMany([{_id: 1, createdAt: new Date()}, {_id: 2, createdAt: 'not a date'}, {_id: 3}, {_id: 4, createdAt: [new Date(), ISODate('2020-01-01')]}])");
    const rows = page.locator("collections-panel tbody tr");
    await rows.nth(3).waitFor();
    assert.deepEqual(await page.locator("collections-panel thead th").allTextContents(), ["#", "expires", "_id", "createdAt"]);
    const expiry = rows.nth(0).locator("td.doc-expiry");
    await page.waitForFunction(() => /^expires in \d/.test(document.querySelector("collections-panel tbody td.doc-expiry")?.textContent ?? ""));
    const seconds = (text) => Number(/expires in (\d+)/.exec(text)?.[1]);
    const first = seconds(await expiry.textContent());
    assert.ok(first > 50 && first <= 60, `a fresh document expires in about 60 s, not ${first}`);
    // Only a date in the indexed field expires; the others get an empty cell. An array of
    // dates expires by its earliest: long past, so it only waits for the monitor's next pass.
    assert.deepEqual(await rows.locator("td.doc-expiry").evaluateAll((els) => els.map((el) => el.textContent)).then((t) => t.slice(1)), ["", "", "expired, not yet deleted"]);
    // The countdown follows the virtual clock, not the console.
    await page.getByRole("button", { name: "Advance 10 seconds" }).click();
    await page.waitForFunction(
      (before) => Number(/expires in (\d+)/.exec(document.querySelector("collections-panel tbody td.doc-expiry")?.textContent ?? "")?.[1]) <= before - 10,
      first,
    );
    // Past their time, the TTL monitor's next pass deletes both and their rows go.
    await page.getByRole("button", { name: "Advance 1 minute" }).click();
    await page.waitForFunction(() => document.querySelector("collections-panel .coll-button[data-coll=s] .coll-count")?.textContent === "2");
    assert.deepEqual(await rows.evaluateAll((els) => els.map((el) => el.querySelector("td:nth-child(2)").textContent)), ["2", "3"]);
    assert.equal(await page.locator("collections-panel td.doc-expiry").count(), 0);
  }));
