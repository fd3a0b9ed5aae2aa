import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { keyRow, mongo, redis, SCREENSHOTS, startHarness, withPage as run } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
  await mkdir(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await harness?.stop();
});
const withPage = (fn, options) => run(harness, fn, options);
const button = (page, name) => page.getByRole("button", { name, exact: true });
const virtualNow = (page) => page.evaluate(() => window.app.playground.now(Date.now()));

test("clock bar: jumps move the virtual time; speed scales it; the bar shows the .time state", () =>
  withPage(async (page) => {
    const bar = page.getByRole("region", { name: "Sandbox clock" });
    await button(page, "Pause").click();
    const t0 = await virtualNow(page);
    for (const [name, ms] of [
      ["Advance 1 second", 1_000],
      ["Advance 10 seconds", 10_000],
      ["Advance 1 minute", 60_000],
      ["Advance 1 hour", 3_600_000],
    ]) {
      const before = await virtualNow(page);
      await button(page, name).click();
      assert.equal((await virtualNow(page)) - before, ms, name);
    }
    const shown = new Date(t0 + 3_671_000).toISOString();
    await bar.locator("[data-role=virtual-time]", { hasText: `${shown.slice(0, 10)} ${shown.slice(11, 21)} UTC` }).waitFor();

    await button(page, "Resume").click();
    await page.getByRole("combobox", { name: "Clock speed" }).selectOption("10");
    await bar.locator(".clock-state", { hasText: "running at 10×" }).waitFor();
    const a = await virtualNow(page);
    await page.waitForTimeout(500);
    const elapsed = (await virtualNow(page)) - a;
    assert.ok(elapsed >= 4_000 && elapsed < 15_000, `10× speed: ${elapsed} ms in ~0.5 s`);

    // The console's .time line and the bar are one clock, both ways.
    const entry = await redis(page, ".time speed 0.5");
    assert.match(await entry.locator(".output").textContent(), /running at 0\.5x/);
    await bar.locator(".clock-state", { hasText: "running at 0.5×" }).waitFor();
    assert.equal(await page.getByRole("combobox", { name: "Clock speed" }).inputValue(), "0.5");
    await redis(page, ".time pause");
    await bar.locator(".clock-state", { hasText: "paused" }).waitFor();
    assert.equal(await button(page, "Resume").getAttribute("aria-pressed"), "true");
  }));

test("collections panel: counts and a paged document table after insertMany", () =>
  withPage(async (page) => {
    const panel = page.getByRole("region", { name: "MongoDB collections" });
    await panel.getByText("No databases yet").waitFor();
    await mongo(page, 'db.posts.insertMany([{_id: 1, title: "Redis Caching", tags: ["redis", "cache"]}, {_id: 2, title: "Mongo", author: {name: "Ann"}}, {_id: 3}])');
    const posts = panel.locator(".coll-button", { hasText: "posts" });
    await posts.waitFor();
    assert.equal(await posts.locator(".coll-count").textContent(), "3");
    assert.equal(await posts.getAttribute("aria-current"), "true");
    assert.equal(await panel.locator(".coll-title").textContent(), "test.posts");
    const table = panel.locator("table.doc-table");
    assert.deepEqual(await table.locator("thead th").allTextContents(), ["#", "_id", "title", "tags", "author"]);
    const rows = await table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(rows, [
      ["1", "1", "'Redis Caching'", "[ 'redis', 'cache' ]", "·"],
      ["2", "2", "'Mongo'", "·", "{ name: 'Ann' }"],
      ["3", "3", "·", "·", "·"],
    ]);

    // A second collection in another database: the panel follows where documents land.
    await mongo(page, "use shop");
    const docs = Array.from({ length: 25 }, (_, i) => `{_id: ${i}, n: ${i}}`).join(", ");
    await mongo(page, `db.orders.insertMany([${docs}])`);
    const orders = panel.locator(".coll-button", { hasText: "orders" });
    await orders.waitFor();
    assert.equal(await orders.locator(".coll-count").textContent(), "25");
    assert.equal(await panel.locator(".coll-title").textContent(), "shop.orders");
    assert.equal(await panel.locator("[data-role=summary]").textContent(), "2 databases · 2 collections");
    assert.equal(await panel.locator(".coll-range").textContent(), "1–20 of 25");
    assert.equal(await table.locator("tbody tr").count(), 20);
    await panel.getByRole("button", { name: "Next page of documents" }).click();
    assert.equal(await panel.locator(".coll-range").textContent(), "21–25 of 25");
    assert.equal(await table.locator("tbody tr").count(), 5);
    assert.equal(await panel.getByRole("button", { name: "Next page of documents" }).isDisabled(), true);

    await panel.getByRole("button", { name: "mongosh" }).click();
    assert.match(await panel.locator("pre.mongosh-docs").textContent(), /\{ _id: 20, n: 20 \}/);
    await panel.getByRole("button", { name: "Table" }).click();

    await posts.click();
    assert.equal(await panel.locator(".coll-title").textContent(), "test.posts");
    await mongo(page, "use test");
    await mongo(page, "db.posts.drop()");
    await panel.locator(".coll-button", { hasText: "posts" }).waitFor({ state: "detached" });
    assert.equal(await panel.locator(".coll-title").textContent(), "shop.orders");
  }));

test("server info strip: keys per database, volatile and expired counts, memory, hits", () =>
  withPage(async (page) => {
    const strip = page.getByRole("region", { name: "Redis server info" });
    const stat = (name) => strip.locator(`[data-stat=${name}]`).textContent();
    assert.equal(await stat("keys"), "0");
    await redis(page, "SET a 1 EX 5");
    await redis(page, "SET bb 22");
    await redis(page, "SELECT 2");
    await redis(page, "SET c 333");
    assert.equal(await stat("keys"), "3");
    assert.equal(await stat("volatile"), "1");
    assert.equal(await stat("expired"), "0");
    // Modelled used_memory (a fresh server's ~992 KB and three small keys) of the 128 MB default.
    assert.equal(await stat("memory"), "993 KB of 128 MB");
    assert.equal(await strip.locator(".per-db").textContent(), "db0:2 db2:1");
    await redis(page, "GET c");
    await redis(page, "GET nosuch");
    assert.equal(await stat("hits"), "1 / 1");
    assert.equal(await stat("evicted"), "0");
    assert.equal(await strip.locator(".mem-bar").isVisible(), true, "the bar shows used memory against maxmemory");
    await redis(page, "CONFIG SET maxmemory 0");
    assert.equal(await strip.locator(".mem-bar").isHidden(), true, "no bar without a maxmemory");
    await button(page, "Advance 10 seconds").click();
    assert.equal(await stat("expired"), "1");
    assert.equal(await stat("keys"), "2");
    assert.equal(await stat("volatile"), "0");
  }));

test("maxmemory under allkeys-lru: evictions are marked in the keyspace and counted", () =>
  withPage(async (page) => {
    const strip = page.getByRole("region", { name: "Redis server info" });
    const stat = (name) => strip.locator(`[data-stat=${name}]`).textContent();
    // About 80 KB above a fresh server's modelled memory: room for a few hundred small keys.
    await redis(page, "CONFIG SET maxmemory 1100000");
    await redis(page, "CONFIG SET maxmemory-policy allkeys-lru");
    for (const key of ["a:1", "a:2", "a:3"]) await redis(page, `SET ${key} first`);
    await keyRow(page, "a:3").waitFor();
    // The fill runs as one script, then announces itself like a console line would.
    await page.evaluate(() => {
      const lines = Array.from({ length: 1500 }, (_, i) => `SET fill:${String(i).padStart(4, "0")} ${"x".repeat(40)}`);
      window.app.playground.redisScript(lines.join("\n"), Date.now());
      document.dispatchEvent(new CustomEvent("playground:change", { detail: { engine: "redis" } }));
    });
    // The oldest keys went first and leave the panel marked as evicted, not deleted.
    const evicted = page.locator("keyspace-panel .ks-row.gone.evicted");
    await evicted.first().waitFor({ timeout: 2_000 });
    assert.match(await evicted.first().textContent(), /a:\d \(evicted\)/);
    assert.equal(await page.locator("keyspace-panel .ks-row.gone.deleted").count(), 0);
    const count = Number(await stat("evicted"));
    assert.ok(count > 500, `evicted counter: ${count}`);
    assert.match(await stat("memory"), / of 1\.0 MB$/);
    assert.equal(await strip.locator(".mem-bar").isVisible(), true);
    // The fill's last write left memory over the limit: like Redis, the next command (this
    // INFO) evicts first, and the strip follows.
    const info = await (await redis(page, "INFO stats")).locator(".output").textContent();
    const reported = Number(info.match(/evicted_keys:(\d+)/)?.[1]);
    assert.ok(reported >= count, `INFO says ${reported}, the strip said ${count}`);
    assert.equal(await stat("evicted"), String(reported));
    // noeviction: once a write has taken memory past the limit, the next gets the real error.
    await redis(page, "CONFIG SET maxmemory-policy noeviction");
    let last = "";
    for (let i = 0; i < 3; i++) last = await (await redis(page, `SET one:more:${i} value`)).locator(".output").textContent();
    assert.match(last, /\(error\) OOM command not allowed when used memory > 'maxmemory'\./);
  }));

test("hostile keys, values, field names and collection names show as text", () =>
  withPage(async (page) => {
    const hostile = "<img src=x onerror=alert(1)>";
    await redis(page, `SET "${hostile}" "<script>alert(2)</script>"`);
    await redis(page, `XADD "<svg onload=alert(3)>" * "<b>field</b>" "<i onmouseover=alert(4)>v</i>"`);
    await redis(page, `SET "<style>*{display:none}</style>" x EX 100`);
    await mongo(page, `db["<img src=y onerror=alert(5)>"].insertOne({_id: 1, "<svg onload=alert(6)>": "<img src=z onerror=alert(7)>"})`);
    await page.locator("collections-panel .coll-button").first().waitFor();
    await keyRow(page, hostile).click();
    await page.waitForTimeout(300);

    const injected = await page.evaluate(() =>
      [...document.querySelectorAll("keyspace-panel *, collections-panel *, server-info *, #redis-console *, #mongo-console *")]
        .filter((el) => ["IMG", "SCRIPT", "SVG", "svg", "STYLE", "B", "I"].includes(el.tagName))
        .map((el) => el.outerHTML),
    );
    assert.deepEqual(injected, [], "no element came from student data");
    const keys = await page.locator("keyspace-panel .ks-rows .ks-row .k").allTextContents();
    assert.ok(keys.includes(hostile), keys.join(" | "));
    assert.ok(keys.includes("<svg onload=alert(3)>"));
    assert.ok(keys.includes("<style>*{display:none}</style>"));
    const values = await page.locator("keyspace-panel .ks-rows .ks-row .val").allTextContents();
    assert.ok(values.includes('"<script>alert(2)</script>"'), values.join(" | "));
    assert.ok(values.some((v) => v.includes("<b>field</b>=<i onmouseover=alert(4)>v</i>")), values.join(" | "));
    assert.match(await page.getByRole("region", { name: "Selected key" }).textContent(), /<img src=x onerror=alert\(1\)>/);
    const coll = page.locator("collections-panel .coll-button", { hasText: "<img src=y onerror=alert(5)>" });
    await coll.click();
    assert.deepEqual(await page.locator("collections-panel thead th").allTextContents(), ["#", "_id", "<svg onload=alert(6)>"]);
    assert.equal(await page.locator("collections-panel tbody td").nth(2).textContent(), "'<img src=z onerror=alert(7)>'");
    assert.equal(await page.locator("collections-panel .coll-title").textContent(), "test.<img src=y onerror=alert(5)>");
  }));

test("a very long reply is cut with a button that shows the rest in steps", () =>
  withPage(async (page) => {
    await page.evaluate(() => {
      const lines = [];
      for (let i = 0; i < 5_000; i++) lines.push(`SET k${i} v`);
      window.app.playground.redisScript(lines.join("\n"), Date.now());
    });
    const entry = await redis(page, "KEYS *");
    const lines = async () => (await entry.locator(".output").textContent()).split("\n").length;
    assert.equal(await lines(), 200);
    const more = entry.getByRole("button", { name: /Show 2000 more of 4800 hidden lines/ });
    await more.click();
    assert.equal(await lines(), 2_200);
    await entry.getByRole("button", { name: /hidden lines/ }).click();
    await entry.getByRole("button", { name: /Show the remaining 800 hidden lines/ }).click();
    assert.equal(await lines(), 5_000);
    // Everything shows; only the copy action stays.
    assert.deepEqual(await entry.getByRole("button").allTextContents(), ["Copy all 5000 lines"]);
    // The console still answers after the long reply (timings belong to the benchmark).
    const short = await redis(page, "GET k1");
    assert.equal(await short.getByRole("button").count(), 0);
  }));

/** The snippet panel (js/snippet-panel.js) comes after the consoles' panels. */
const SNIPPET_STOPS = ["Python", "JavaScript", "Driver snippet", "Run snippet", "Simulated network latency"];

test("keyboard only: every control is reachable with Tab, in order, with a visible focus ring", () =>
  withPage(async (page) => {
    await redis(page, "SET session alice EX 60");
    await mongo(page, "db.posts.insertOne({_id: 1, title: 'Hi'})");
    // Start from the top of the page, as a keyboard user arriving at it does.
    await page.getByRole("heading", { level: 1 }).click();
    const stops = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      const stop = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const ringHost = el.closest(".input-row") ?? el;
        const style = getComputedStyle(ringHost);
        return {
          name: el.getAttribute("aria-label") ?? el.textContent.trim(),
          ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
        };
      });
      if (!stop) break;
      stops.push(stop);
    }
    const names = stops.map((s) => s.name);
    assert.deepEqual(names, [
      "Pause",
      "Advance 1 second",
      "Advance 10 seconds",
      "Advance 1 minute",
      "Advance 1 hour",
      "Clock speed",
      "Export state",
      "Import state",
      "Share link",
      "Export for a real server",
      "Show lessons",
      "client 1",
      "+ client",
      "Redis command",
      "Mongo shell",
      "Database",
      "Filter keys by pattern",
      "Filter keys by type",
      "Keys (arrow keys select)",
      "posts1",
      "Table",
      "mongosh",
      "Documents",
      ...SNIPPET_STOPS,
    ]);
    for (const s of stops) assert.ok(s.ring, `visible focus on ${s.name}`);

    // Operate the panels from the keyboard alone.
    // Focus left the page after the last stop: back past the snippet panel's controls in to
    // "Documents", then to "mongosh".
    for (let i = 0; i < SNIPPET_STOPS.length + 2; i++) await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Enter");
    await page.locator("collections-panel pre.mongosh-docs").waitFor();
    for (let i = 0; i < 3; i++) await page.keyboard.press("Shift+Tab");
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Keys (arrow keys select)");
    await page.keyboard.press("ArrowDown");
    await page.getByRole("region", { name: "Selected key" }).locator(".detail-head", { hasText: "session" }).waitFor();
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.type("nomatch*");
    await page.locator("keyspace-panel .panel-empty", { hasText: "No keys match" }).waitFor();
    await page.getByRole("button", { name: "Pause" }).focus();
    await page.keyboard.press("Space");
    assert.equal(await page.locator("clock-bar .clock-state").textContent(), "paused");
  }));

test("panels are labelled regions; the reserved pipeline and explain regions are in place", () =>
  withPage(async (page) => {
    for (const name of ["Sandbox clock", "Redis keyspace", "Redis server info", "MongoDB collections", "Pipeline viewer", "Query explain"]) {
      assert.equal(await page.getByRole("region", { name, exact: true }).count(), 1, name);
    }
    assert.equal(await page.locator("[data-slot=pipeline]").count(), 1);
    assert.equal(await page.locator("[data-slot=explain]").count(), 1);
  }));

test("layout: consoles over their panels on a laptop, one column at ~900 px", async () => {
  const box = (page, sel) => page.locator(sel).boundingBox();
  await withPage(
    async (page) => {
      const [rc, ks, mc, cp, clock] = await Promise.all(["#redis-console", "keyspace-panel", "#mongo-console", "collections-panel", "clock-bar"].map((s) => box(page, s)));
      assert.ok(clock.y + clock.height <= rc.y && clock.width > rc.width * 1.8, "clock bar across the top");
      assert.ok(ks.y >= rc.y + rc.height && Math.abs(ks.x - rc.x) < 1, "keyspace under the Redis console");
      assert.ok(cp.y >= mc.y + mc.height && Math.abs(cp.x - mc.x) < 1, "collections under the Mongo console");
      assert.ok(ks.y + ks.height <= 800 + 1, `everything fits a laptop screen: keyspace ends at ${ks.y + ks.height}`);
    },
    { viewport: { width: 1366, height: 800 } },
  );
  await withPage(
    async (page) => {
      const boxes = await Promise.all(["#redis-console", "#mongo-console", "#redis-panels", "#mongo-panels"].map((s) => box(page, s)));
      for (let i = 1; i < boxes.length; i++) {
        assert.ok(boxes[i].y >= boxes[i - 1].y + boxes[i - 1].height - 1 && Math.abs(boxes[i].x - boxes[0].x) < 1, `stacked ${i}`);
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > innerWidth);
      assert.equal(overflow, false, "no sideways scrolling");
    },
    { viewport: { width: 900, height: 900 } },
  );
});

for (const colorScheme of ["light", "dark"]) {
  test(`panel screenshots in the ${colorScheme} theme`, () =>
    withPage(
      async (page) => {
        await redis(page, "SET greeting hello");
        await redis(page, "SET counter 42");
        await redis(page, "SET session:42 alice EX 60");
        await redis(page, "SET cache:home \"<html>…</html>\" PX 4000");
        await redis(page, "XADD events * kind click user 7");
        await redis(page, "XADD events * kind view user 9");
        await mongo(page, 'db.posts.insertMany([{_id: 1, title: "Redis Caching", tags: ["redis", "cache"], views: 120}, {_id: 2, title: "Mongo Basics", author: {name: "Ann"}}, {_id: 3, title: "TTL indexes", views: 7}])');
        await keyRow(page, "events").click();
        // Paused with 0.7 s left of four: the countdown is red and holds still for the shot.
        await button(page, "Pause").click();
        const left = await page.evaluate(() => {
          const p = window.app.playground;
          return JSON.parse(p.redisKeyspace(0, "cache:*", "", 0, 1, Date.now())).rows[0].ttlMs;
        });
        await page.evaluate((ms) => window.app.clock.jump(ms), left - 700);
        await page.waitForTimeout(1_300);
        const shot = (sel, name) => page.locator(sel).screenshot({ path: join(SCREENSHOTS, `${name}-${colorScheme}.png`) });
        await shot("clock-bar", "clock-bar");
        await shot("keyspace-panel", "keyspace");
        await shot("server-info", "server-info");
        await shot("collections-panel", "collections");
        await page.screenshot({ path: join(SCREENSHOTS, `panels-${colorScheme}.png`) });
      },
      { colorScheme, viewport: { width: 1366, height: 800 } },
    ));
}

for (const colorScheme of ["light", "dark"]) {
  test(`every text in the panels meets WCAG AA contrast (${colorScheme})`, () =>
    withPage(
      async (page) => {
        await redis(page, "SET greeting hello");
        await redis(page, "SET soon v PX 4000");
        await redis(page, "XADD events * kind click");
        await mongo(page, "db.posts.insertMany([{_id: 1, title: 'a'}, {_id: 2}])");
        await keyRow(page, "events").click();
        await button(page, "Pause").click();
        await page.evaluate(() => window.app.clock.jump(3_500)); // "soon" turns red
        await page.waitForTimeout(1_300); // flashes over
        const failures = await page.evaluate(() => {
          const parse = (c) => {
            const m = c.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0, 0];
            return { rgb: m.slice(0, 3), a: m.length > 3 ? m[3] : 1 };
          };
          const lum = ([r, g, b]) => {
            const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
          };
          const background = (el) => {
            for (let e = el; e; e = e.parentElement) {
              const bg = parse(getComputedStyle(e).backgroundColor);
              if (bg.a > 0.5) return bg.rgb;
            }
            return parse(getComputedStyle(document.body).backgroundColor).rgb;
          };
          const out = [];
          const roots = document.querySelectorAll("clock-bar, server-info, keyspace-panel, collections-panel, .slot");
          for (const root of roots) {
            for (const el of root.querySelectorAll("*")) {
              const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
              if (!text || el.closest(":disabled") || el.closest(".gone") || !el.getClientRects().length) continue;
              const fg = parse(getComputedStyle(el).color).rgb;
              const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
              const ratio = (a + 0.05) / (b + 0.05);
              if (ratio < 4.5) out.push(`${el.className || el.tagName} "${text.slice(0, 20)}": ${ratio.toFixed(2)}`);
            }
          }
          return out;
        });
        assert.deepEqual(failures, []);
      },
      { colorScheme },
    ));
}
