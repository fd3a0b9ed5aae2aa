import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openPage, redis, SCREENSHOTS, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
  await mkdir(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await harness?.stop();
});

async function withPage(fn, options) {
  const { page, context, errors } = await openPage(harness, options);
  try {
    await fn(page);
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  } finally {
    await context.close();
  }
}

const focusedLabel = (page) => page.evaluate(() => document.activeElement?.getAttribute("aria-label"));

test("keyboard only: Tab moves between the consoles, focus is visible", () =>
  withPage(async (page) => {
    assert.equal(await focusedLabel(page), "Redis command", "the Redis console has focus on load");
    await page.keyboard.press("Tab");
    assert.equal(await focusedLabel(page), "Mongo shell");
    await page.keyboard.press("Shift+Tab");
    assert.equal(await focusedLabel(page), "Redis command");

    // Typing a partial command and Tab completes it; after the completed word Tab leaves.
    await page.keyboard.type("PIN");
    await page.keyboard.press("Tab");
    assert.equal(await page.getByRole("textbox", { name: "Redis command" }).inputValue(), "PING ");
    await page.keyboard.press("Tab");
    assert.equal(await focusedLabel(page), "Mongo shell");

    const ring = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement.closest(".input-row"));
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    assert.equal(ring.style, "solid");
    assert.ok(ring.width >= 2, `focus ring ${ring.width}px`);
  }));

test("output regions are polite live logs; controls have their names", () =>
  withPage(async (page) => {
    for (const name of ["Redis output", "MongoDB output"]) {
      const log = page.getByRole("log", { name });
      assert.equal(await log.getAttribute("aria-live"), "polite");
    }
    assert.equal(await page.getByRole("textbox", { name: "Redis command" }).count(), 1);
    assert.equal(await page.getByRole("textbox", { name: "Mongo shell" }).count(), 1);
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "nosql-playground");
  }));

test("consoles sit side by side on a wide screen and stack on a narrow one", async () => {
  const boxes = async (page) =>
    Promise.all(["#redis-console", "#mongo-console"].map((s) => page.locator(s).boundingBox()));
  await withPage(async (page) => {
    const [r, m] = await boxes(page);
    assert.ok(m.x > r.x + r.width - 1 && Math.abs(m.y - r.y) < 1, "side by side");
  });
  await withPage(
    async (page) => {
      const [r, m] = await boxes(page);
      assert.ok(m.y >= r.y + r.height - 1 && Math.abs(m.x - r.x) < 1, "stacked");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > innerWidth);
      assert.equal(overflow, false, "no sideways scrolling on a phone");
      await page.screenshot({ path: join(SCREENSHOTS, "page-narrow.png"), fullPage: true });
    },
    { viewport: { width: 390, height: 800 } },
  );
});

for (const colorScheme of ["light", "dark"]) {
  test(`screenshot in the ${colorScheme} theme`, () =>
    withPage(
      async (page) => {
        await redis(page, "SET greeting hello");
        await redis(page, "GET greeting");
        await redis(page, "SET session:42 alice EX 60");
        await redis(page, "NOPE");
        await redis(page, "SELECT 1");
        const input = page.getByRole("textbox", { name: "Mongo shell" });
        await input.focus();
        await input.pressSequentially('db.posts.insertOne({_id: 1, title: "Redis Caching"})');
        await input.press("Enter");
        await input.pressSequentially("db.posts.find({");
        await input.press("Shift+Enter");
        await input.pressSequentially("  title: /redis/i");
        const redisInput = page.getByRole("textbox", { name: "Redis command" });
        await redisInput.fill("FLU");
        await redisInput.press("Tab");

        const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        const dark = luminance(background) < 0.2;
        assert.equal(dark, colorScheme === "dark", `body background ${background}`);
        await page.screenshot({ path: join(SCREENSHOTS, `page-${colorScheme}.png`) });
      },
      { colorScheme },
    ));
}

function luminance(rgb) {
  const [r, g, b] = rgb.match(/\d+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}
