// The Redis console's editing aids: redis-cli's grey argument hints and Tab completion of the
// student's own key names.

import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { redis, SCREENSHOTS, startHarness, withPage } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
  await mkdir(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await harness?.stop();
});

const run = (fn, options) => withPage(harness, fn, options);
const inputOf = (page) => page.getByRole("textbox", { name: "Redis command" });
const hintOf = (page) => page.locator("#redis-console .hint-text").textContent();

test("hints show the arguments still to type, as redis-cli 7 shows them", () =>
  run(async (page) => {
    const input = inputOf(page);
    const cases = [
      ["SET k ", "value [NX|XX|IFEQ comparison-value] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"],
      ["SET k v EX ", "seconds [NX|XX|IFEQ comparison-value] [GET]"],
      ["ZADD z ", "[NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"],
      ["ZADD z 1 ", "member [score member ...]"],
      ["XADD s * ", "field value [field value ...]"],
      ["GEOSEARCH g FROMMEMBER m ", "BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI|BYPOLYGON num-vertices longitude latitude [longitude latitude ...] [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"],
      // Before the space the last word is not yet matched; the hint starts with one.
      ["GET k", " key"],
    ];
    for (const [line, hint] of cases) {
      await input.fill(line);
      assert.equal(await hintOf(page), hint, line);
    }
    // The hint sits right after the typed text: the overlay repeats it invisibly.
    await input.fill("ZADD z ");
    assert.equal(await page.locator("#redis-console .hint-typed").textContent(), "ZADD z ");
    assert.equal(
      await page.evaluate(() => getComputedStyle(document.querySelector("#redis-console .hint-typed")).visibility),
      "hidden",
    );
    // Screen readers get the same text through the input's description.
    const described = await input.getAttribute("aria-describedby");
    assert.match(described, /^redis-keys /);
    assert.match(await page.locator(`#${described.split(" ")[1]}`).textContent(), /member \[score member \.\.\.\]/);
    // A line set by script (a lesson typing for the student) is hinted too.
    await input.evaluate((el) => {
      el.value = "LPOP list ";
    });
    assert.equal(await hintOf(page), "[count]");
  }));

test("the hint disappears once the arguments are complete, or a word does not fit", () =>
  run(async (page) => {
    const input = inputOf(page);
    for (const line of [
      "SET k v NX GET KEEPTTL ",
      "ZADD z 1 m ",
      "GET k ",
      "SET k v FOOBAR ",
      "GEOSEARCH g FROMMEMBER m BYRADIUS 5 km ASC COUNT 3 ANY WITHCOORD WITHDIST WITHHASH ",
    ]) {
      await input.fill(line);
      const hint = await hintOf(page);
      if (line.startsWith("ZADD")) assert.equal(hint, "[score member ...]", line);
      else assert.equal(hint, "", line);
    }
    // Mid-line editing shows no hint, as in redis-cli; Enter clears it with the line.
    await input.fill("SET k ");
    assert.notEqual(await hintOf(page), "");
    await input.press("ArrowLeft");
    assert.equal(await hintOf(page), "");
    await input.press("End");
    assert.notEqual(await hintOf(page), "");
    await input.press("Enter");
    assert.equal(await hintOf(page), "");
  }));

test("Tab completes the student's own key names where the command takes a key", () =>
  run(async (page) => {
    await redis(page, "MSET user:1 a user:2 b users c other d");
    const input = inputOf(page);
    const list = page.locator("#redis-console [data-role=completions]");

    await input.fill("GET us");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "GET user");
    assert.equal(await list.textContent(), "user:1  user:2  users");
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Redis command");

    await input.press(":");
    await input.press("2");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "GET user:2 ");
    assert.equal(await list.isVisible(), false);

    // A later key argument, and one after a keyword.
    await input.fill("RENAME other oth");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "RENAME other other ");
    await input.fill("SORT mylist STORE oth");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "SORT mylist STORE other ");

    // A value is not a key: Tab moves focus on instead of completing.
    await input.fill("SET other us");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "SET other us");
    assert.notEqual(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Redis command");
  }));

test("a key with spaces or quotes completes quoted, the way redis-cli reads it back", () =>
  run(async (page) => {
    await redis(page, 'SET "my key" 1');
    await redis(page, 'SET "my kite" 2');
    await redis(page, `SET "say \\"hi\\"" 3`);
    const input = inputOf(page);
    await input.fill("GET my");
    await input.press("Tab");
    assert.equal(await input.inputValue(), 'GET "my k');
    await input.press("e");
    await input.press("Tab");
    assert.equal(await input.inputValue(), 'GET "my key" ');
    await input.press("Enter");
    const entry = page.locator("#redis-console [role=log]:not([hidden]) .entry").last();
    assert.equal(await entry.locator(".output").textContent(), '"1"');

    await input.fill("STRLEN sa");
    await input.press("Tab");
    assert.equal(await input.inputValue(), 'STRLEN "say \\"hi\\"" ');
    await input.press("Enter");
    assert.equal(await page.locator("#redis-console [role=log]:not([hidden]) .entry").last().locator(".output").textContent(), "(integer) 1");
  }));

test("key completion stays quick with many keys and lists only the first matches", () =>
  run(async (page) => {
    await page.evaluate(() => {
      const lines = [];
      for (let i = 0; i < 20000; i++) lines.push(`SET key:${i} x`);
      window.playground.redisScript(lines.join("\n"), Date.now());
    });
    const input = inputOf(page);
    await input.fill("GET key:1999");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "GET key:1999");
    const listed = await page.locator("#redis-console [data-role=completions]").textContent();
    assert.match(listed, /key:1999 {2}key:19990/);
    assert.match(listed, /key:19999$/);
    // 11111 keys start with key:1; the list shows 30 and says how many more there are.
    await input.fill("GET key:1");
    await input.press("Tab");
    assert.match(await page.locator("#redis-console [data-role=completions]").textContent(), /\(11081 more\)$/);
  }));

for (const colorScheme of ["light", "dark"]) {
  test(`screenshot of a hint and a key list (${colorScheme})`, () =>
    run(
      async (page) => {
        await redis(page, "MSET user:1 a user:2 b users c");
        const input = inputOf(page);
        await input.fill("GET us");
        await input.press("Tab");
        await page.locator("#redis-console").screenshot({ path: join(SCREENSHOTS, `redis-completion-${colorScheme}.png`) });
        await input.fill("ZADD z ");
        await page.locator("#redis-console").screenshot({ path: join(SCREENSHOTS, `redis-hint-${colorScheme}.png`) });
      },
      { colorScheme },
    ));
}
