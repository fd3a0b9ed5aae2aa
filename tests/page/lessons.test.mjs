// The lesson picker and the built-in course: every lesson runs end to end by clicking its
// commands, progress survives a reload, and lesson files are validated and shown as text.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WWW, openLesson, openPage, redis, serveCourse, startHarness, withPage } from "./harness.mjs";
import { validateIndex, validateLesson } from "../../www/js/lesson-format.js";

const LESSONS = join(WWW, "lessons");
const index = validateIndex(JSON.parse(readFileSync(join(LESSONS, "index.json"), "utf8")));
const course = index.lessons.map((file) => validateLesson(JSON.parse(readFileSync(join(LESSONS, file), "utf8")), file));

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

const picker = (page) => page.locator("lesson-picker");
const step = (page, i) => picker(page).locator(`.lesson-step[data-step="${i}"]`);
const stepState = (page, i) => step(page, i).getAttribute("data-state");

/**
 * One page plays the whole course, lesson after lesson (a page takes seconds to load on a busy
 * machine), which also takes each next lesson through clearing the sandbox the last one filled.
 */
let shared = null;
async function coursePage() {
  if (!shared) {
    shared = await openPage(harness);
    // Typing stays visible in the other tests; here a hundred commands need not be watched,
    await shared.page.evaluate(() => (window.app.lessons.player.typingMs = 0));
    // nor the scrolling to each next step (a click waits for its target to stop moving).
    await shared.page.emulateMedia({ reducedMotion: "reduce" });
  }
  return shared;
}
after(() => shared?.context.close().catch(() => {}));

for (const lesson of course) {
  test(`lesson '${lesson.id}' runs end to end by clicking its commands`, async () => {
    const { page, errors } = await coursePage();
    const back = picker(page).locator("[data-role=lesson-list]");
    if ((await back.count()) > 0) await back.click();
    await openLesson(page, lesson.id);
    const confirm = picker(page).locator("[data-role=clear-and-setup]");
    if ((await confirm.count()) > 0) await confirm.click();
    for (const [i, s] of lesson.steps.entries()) {
      // Not done before its commands ran: a step's checks must test what the step does.
      assert.equal(await stepState(page, i), "current", `step ${i + 1} is the current one`);
      for (const [j, command] of (s.commands ?? []).entries()) {
        const selector = `lesson-picker .lesson-step[data-step="${i}"] [data-role=run-command][data-command="${j}"]`;
        const button = page.locator(selector);
        await button.click();
        await page.waitForFunction((selector) => document.querySelector(selector)?.dataset.ran, selector, {
          timeout: 20_000,
        });
        const ran = await button.getAttribute("data-ran");
        const expected = command.expectError ? "error" : "ok";
        assert.equal(ran, expected, `step ${i + 1}, command ${j + 1} (${command.text}): reply was ${ran}`);
      }
      await page.waitForFunction(
        (i) => document.querySelector(`lesson-picker .lesson-step[data-step="${i}"]`)?.dataset.state === "done",
        i,
        { timeout: 5_000 },
      ).catch(async () => {
        const checks = await step(page, i).locator(".lesson-check").evaluateAll((els) =>
          els.map((el) => `${el.textContent}: ${el.dataset.passed}`),
        );
        assert.fail(`step ${i + 1} ('${s.title}') did not turn done; checks: ${checks.join("; ")}`);
      });
      const checks = step(page, i).locator(".lesson-check");
      assert.equal(
        await checks.count(),
        await step(page, i).locator('.lesson-check[data-passed="true"]').count(),
        `step ${i + 1}: every check is done`,
      );
    }
    await picker(page).locator("[data-role=lesson-list]").click();
    const total = lesson.steps.length;
    assert.equal(
      await picker(page).locator(`.lesson-item[data-lesson="${lesson.id}"] .lesson-progress`).textContent(),
      `${total}/${total}`,
    );
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  });
}

test("progress and the open lesson survive a reload", () =>
  withPage(harness, async (page) => {
    // A first visit finds the course folded, the consoles in full view.
    const toggle = picker(page).locator("[data-role=lessons-toggle]");
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    await page.waitForFunction(() => document.querySelector("lesson-picker .lesson-status")?.textContent);
    assert.equal(await picker(page).locator(".lesson-status").textContent(), `${course.length} lessons`);
    await openLesson(page, "redis-strings-ttl");
    await step(page, 0).locator("[data-role=run-command]").first().click();
    await page.waitForFunction(() => document.querySelector('lesson-picker .lesson-step[data-step="0"]')?.dataset.state === "done");
    // A command typed by hand counts as the step's own.
    await redis(page, "GET   product:123");
    await redis(page, "TYPE product:123");
    await page.waitForFunction(() => document.querySelector('lesson-picker .lesson-step[data-step="1"]')?.dataset.state === "done");
    assert.equal(await stepState(page, 2), "current");
    assert.equal(
      await picker(page).locator(".lesson-status").textContent(),
      "Redis strings, keys and TTL: a product cache: step 3 of 8",
    );
    // The sandbox is saved a moment after the last change; reload once it is.
    await page.waitForFunction(() => {
      const saved = window.app.persistence;
      return saved.changes > 0 && saved.savedChanges === saved.changes;
    });

    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    await picker(page).locator('.lesson-name[data-lesson="redis-strings-ttl"]').waitFor();
    assert.deepEqual(
      await picker(page).locator(".lesson-step").evaluateAll((els) => els.slice(0, 3).map((el) => el.dataset.state)),
      ["done", "done", "current"],
    );
    // The lesson continues in the restored sandbox: nothing asks, nothing is cleared.
    assert.equal(await picker(page).locator(".lesson-confirm").count(), 0);
    assert.match(await (await redis(page, "EXISTS product:123")).textContent(), /\(integer\) 1$/);
    await picker(page).locator("[data-role=lesson-list]").click();
    assert.equal(
      await picker(page).locator('.lesson-item[data-lesson="redis-strings-ttl"] .lesson-progress').textContent(),
      "2/8",
    );
  }));

test("opening or resetting a lesson over the student's own data asks first", () =>
  withPage(harness, async (page) => {
    await redis(page, "SET mine 1");
    await openLesson(page, "redis-transactions");
    const confirm = picker(page).locator(".lesson-confirm");
    await confirm.waitFor();
    await confirm.locator("[data-role=keep-and-setup]").click();
    assert.equal(await confirm.count(), 0);
    assert.equal(await page.evaluate(() => window.playground.redisCheck("MGET mine stock:laptop", Date.now())),
      JSON.stringify({ ok: '1) "1"\n2) "10"\n' }));

    await picker(page).locator("[data-role=lesson-reset]").click();
    await confirm.waitFor();
    await confirm.locator("[data-role=clear-and-setup]").click();
    assert.equal(await page.evaluate(() => window.playground.redisCheck("MGET mine stock:laptop", Date.now())),
      JSON.stringify({ ok: '1) (nil)\n2) "10"\n' }));
    assert.equal(await stepState(page, 0), "current");
  }));

test("a malformed lesson file shows a clear error and the others still open", () =>
  withPage(harness, async (page) => {
    const good = readFileSync(join(LESSONS, index.lessons[0]), "utf8");
    await serveCourse(page, {
      "typo.json": {
        id: "typo",
        title: "T",
        summary: "S",
        steps: [
          { title: "a", text: "a" },
          { title: "b", text: "b" },
          { title: "c", text: "c", comand: [{ engine: "redis", text: "PING" }] },
        ],
      },
      "broken.json": "{ not json",
      "writes.json": {
        id: "writes",
        title: "A check that writes",
        summary: "S",
        steps: [{ title: "a", text: "a", checks: [{ engine: "redis", run: "SET a 1", expect: "OK" }] }],
      },
      "01-strings-ttl.json": good,
      "again.json": good,
    });
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    await picker(page).locator("[data-role=lessons-toggle]").click();
    const broken = picker(page).locator(".lesson-item.broken");
    await broken.first().waitFor();
    assert.deepEqual(await broken.locator(".lesson-error").allTextContents(), [
      "lesson 'typo', step 3: unknown field 'comand' (expected one of title, text, commands, checks, hints)",
      "lesson 'broken.json': not valid JSON " +
        (await page.evaluate(() => {
          try {
            JSON.parse("{ not json");
          } catch (e) {
            return `(${e.message})`;
          }
        })),
      "lesson 'redis-strings-ttl' (again.json): another lesson of the course has this id",
    ]);
    await picker(page).locator('.lesson-item[data-lesson="writes"] .lesson-open').click();
    const refused = picker(page).locator(".lesson-body > .lesson-error");
    await refused.waitFor();
    assert.match(
      await refused.textContent(),
      /^lesson 'writes', step 1, check 1: 'set' is not a read-only command; a check may only read$/,
    );
    await openLesson(page, "redis-strings-ttl");
  }));

/** A course of one lesson, `patterns`, with the given steps. */
const servePatterns = (page, steps) =>
  serveCourse(page, { "patterns.json": { id: "patterns", title: "Patterns", summary: "S", steps } });

test("a check's pattern is checked with the engine's regex syntax", () =>
  withPage(harness, async (page) => {
    await servePatterns(page, [
      { title: "a", text: "a", checks: [{ engine: "redis", run: "GET s", match: "^\\(nil\\)$" }] },
      {
        title: "b",
        text: "b",
        checks: [{ engine: "redis", run: "GET s", match: "(?=a)", label: "lookahead" }],
      },
    ]);
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    await picker(page).locator("[data-role=lessons-toggle]").click();
    // The engine's syntax is the lesson's: lookaround, which RegExp has, is refused when the
    // course loads, with the engine's reason, rather than never matching.
    const broken = picker(page).locator(".lesson-item.broken .lesson-error");
    await broken.waitFor();
    assert.equal(
      await broken.textContent(),
      "lesson 'patterns', step 2, check 1: 'match' is not a regular expression: lookaround assertions are not supported by this sandbox's regex engine",
    );
  }));

test("a check's pattern answers at once even where RegExp would backtrack for ages", () =>
  withPage(harness, async (page) => {
    // `(a+)+$` against forty a's and a b is 2^40 steps for a backtracking matcher: the tab
    // would freeze (and this test time out) before the check could answer.
    const value = `${"a".repeat(40)}b`;
    await servePatterns(page, [
      {
        title: "a",
        text: "a",
        commands: [{ engine: "redis", text: `SET s ${value}` }],
        checks: [
          { engine: "redis", run: "GET s", match: '^"(a+)+$', label: "never" },
          { engine: "redis", run: "GET s", match: '^"a{40}b"$', label: "forty and a b" },
        ],
      },
    ]);
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    await openLesson(page, "patterns");
    await step(page, 0).locator("[data-role=run-command]").click();
    const check = (j) => step(page, 0).locator(`.lesson-check[data-check="${j}"]`);
    await page.waitForFunction(() => document.querySelector('lesson-picker .lesson-check[data-check="1"]')?.dataset.passed === "true");
    assert.equal(await check(0).getAttribute("data-passed"), "false");
    assert.equal(await check(1).getAttribute("data-passed"), "true");
  }));

test("lesson text is shown literally, never as markup", () =>
  withPage(harness, async (page) => {
    const evil = '<img src=x onerror="window.pwned = 1">';
    await serveCourse(page, {
      "evil.json": {
        id: "evil",
        title: `Title ${evil}`,
        summary: `Summary ${evil}`,
        steps: [
          {
            title: `Step ${evil}`,
            text: `Prose ${evil} with \`code ${evil}\`, **bold ${evil}**, [a link](https://example.com/) and [a trap](javascript:window.pwned=2)\n\n- item ${evil}`,
            commands: [{ engine: "redis", text: `ECHO '${evil}'` }],
            hints: [`Hint ${evil}`],
          },
        ],
      },
    });
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    await openLesson(page, "evil");
    await picker(page).locator("[data-role=hint]").click();
    await step(page, 0).locator("[data-role=run-command]").click();
    await page.waitForFunction(() => document.querySelector("lesson-picker [data-role=run-command]")?.dataset.ran);
    const text = await picker(page).textContent();
    for (const part of ["Title ", "Step ", "Prose ", "code ", "bold ", "item ", "Hint "]) {
      assert.ok(text.includes(part + evil), `${part.trim()} shows the markup as text`);
    }
    assert.equal(await page.locator("img").count(), 0);
    assert.deepEqual(
      await picker(page).locator(".lesson-text a").evaluateAll((els) => els.map((a) => [a.textContent, a.getAttribute("href")])),
      [["a link", "https://example.com/"]],
    );
    assert.equal(await page.evaluate(() => window.pwned), undefined);
  }));

test("the validator names the lesson, the step and the field", () => {
  const base = () => ({ id: "x", title: "T", summary: "S", steps: [{ title: "a", text: "a" }] });
  const cases = [
    [(l) => (l.steps[0].comand = []), "lesson 'x', step 1: unknown field 'comand' (expected one of title, text, commands, checks, hints)"],
    [(l) => (l.titel = "T"), "lesson 'x': unknown field 'titel' (expected one of id, title, summary, setup, steps)"],
    [(l) => (l.steps = []), "lesson 'x': 'steps' must be a non-empty list"],
    [(l) => (l.steps[0].commands = [{ engine: "mysql", text: "x" }]), "lesson 'x', step 1, command 1: 'engine' must be 'redis' or 'mongo'"],
    [(l) => (l.steps[0].commands = [{ engine: "mongo", client: 2, text: "x" }]), "lesson 'x', step 1, command 1: 'client' is for Redis commands only"],
    [(l) => (l.steps[0].commands = [{ engine: "redis", text: "GET a\nGET b" }]), "lesson 'x', step 1, command 1: a Redis command is one line"],
    [(l) => (l.steps[0].checks = [{ engine: "redis", run: "GET a" }]), "lesson 'x', step 1, check 1: give exactly one of 'expect' (the reply) or 'match' (a regular expression)"],
    [(l) => (l.steps[0].checks = [{ engine: "redis", run: "GET a", match: "(" }]), /^lesson 'x', step 1, check 1: 'match' is not a regular expression: /],
    [(l) => (l.steps[0].hints = [""]), "lesson 'x', step 1, hint 1: 'hint' must be a non-empty string"],
    [(l) => (l.setup = { redis: "FLUSHALL" }), "lesson 'x', setup: 'redis' must be a list of strings"],
    [(l) => (l.id = "Not An Id"), "lesson 'Not An Id': 'id' may hold only a-z, 0-9 and '-'"],
  ];
  for (const [mutate, message] of cases) {
    const lesson = base();
    mutate(lesson);
    assert.throws(() => validateLesson(lesson), (error) => {
      if (message instanceof RegExp) assert.match(error.message, message);
      else assert.equal(error.message, message);
      return true;
    });
  }
  assert.deepEqual(validateLesson(base()), base());
});

test("the README's example lesson is a valid lesson", () => {
  const readme = readFileSync(join(WWW, "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### The lesson format"));
  const example = /```json\n([\s\S]*?)\n```/.exec(section);
  assert.ok(example, "the format section has a JSON example");
  validateLesson(JSON.parse(example[1]), "README");
});
