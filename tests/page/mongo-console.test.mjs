import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openPage, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

async function withPage(fn) {
  const { page, context, errors } = await openPage(harness);
  try {
    await fn(page);
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  } finally {
    await context.close();
  }
}

const shell = (page) => page.getByRole("textbox", { name: "Mongo shell" });
const log = (page) => page.locator("#mongo-console [role=log]");

/** Types source (newlines via Shift+Enter, as a student would) and presses Enter. */
async function enter(page, src) {
  const input = shell(page);
  await input.focus();
  const lines = src.split("\n");
  for (const [i, line] of lines.entries()) {
    await input.pressSequentially(line);
    if (i < lines.length - 1) await input.press("Shift+Enter");
  }
  const before = await log(page).locator(".entry").count();
  await input.press("Enter");
  await log(page).locator(".entry").nth(before).waitFor();
  return log(page).locator(".entry").nth(before);
}

test("insertOne then find: input cleared, statements echoed, documents shown", () =>
  withPage(async (page) => {
    assert.equal(await page.locator("#mongo-console .input-row .prompt").textContent(), "test>");
    const insert = await enter(page, 'db.posts.insertOne({_id: 1, title: "Redis Caching"})');
    assert.equal(await shell(page).inputValue(), "");
    assert.equal(
      await insert.locator(".echo").textContent(),
      'test> db.posts.insertOne({_id: 1, title: "Redis Caching"})',
    );
    const find = await enter(page, "db.posts.find()");
    assert.equal(await shell(page).inputValue(), "");
    assert.equal(await find.locator(".echo").textContent(), "test> db.posts.find()");

    const insertOut = await insert.locator(".output").textContent();
    assert.equal(insertOut, "{ acknowledged: true, insertedId: 1 }");
    const findOut = await find.locator(".output").textContent();
    assert.equal(findOut, "[ { _id: 1, title: 'Redis Caching' } ]");
    assert.equal(await find.locator(".output.error").count(), 0);
  }));

test("the page runs on Enter only when the engine calls the input complete", () =>
  withPage(async (page) => {
    // Stands in for the engine's bracket check so the page's side is tested on its own.
    await page.evaluate(() => {
      window.playground.mongoInputComplete = (src) => {
        let depth = 0;
        for (const c of src) depth += "([{".includes(c) ? 1 : ")]}".includes(c) ? -1 : 0;
        return depth <= 0;
      };
    });
    const input = shell(page);
    await input.focus();
    await input.pressSequentially("db.posts.find({");
    await input.press("Enter");
    // Before the full module has loaded, Enter waits for it to decide; the newline comes then.
    for (let i = 0; i < 200 && (await input.inputValue()) !== "db.posts.find({\n"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await input.inputValue(), "db.posts.find({\n");
    assert.equal(await log(page).locator(".entry").count(), 0);
    await input.pressSequentially("})");
    await input.press("Enter");
    assert.equal(await input.inputValue(), "");
    const echo = log(page).locator(".entry .echo");
    assert.equal(await echo.textContent(), "test> db.posts.find({\n... })");
  }));

test("a multi-line statement does not run until balanced (real engine)", () =>
  withPage(async (page) => {
    // The Mongo engine judges the statement: loaded first (engine-switch.test.mjs covers
    // Enter while it loads).
    await page.evaluate(() => window.app.playground.switchToFull());
    const input = shell(page);
    await input.focus();
    await input.pressSequentially("db.posts.find({");
    await input.press("Enter");
    // Before the full module has loaded, Enter waits for it to decide; the newline comes then.
    for (let i = 0; i < 200 && (await input.inputValue()) !== "db.posts.find({\n"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await input.inputValue(), "db.posts.find({\n");
    assert.equal(await log(page).locator(".entry").count(), 0);
    await input.pressSequentially("})");
    await input.press("Enter");
    assert.equal(await input.inputValue(), "");
    assert.equal(await log(page).locator(".entry .echo").textContent(), "test> db.posts.find({\n... })");
  }));

test("Shift+Enter always inserts a newline", () =>
  withPage(async (page) => {
    const input = shell(page);
    await input.focus();
    await input.pressSequentially("db.a.find()");
    await input.press("Shift+Enter");
    assert.equal(await input.inputValue(), "db.a.find()\n");
    assert.equal(await log(page).locator(".entry").count(), 0);
  }));

test("ArrowUp/ArrowDown walk history only from the first/last line", () =>
  withPage(async (page) => {
    await enter(page, "db.a.find()");
    await enter(page, "db.b.find({\n})");
    const input = shell(page);
    await input.press("ArrowUp");
    assert.equal(await input.inputValue(), "db.b.find({\n})");
    // The caret is now at the end, on the last line: ArrowUp moves inside the text first.
    await input.press("ArrowUp");
    assert.equal(await input.inputValue(), "db.b.find({\n})");
    await input.press("ArrowUp");
    assert.equal(await input.inputValue(), "db.a.find()");
    await input.press("ArrowDown");
    assert.equal(await input.inputValue(), "db.b.find({\n})");
    await input.press("ArrowDown");
    assert.equal(await input.inputValue(), "");
  }));

test(".time works in the Mongo console too, and output is text only", () =>
  withPage(async (page) => {
    const entry = await enter(page, ".time");
    assert.match(await entry.locator(".output").textContent(), /^\(sandbox\) virtual time .* \(running\)$/);
    await enter(page, '"<img src=x onerror=alert(1)>"');
    assert.equal(await page.locator("img").count(), 0);
    assert.match(await log(page).textContent(), /<img src=x onerror=alert\(1\)>/);
  }));

test("use <db> switches the prompt to that database", () =>
  withPage(async (page) => {
    const entry = await enter(page, "use shop");
    assert.equal(await entry.locator(".output").textContent(), "switched to db shop");
    assert.equal(await page.locator("#mongo-console .input-row .prompt").textContent(), "shop>");
  }));
