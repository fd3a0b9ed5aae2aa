// The Mongo editor's aids: syntax colouring under the textarea, Tab completion with a
// keyboard-driven listbox, and long results that collapse and fold.

import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { mongo, SCREENSHOTS, startHarness, withPage } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
  await mkdir(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await harness?.stop();
});

// Completion reads the Mongo engine's own tables: each test starts with that engine loaded.
const run = (fn, options) =>
  withPage(
    harness,
    async (page) => {
      await page.evaluate(() => window.playground.switchToFull());
      await fn(page);
    },
    options,
  );
const shell = (page) => page.getByRole("textbox", { name: "Mongo shell" });
const overlay = (page) => page.locator("#mongo-console .highlight");
const options = (page) => page.locator("#mongo-console [role=listbox] [role=option]");
const labels = (page) => options(page).locator(".completion-label").allTextContents();

/** The overlay's tokens as [class, text] pairs (spaces left out). */
const tokens = (page) =>
  overlay(page).evaluate((pre) => [...pre.children].map((span) => [span.className, span.textContent]));

test("the statement being typed is coloured token by token, under an unchanged textarea", () =>
  run(async (page) => {
    const input = shell(page);
    await input.focus();
    await input.pressSequentially('db.posts.find({views: {$gt: 10}, title: "Hi"}) // top');
    const got = await tokens(page);
    for (const expected of [
      ["tok-keyword", "db"],
      ["tok-name", "posts"],
      ["tok-bracket", "("],
      ["tok-bracket", "{"],
      ["tok-operator", "$gt"],
      ["tok-number", "10"],
      ["tok-string", '"Hi"'],
      ["tok-comment", "// top"],
    ]) {
      assert.ok(got.some(([c, t]) => c === expected[0] && t === expected[1]), `${expected} in ${JSON.stringify(got)}`);
    }
    // The overlay repeats the text exactly and is hidden from assistive technology.
    assert.equal(await overlay(page).textContent(), await input.inputValue());
    assert.equal(await overlay(page).getAttribute("aria-hidden"), "true");
    // The textarea is still the control: its text is transparent, its caret is not.
    const style = await input.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).caretColor]);
    assert.equal(style[0], "rgba(0, 0, 0, 0)");
    assert.notEqual(style[1], "rgba(0, 0, 0, 0)");
    // Shift+Enter keeps its meaning and the overlay follows the new line.
    await input.press("Shift+Enter");
    await input.pressSequentially("'x'");
    assert.equal(await overlay(page).textContent(), (await input.inputValue()) + "");
    assert.match(await input.inputValue(), /\n'x'$/);
    // Undo works: the textarea's own history.
    await input.press("Control+z");
    assert.doesNotMatch(await input.inputValue(), /'x'$/);
    assert.equal(await overlay(page).textContent().then((t) => t.trimEnd()), (await input.inputValue()).trimEnd());
  }));

test("a hostile string is coloured as text, never parsed as markup", () =>
  run(async (page) => {
    const input = shell(page);
    await input.fill('db.x.insertOne({s: "<img src=x onerror=alert(1)>"})');
    assert.equal(await overlay(page).locator("img").count(), 0);
    assert.ok((await tokens(page)).some(([c, t]) => c === "tok-string" && t === '"<img src=x onerror=alert(1)>"'));
    await input.press("Enter");
    assert.equal(await page.locator("#mongo-console img").count(), 0);
  }));

test("history recall and clearing refresh the colouring too", () =>
  run(async (page) => {
    await mongo(page, "db.a.countDocuments({})");
    assert.equal(await overlay(page).textContent(), " ");
    await shell(page).press("ArrowUp");
    assert.equal(await overlay(page).textContent(), "db.a.countDocuments({})");
    await shell(page).evaluate((el) => {
      el.value = "db.b.find()";
    });
    assert.equal(await overlay(page).textContent(), "db.b.find()");
  }));

test("Tab after db. lists collections and db methods; one match fills in", () =>
  run(async (page) => {
    await mongo(page, "db.posts.insertOne({title: 'a', author: {name: 'x'}, views: 3})");
    await mongo(page, "db.people.insertOne({name: 'b'})");
    const input = shell(page);
    await input.fill("db.p");
    await input.press("Tab");
    assert.deepEqual(await labels(page), ["people", "posts"]);
    assert.equal(await input.getAttribute("aria-expanded"), "true");
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Mongo shell");

    await input.press("o");
    assert.deepEqual(await labels(page), ["posts"], "typing narrows the open list");
    await input.press("Escape");
    assert.equal(await options(page).count(), 0);
    assert.equal(await input.getAttribute("aria-expanded"), "false");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "db.posts");
  }));

test("db.posts. lists the shell's collection methods; ). lists cursor methods", () =>
  run(async (page) => {
    const vocabulary = await page.evaluate(() => JSON.parse(window.playground.mongoVocabulary()));
    const input = shell(page);
    await input.fill("db.posts.");
    await input.press("Tab");
    assert.deepEqual(await labels(page), vocabulary.collection_methods);
    assert.ok(vocabulary.collection_methods.includes("insertOne"));
    await input.press("Escape");

    await input.fill("db.posts.find().s");
    await input.press("Tab");
    assert.deepEqual(await labels(page), ["size", "skip", "sort"]);
    await input.press("Escape");
    await input.fill("db.posts.find().toA");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "db.posts.find().toArray");
  }));

test("the listbox is driven by the keyboard and announced through aria-activedescendant", () =>
  run(async (page) => {
    const input = shell(page);
    await input.fill("db.posts.find().s");
    await input.press("Tab");
    const active = () => input.getAttribute("aria-activedescendant");
    const selected = () => page.locator("#mongo-console [role=option][aria-selected=true] .completion-label").textContent();
    const listbox = page.locator("#mongo-console [role=listbox]");
    assert.equal(await input.getAttribute("aria-controls"), await listbox.getAttribute("id"));
    assert.equal(await selected(), "size");
    assert.equal(await active(), await page.locator("#mongo-console [role=option][aria-selected=true]").getAttribute("id"));
    await input.press("ArrowDown");
    assert.equal(await selected(), "skip");
    await input.press("ArrowDown");
    await input.press("ArrowDown");
    assert.equal(await selected(), "size", "the list wraps round");
    await input.press("ArrowUp");
    assert.equal(await selected(), "sort");
    await input.press("Enter");
    assert.equal(await input.inputValue(), "db.posts.find().sort", "Enter chooses, it does not run");
    assert.equal(await listbox.isVisible(), false);
    assert.equal(await input.getAttribute("aria-activedescendant"), null);
  }));

test("$ offers the operators of the engine's tables, by where it is typed", () =>
  run(async (page) => {
    const v = await page.evaluate(() => JSON.parse(window.playground.mongoVocabulary()));
    const input = shell(page);
    await input.fill("db.posts.find({views: {$g");
    await input.press("Tab");
    assert.deepEqual(await labels(page), v.query_operators.filter((o) => o.startsWith("$g")));
    await input.press("Escape");

    await input.fill("db.posts.updateOne({}, {$");
    await input.press("Tab");
    assert.deepEqual(await labels(page), v.update_operators);
    await input.press("Escape");

    await input.fill("db.posts.aggregate([{$gro");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "db.posts.aggregate([{$group");

    // Inside a stage: expressions and accumulators, not stages.
    await input.fill("db.posts.aggregate([{$group: {_id: null, n: {$su");
    await input.press("Tab");
    const inner = await labels(page);
    assert.ok(inner.includes("$sum") && inner.includes("$subtract"), inner.join(" "));
    assert.ok(!inner.includes("$sort"), inner.join(" "));
  }));

test("field names seen in the collection complete inside a query object and as $paths", () =>
  run(async (page) => {
    await mongo(page, "db.posts.insertMany([{title: 'a', author: {name: 'x'}, views: 3}, {title: 'b', tags: ['t']}])");
    const input = shell(page);
    await input.fill("db.posts.find({");
    await input.press("Tab");
    assert.deepEqual(await labels(page), ["_id", "title", "author", "author.name", "views", "tags"]);
    await input.press("ArrowDown");
    await input.press("ArrowDown");
    await input.press("ArrowDown");
    await input.press("Tab");
    assert.equal(await input.inputValue(), 'db.posts.find({"author.name"', "a dotted path is quoted");

    await input.fill("db.posts.find({title: 'a', vi");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "db.posts.find({title: 'a', views");

    await input.fill('db.posts.aggregate([{$group: {_id: "$au');
    await input.press("Tab");
    assert.deepEqual(await labels(page), ["$author", "$author.name"]);
  }));

test("shell helpers complete at the start of a statement", () =>
  run(async (page) => {
    const input = shell(page);
    await input.fill("sh");
    await input.press("Tab");
    assert.deepEqual(await labels(page), ["show dbs", "show databases", "show collections"]);
    await input.press("Escape");
    await input.fill("show c");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "show collections");
    // Nothing to complete (nor on an empty editor): Tab moves focus on, never trapped.
    await input.fill("");
    await input.press("Tab");
    assert.notEqual(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Mongo shell");
    await input.fill("1 + ");
    await input.press("Tab");
    assert.notEqual(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Mongo shell");
  }));

test("a long result starts collapsed behind Show all; nested documents fold by keyboard", () =>
  run(async (page) => {
    await mongo(page, "db.big.insertMany(Array.from({length: 8}, (_, i) => ({_id: i, title: 'a fairly long title, number ' + i, inner: {a: i, b: [1, 2, 3], c: 'some text'}})))");
    const entry = await mongo(page, "db.big.find()");
    const output = entry.locator(".output");
    const text = await output.textContent();
    const lines = text.split("\n").length;
    assert.ok(lines > 30, `${lines} lines`);
    assert.match(text, /^\[\n {2}\{\n {4}_id: 0,/, "the text is mongosh's, untouched");
    assert.equal(await output.evaluate((el) => el.classList.contains("collapsed")), true);
    const showAll = entry.getByRole("button", { name: `Show all (${lines} lines)` });
    assert.equal(await showAll.getAttribute("aria-expanded"), "false");
    const collapsedHeight = await output.evaluate((el) => el.getBoundingClientRect().height);
    await showAll.focus();
    await page.keyboard.press("Enter");
    const collapse = entry.getByRole("button", { name: "Collapse" });
    assert.equal(await collapse.getAttribute("aria-expanded"), "true");
    assert.ok((await output.evaluate((el) => el.getBoundingClientRect().height)) > collapsedHeight);

    // The first document folds to one line and back, from the keyboard.
    // The first toggle folds the whole array (lines 2 on); the second, the first document.
    const fold = entry.locator(".fold-toggle").nth(1);
    assert.match(await fold.getAttribute("aria-label"), /^Fold lines 3 to \d+$/);
    await fold.focus();
    assert.equal(await fold.evaluate((el) => getComputedStyle(el).outlineStyle !== "none"), true, "visible focus");
    const height = () => output.evaluate((el) => el.getBoundingClientRect().height);
    const block = fold.locator("xpath=..");
    const before = await height();
    await page.keyboard.press("Enter");
    assert.equal(await fold.getAttribute("aria-expanded"), "false");
    assert.match(await fold.getAttribute("aria-label"), /^Unfold lines 3 to /);
    assert.equal(await block.locator(".fold-body").isVisible(), false);
    assert.equal(await block.locator(".fold-summary").isVisible(), true);
    assert.equal(await block.locator(".fold-summary").getAttribute("data-text"), " … 3 lines ");
    assert.ok((await height()) < before, "the document shrank to one line");
    // The printed text itself is untouched by folding (copy and search still see it).
    assert.equal(await output.textContent(), text);
    await page.keyboard.press("Space");
    assert.equal(await fold.getAttribute("aria-expanded"), "true");
    assert.equal(await height(), before);
  }));

test("a short result is neither collapsed nor given a Show all button", () =>
  run(async (page) => {
    const entry = await mongo(page, "({a: 1})");
    assert.equal(await entry.locator(".output").evaluate((el) => el.classList.contains("collapsed")), false);
    assert.equal(await entry.getByRole("button").count(), 0);
  }));

for (const colorScheme of ["light", "dark"]) {
  test(`screenshots of colouring, completion and folding (${colorScheme})`, () =>
    run(
      async (page) => {
        await mongo(page, "db.posts.insertMany(Array.from({length: 8}, (_, i) => ({_id: i, title: 'a fairly long title, number ' + i, author: {name: 'x', tags: ['a', 'b']}})))");
        const entry = await mongo(page, "db.posts.find()");
        await entry.locator(".fold-toggle").nth(2).click();
        const input = shell(page);
        await input.fill('db.posts.find({views: {$gt: 10}, title: "Hi"}) // top\n  .sort({');
        await input.press("Tab");
        await page.locator("#mongo-console").screenshot({ path: join(SCREENSHOTS, `mongo-editor-${colorScheme}.png`) });
      },
      { colorScheme },
    ));
}
