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

test("a panic in the engine shows the reload overlay, which cannot be dismissed", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    await redis(page, "SET kept 1");
    // The release build aborts on panic: the call traps after the hook has run.
    const thrown = await page.evaluate(() => {
      try {
        window.playground.debugPanic();
        return "no error";
      } catch (error) {
        return `${error.constructor.name}: ${error.message}`;
      }
    });
    assert.match(thrown, /^RuntimeError: unreachable/);
    const overlay = page.getByRole("alertdialog");
    await overlay.waitFor();
    const text = await overlay.textContent();
    assert.match(text, /The sandbox hit an internal error:/);
    assert.match(text, /deliberate panic from debugPanic\(\)/);
    assert.match(text, /Your last saved state is kept/);
    assert.equal(await page.evaluate(() => globalThis.__playgroundPanic.includes("debugPanic")), true);
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Reload");
    // Escape and a click outside leave it in place; the consoles behind it are inert.
    await page.keyboard.press("Escape");
    await page.mouse.click(5, 5);
    assert.equal(await overlay.isVisible(), true);
    assert.equal(
      await page.evaluate(() => document.querySelector("main").inert),
      true,
    );
    const reload = overlay.getByRole("button", { name: "Reload" });
    await Promise.all([page.waitForEvent("load"), reload.click()]);
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    assert.equal(await page.getByRole("alertdialog").count(), 0);
    const again = await redis(page, "PING");
    assert.equal(await again.locator(".output").textContent(), "PONG");
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  } finally {
    await context.close();
  }
});

test("a ten-megabyte paste into either console is answered and the page stays responsive", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    const size = 10 * 1024 * 1024;
    // Filled in the page: sending 10 MB through the test driver's fill() is the slow part.
    const fill = (selector, line) =>
      page.evaluate(
        ({ selector, line, size }) => {
          const input = document.querySelector(selector);
          input.value = line.replace("BIG", "x".repeat(size));
          input.dispatchEvent(new Event("input", { bubbles: true }));
        },
        { selector, line, size },
      );
    await fill("#redis-console [data-role=input]", "SET big BIG");
    await page.locator("#redis-console [data-role=input]").press("Enter");
    await page.waitForFunction(
      () => [...document.querySelectorAll("#redis-console .output")].some((o) => o.textContent === "OK"),
    );
    const len = await redis(page, "STRLEN big");
    assert.equal(await len.locator(".output").textContent(), `(integer) ${size}`);
    await fill("#mongo-console [data-role=input]", "db.big.insertOne({_id: 1, s: 'BIG'})");
    await page.locator("#mongo-console [data-role=input]").press("Enter");
    // The first Mongo statement runs once the full module has loaded (engine.js).
    await page.waitForFunction(
      () => [...document.querySelectorAll("#mongo-console .output")].some((o) => o.textContent.includes("acknowledged")),
    );
    const count = await mongo(page, "db.big.findOne().s.length");
    assert.equal(await count.locator(".output").last().textContent(), String(size));
    // Still responsive: a frame gets drawn and a plain command answers.
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok())));
    const pong = await redis(page, "PING");
    assert.equal(await pong.locator(".output").textContent(), "PONG");
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  } finally {
    await context.close();
  }
});
