import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { keyRow, keyRows, redis, startHarness, withPage as run } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});
const withPage = (fn, options) => run(harness, fn, options);

const button = (page, name) => page.getByRole("button", { name, exact: true });
const ttlOf = async (page, key) => Number(await keyRow(page, key).getAttribute("data-ttl"));

test("keys appear with type, encoding, size and value; TTLs count down on the virtual clock", () =>
  withPage(async (page) => {
    await redis(page, "SET greeting hello");
    await redis(page, "SET counter 42");
    await redis(page, "SET session alice EX 60");
    await page.waitForFunction(() => document.querySelectorAll("keyspace-panel .ks-rows .ks-row").length === 3);
    const rows = await keyRows(page);
    assert.deepEqual(rows.map((r) => r.key), ["counter", "greeting", "session"], "sorted by name");
    const [counter, greeting, session] = rows;
    // Sizes are what MEMORY USAGE reports.
    assert.deepEqual(counter.cells.slice(0, 5), ["counter", "string", "int", "40 B", '"42"']);
    assert.deepEqual(greeting.cells.slice(0, 5), ["greeting", "string", "embstr", "40 B", '"hello"']);
    assert.equal(greeting.cells[5], "—", "no TTL");
    assert.ok(session.ttl > 55_000 && session.ttl <= 60_000, `ttl ${session.ttl}`);
    assert.match(session.cells[5], /^\d\d s$/);

    const first = await ttlOf(page, "session");
    await page.waitForTimeout(600);
    const second = await ttlOf(page, "session");
    assert.ok(second < first - 300, `the countdown runs between snapshots: ${first} → ${second}`);
    assert.equal(await page.locator("keyspace-panel .panel-count").textContent(), "3 keys · 1 with TTL");
  }));

test("the countdown turns red near expiry; +10 s expires a 5 s key, which fades out", () =>
  withPage(async (page) => {
    await redis(page, "SET soon v PX 5000");
    const row = keyRow(page, "soon");
    await row.waitFor();
    assert.doesNotMatch(await row.getAttribute("class"), /\bnear\b/);
    await button(page, "Advance 1 second").click();
    await button(page, "Advance 1 second").click();
    await button(page, "Advance 1 second").click();
    await button(page, "Advance 1 second").click();
    await page.waitForFunction(() => document.querySelector("keyspace-panel .ks-row.near"));
    const colors = await page.evaluate(() => {
      const fill = (sel) => getComputedStyle(document.querySelector(sel)).backgroundColor;
      return { near: fill("keyspace-panel .ks-row.near .ttl-fill"), error: getComputedStyle(document.body).getPropertyValue("--error") };
    });
    assert.notEqual(colors.near, "rgba(0, 0, 0, 0)");

    await button(page, "Advance 10 seconds").click();
    // Gone from the live rows at once; shown fading, marked expired, for a moment.
    const gone = page.locator("keyspace-panel .ks-row.gone.expired");
    await gone.waitFor({ timeout: 2_000 });
    assert.match(await gone.textContent(), /soon \(expired\)/);
    assert.deepEqual(await keyRows(page), []);
    await gone.waitFor({ state: "detached", timeout: 3_000 });
    assert.equal(await page.locator("keyspace-panel .ks-rows .ks-row").count(), 0);
  }));

test("pause freezes the countdown; resume runs it again; .time lines move the same clock", () =>
  withPage(async (page) => {
    await redis(page, "SET k v EX 100");
    await keyRow(page, "k").waitFor();
    await button(page, "Pause").click();
    assert.equal(await button(page, "Resume").getAttribute("aria-pressed"), "true");
    assert.equal(await page.locator("clock-bar .clock-state").textContent(), "paused");
    const a = await ttlOf(page, "k");
    const width = () => page.locator("keyspace-panel .ttl-fill").evaluate((el) => el.style.transform);
    const w1 = await width();
    await page.waitForTimeout(500);
    assert.equal(await ttlOf(page, "k"), a, "frozen while paused");
    assert.equal(await width(), w1);
    const shown = await page.locator("clock-bar [data-role=virtual-time]").textContent();
    await page.waitForTimeout(300);
    assert.equal(await page.locator("clock-bar [data-role=virtual-time]").textContent(), shown);

    // A .time line in the console and the bar are one clock.
    await redis(page, ".time +30s");
    await page.waitForFunction((before) => Number(document.querySelector("keyspace-panel .ks-rows .ks-row").dataset.ttl) <= before - 29_000, a);
    const entry = await redis(page, ".time resume");
    assert.match(await entry.locator(".output").textContent(), /running/);
    await page.waitForFunction(() => document.querySelector("clock-bar .clock-state").textContent === "running");
    const b = await ttlOf(page, "k");
    await page.waitForTimeout(400);
    assert.ok((await ttlOf(page, "k")) < b, "running again");
  }));

test("written keys flash; deleted keys fade out marked deleted", () =>
  withPage(async (page) => {
    await redis(page, "SET a 1");
    await redis(page, "SET b 1");
    await page.waitForFunction(() => document.querySelectorAll("keyspace-panel .ks-rows .ks-row").length === 2);
    await page.waitForTimeout(1_400); // let the first flashes end
    assert.equal(await page.locator("keyspace-panel .ks-row.flash").count(), 0);
    await redis(page, "APPEND a 2");
    assert.match(await keyRow(page, "a").getAttribute("class"), /\bflash\b/, "a changed value flashes");
    assert.doesNotMatch(await keyRow(page, "b").getAttribute("class"), /\bflash\b/, "others do not");
    await redis(page, "SET c 3");
    assert.match(await keyRow(page, "c").getAttribute("class"), /\bflash\b/, "a new key flashes");
    await redis(page, "SET b 1");
    assert.match(await keyRow(page, "b").getAttribute("class"), /\bflash\b/, "a write that changed nothing flashes too");
    await page.waitForTimeout(1_400);
    await redis(page, "GET b");
    assert.doesNotMatch(await keyRow(page, "b").getAttribute("class"), /\bflash\b/, "a read does not");
    await redis(page, "DEL b");
    await page.locator("keyspace-panel .ks-row.gone.deleted").waitFor({ timeout: 2_000 });
    assert.deepEqual((await keyRows(page)).map((r) => r.key), ["a", "c"]);
  }));

test("filters by glob pattern and by type; the database follows SELECT", () =>
  withPage(async (page) => {
    for (const line of ["SET user:1 a", "SET user:2 b", "SET user:10 c", "SET order:1 d", "XADD user:events * kind login"]) {
      await redis(page, line);
    }
    const keys = async () => (await keyRows(page)).map((r) => r.key);
    await page.waitForFunction(() => document.querySelectorAll("keyspace-panel .ks-rows .ks-row").length === 5);
    const pattern = page.getByRole("searchbox", { name: "Filter keys by pattern" });
    await pattern.fill("user:?");
    await page.waitForFunction(() => document.querySelectorAll("keyspace-panel .ks-rows .ks-row").length === 2);
    assert.deepEqual(await keys(), ["user:1", "user:2"]);
    assert.equal(await page.locator("keyspace-panel .panel-count").textContent(), "2 of 5 keys match");
    await pattern.fill("user:*");
    await page.getByRole("combobox", { name: "Filter keys by type" }).selectOption("stream");
    await page.waitForFunction(() => document.querySelectorAll("keyspace-panel .ks-rows .ks-row").length === 1);
    const [stream] = await keyRows(page);
    assert.equal(stream.key, "user:events");
    assert.equal(stream.type, "stream");
    assert.match(stream.cells[4], /^\d+-0 kind=login$/, "the stream renderer shows its entries");
    await pattern.fill("nothing*");
    await page.locator("keyspace-panel .panel-empty", { hasText: "No keys match this filter." }).waitFor();

    await pattern.fill("");
    await page.getByRole("combobox", { name: "Filter keys by type" }).selectOption("");
    await redis(page, "SELECT 3");
    assert.equal(await page.getByRole("combobox", { name: "Database" }).inputValue(), "3");
    await page.locator("keyspace-panel .panel-empty", { hasText: "No keys in db 3 yet" }).waitFor();
    await page.getByRole("combobox", { name: "Database" }).selectOption("0");
    await page.waitForFunction(() => document.querySelectorAll("keyspace-panel .ks-rows .ks-row").length === 5);
  }));

test("selecting a key shows its value in the detail area", () =>
  withPage(async (page) => {
    await redis(page, "SET note \"two words\"");
    await keyRow(page, "note").click();
    const detail = page.getByRole("region", { name: "Selected key" });
    await detail.locator(".detail-head", { hasText: "note" }).waitFor();
    assert.match(await detail.textContent(), /note\s*string embstr · 40 B · no TTL"two words"/);
  }));

test("a JSON document shows as one line in its row and as a collapsible tree when selected", () =>
  withPage(async (page) => {
    await redis(page, `JSON.SET doc $ '{"name":"Ada","tags":["x","y"],"age":36,"addr":{"city":"London","zip":null}}'`);
    const row = keyRow(page, "doc");
    await row.waitFor();
    const rows = await keyRows(page);
    assert.deepEqual(rows[0].cells.slice(0, 2), ["doc", "ReJSON-RL"]);
    assert.equal(rows[0].cells[4], '{"name":"Ada","tags":["x","y"],"age":36,"addr":{"city":"London","zip":null}}');
    await row.click();
    const detail = page.getByRole("region", { name: "Selected key" });
    const tree = detail.getByRole("tree");
    await tree.waitFor();
    assert.equal(await tree.locator("details").count(), 3, "the root, tags and addr fold");
    assert.match(await tree.textContent(), /\{ \} 4 keysname: "Ada"tags: \[ \] 2 items0: "x"1: "y"age: 36addr: \{ \} 2 keyscity: "London"zip: null/);
    const addr = tree.locator("details", { hasText: "addr" }).last();
    await addr.locator("summary").first().click();
    assert.equal(await addr.getAttribute("open"), null, "a click folds a subtree");
    assert.equal(await tree.locator(".json-number").textContent(), "36");
  }));

test("10k keys: the list is virtualised and scrolls; snapshots are taken on change, not per frame", () =>
  withPage(async (page) => {
    await page.evaluate(() => {
      const lines = [];
      for (let i = 0; i < 10_000; i++) lines.push(`SET key:${String(i).padStart(5, "0")} value-${i}`);
      window.app.playground.redisScript(lines.join("\n"), Date.now());
      document.dispatchEvent(new CustomEvent("playground:change", { detail: { engine: "redis" } }));
    });
    await page.waitForFunction(() => document.querySelector("keyspace-panel .panel-count").textContent === "10000 keys");
    const domRows = () => page.locator("keyspace-panel .ks-rows .ks-row").count();
    const visibleKeys = () =>
      page.evaluate(() => {
        const vp = document.querySelector("keyspace-panel .ks-viewport");
        const top = vp.getBoundingClientRect().top;
        return [...vp.querySelectorAll(".ks-row")]
          .filter((el) => {
            const r = el.getBoundingClientRect();
            return r.top >= top - 1 && r.bottom <= top + vp.clientHeight + 1;
          })
          .map((el) => el.dataset.key)
          .sort();
      });
    assert.ok((await domRows()) <= 60, `rows in the DOM: ${await domRows()}`);
    assert.equal((await visibleKeys())[0], "key:00000");

    // Count snapshot calls while nothing changes.
    await page.evaluate(() => {
      const p = window.app.playground;
      window.snapshotCalls = 0;
      const original = p.redisKeyspace.bind(p);
      p.redisKeyspace = (...args) => {
        window.snapshotCalls++;
        return original(...args);
      };
    });
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.snapshotCalls), 0, "idle frames take no snapshot");

    for (const [scrollTop, expected] of [
      [5_000 * 30, "key:05000"],
      [10_000 * 30, null],
      [1_234 * 30, "key:01234"],
    ]) {
      await page.locator("keyspace-panel .ks-viewport").evaluate((vp, top) => (vp.scrollTop = top), scrollTop);
      await page.waitForTimeout(100);
      const keys = await visibleKeys();
      if (expected) assert.equal(keys[0], expected, `at ${scrollTop}`);
      else assert.equal(keys[keys.length - 1], "key:09999", "the end of the list");
      assert.ok((await domRows()) <= 60, `rows in the DOM stay bounded: ${await domRows()}`);
    }
    const calls = await page.evaluate(() => window.snapshotCalls);
    assert.ok(calls >= 1 && calls <= 6, `a snapshot per window move, not per frame: ${calls}`);

    // Keyboard scrolling through the list keeps the selection in view.
    await page.locator("keyspace-panel .ks-viewport").focus();
    await page.keyboard.press("End");
    await page.getByRole("region", { name: "Selected key" }).locator(".detail-head", { hasText: "key:09999" }).waitFor();
    await page.keyboard.press("Home");
    await page.getByRole("region", { name: "Selected key" }).locator(".detail-head", { hasText: "key:00000" }).waitFor();
    await page.keyboard.press("ArrowDown");
    await page.getByRole("region", { name: "Selected key" }).locator(".detail-head", { hasText: "key:00001" }).waitFor();
  }));
