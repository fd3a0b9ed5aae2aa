// Share links made during a lesson: the session holds the lesson's setup (replayed silently,
// as the lesson ran it) and the client each Redis command ran on, so the link opened in a
// fresh page rebuilds the sandbox the student had.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WWW, openPage, startHarness } from "./harness.mjs";
import { lineCode, parseLineCode } from "../../www/js/persistence.js";
import { validateLesson } from "../../www/js/lesson-format.js";

const lessonFile = (file) => validateLesson(JSON.parse(readFileSync(join(WWW, "lessons", file), "utf8")), file);

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

test("line codes: engine, setup and client, and codes no page makes", () => {
  for (const [engine, options, code] of [
    ["redis", {}, "r"],
    ["mongo", {}, "m"],
    ["redis", { setup: true }, "R"],
    ["mongo", { setup: true }, "M"],
    ["redis", { client: 2 }, "r2"],
    ["redis", { client: 4294967295 }, "r4294967295"],
    ["mongo", { client: 2 }, "m"],
  ]) {
    assert.equal(lineCode(engine, options), code, `${engine} ${JSON.stringify(options)}`);
    const parsed = parseLineCode(code);
    assert.equal(parsed.engine, engine);
    assert.equal(parsed.setup, options.setup ?? false);
    assert.equal(parsed.client, engine === "redis" ? (options.client ?? 1) : 1);
  }
  for (const bad of ["x", "", "rr", "m2", "M2", "r0", "r02", "r4294967296", "r-1", " r", 1, null]) {
    assert.equal(parseLineCode(bad), null, JSON.stringify(bad));
  }
});

const picker = (page) => page.locator("lesson-picker");

/** Opens lesson `id` in the picker (its setup runs on the empty sandbox) and clicks the
 * commands of the steps `steps` (0-based), waiting for each to run. */
async function play(page, id, steps, lesson) {
  await page.evaluate(() => (window.app.lessons.player.typingMs = 0));
  await page.emulateMedia({ reducedMotion: "reduce" });
  const toggle = picker(page).locator("[data-role=lessons-toggle]");
  if ((await toggle.getAttribute("aria-expanded")) === "false") await toggle.click();
  await picker(page).locator(`.lesson-item[data-lesson="${id}"] .lesson-open`).click();
  await picker(page).locator(`.lesson-name[data-lesson="${id}"]`).waitFor();
  for (const i of steps) {
    for (const j of (lesson.steps[i].commands ?? []).keys()) {
      const selector = `lesson-picker .lesson-step[data-step="${i}"] [data-role=run-command][data-command="${j}"]`;
      await page.locator(selector).click();
      await page.waitForFunction((s) => document.querySelector(s)?.dataset.ran, selector, { timeout: 20_000 });
    }
  }
}

/** What both engines hold, read through the engines (no console, no history, no stats):
 * a TTL's milliseconds left differ between two pages and are left out. */
function sandbox(page) {
  return page.evaluate(() => ({
    redis: window.app.playground.exportRedisCli(Date.now()).replace(/ PX \d+/g, " PX …"),
    mongo: window.app.playground.exportMongosh(),
  }));
}

/** Opens `link` in a fresh page and waits for its replay. */
async function openLink(link) {
  const context = await harness.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(link);
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 20_000 });
  await page.locator("[data-notice=shared]").waitFor();
  return { page, context, errors };
}

/** The inputs echoed in a console's shown log. */
const entries = (page, console) =>
  page.locator(`#${console}-console [role=log]:not([hidden]) .entry .echo-input`).allTextContents();

test("a link made during a lesson replays its setup silently, then its commands", async () => {
  const lesson = lessonFile("12-cache-aside.json");
  const maker = await openPage(harness);
  let link;
  let made;
  try {
    await play(maker.page, lesson.id, [0], lesson);
    made = await sandbox(maker.page);
    link = await maker.page.evaluate(() => window.app.persistence.shareLink());
    const lines = await maker.page.evaluate(() => window.app.persistence.lines);
    assert.deepEqual(lines.slice(0, 2), [["R", lesson.setup.redis[0]], ["M", lesson.setup.mongo[0]]]);
    assert.deepEqual(maker.errors.map(String), []);
  } finally {
    await maker.context.close();
  }
  // The setup's documents are what the step's findOne found.
  assert.match(made.mongo, /Laptop[\s\S]*Mouse[\s\S]*Desk/);
  assert.match(made.redis, /^SET product:123 .* PX …$/m);

  const { page, context, errors } = await openLink(link);
  try {
    assert.deepEqual(await sandbox(page), made);
    // The setup ran silently, as in the lesson: only the step's commands are in the consoles.
    const commands = lesson.steps[0].commands;
    assert.deepEqual(await entries(page, "redis"), commands.filter((c) => c.engine === "redis").map((c) => c.text));
    assert.deepEqual(await entries(page, "mongo"), commands.filter((c) => c.engine === "mongo").map((c) => c.text));
    assert.match(
      await page.locator("[data-notice=shared]").textContent(),
      /3 commands replayed, after 2 lines of lesson setup run silently/,
    );
    // The CONFIG RESETSTAT of the setup ran before the step's one miss, as in the lesson.
    assert.match(await page.evaluate(() => window.app.playground.redis("INFO stats", Date.now())), /keyspace_misses:1\b/);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("a link replays each Redis command on the client it ran on", async () => {
  // Step 3 of the transactions lesson: client 2 changes a key client 1 WATCHes, so client 1's
  // EXEC aborts and 4 laptops are left; run on one client, both DECRBYs would go through.
  const lesson = lessonFile("05-transactions.json");
  assert.equal(lesson.steps[2].commands[4].client, 2);
  const maker = await openPage(harness);
  let link;
  try {
    await play(maker.page, lesson.id, [0, 1, 2], lesson);
    const stock = await maker.page.evaluate(() => window.app.playground.redis("GET stock:laptop", Date.now()).trim());
    assert.equal(stock, '"4"');
    link = await maker.page.evaluate(() => window.app.persistence.shareLink());
    const lines = await maker.page.evaluate(() => window.app.persistence.lines);
    assert.deepEqual(lines.filter(([code]) => code === "r2"), [["r2", "DECRBY stock:laptop 5"]]);
  } finally {
    await maker.context.close();
  }

  const { page, context, errors } = await openLink(link);
  try {
    assert.equal(await page.evaluate(() => window.app.playground.redis("GET stock:laptop", Date.now()).trim()), '"4"');
    // Client 2's command is in client 2's log, the EXEC that came back empty in client 1's.
    await page.locator('#redis-console [data-client="2"]').click();
    assert.deepEqual(await entries(page, "redis"), ["DECRBY stock:laptop 5"]);
    await page.locator('#redis-console [data-client="1"]').click();
    const log = page.locator("#redis-console [role=log]:not([hidden]) .entry");
    assert.equal((await log.last().locator(".output").textContent()).trim(), "(nil)");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});
