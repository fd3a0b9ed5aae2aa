// The keyspace panel's detail area, one type per test: real commands typed into the Redis
// console, the key selected in the panel, and what the student sees checked against what
// the console says about the same key.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { keyRow, redis, startHarness, withPage as run } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});
const withPage = (fn, options) => run(harness, fn, options);

const detailArea = (page) => page.getByRole("region", { name: "Selected key" });

/** Runs the lines, then selects `key` in the panel and waits for its detail view. */
async function show(page, key, lines, kind) {
  for (const line of lines) await redis(page, line);
  await keyRow(page, key).click();
  const view = detailArea(page).locator(`.key-detail-${kind}`);
  await view.waitFor();
  return view;
}

/** The reply text of a console line, without the echoed prompt. */
async function reply(page, line) {
  return (await (await redis(page, line)).locator(".output").textContent()).trim();
}

const texts = (locator) => locator.allTextContents();

test("a hash is a field/value table; a field's TTL bar runs down and the field goes when it ends", () =>
  withPage(async (page) => {
    const view = await show(page, "user:1", ["HSET user:1 name Ada role admin session s3cr3t", "HEXPIRE user:1 10 FIELDS 1 session"], "hash");
    const fields = view.locator("tbody tr");
    assert.deepEqual(await texts(fields.locator("td.field")), ["name", "role", "session"]);
    assert.deepEqual(await texts(fields.locator("td:nth-child(2)")), ["Ada", "admin", "s3cr3t"]);
    const bar = view.locator("tr[data-field=session] .field-ttl");
    assert.equal(await bar.count(), 1, "the field with a TTL has a bar");
    assert.equal(await view.locator("tr[data-field=name] .field-ttl").count(), 0, "the others have none");
    const ttl = Number(await bar.getAttribute("data-ttl"));
    assert.ok(ttl > 8_000 && ttl <= 10_000, `ttl ${ttl}`);

    await page.getByRole("button", { name: "Advance 1 second", exact: true }).click();
    await page.waitForFunction(() => Number(document.querySelector("keyspace-panel tr[data-field=session] .field-ttl")?.dataset.ttl) <= 9_000);
    const fill = await bar.locator(".ttl-fill").evaluate((el) => el.style.transform);
    assert.match(fill, /^scaleX\(0\.[0-9]+\)$/, "the bar is shorter than full");

    await page.getByRole("button", { name: "Advance 10 seconds", exact: true }).click();
    await view.locator("tr[data-field=session]").waitFor({ state: "detached", timeout: 3_000 });
    assert.deepEqual(await texts(detailArea(page).locator(".key-detail-hash td.field")), ["name", "role"]);
    assert.equal(await reply(page, "HLEN user:1"), "(integer) 2");
  }));

test("a list is a row of cells from head to tail, with the middle of a long list elided", () =>
  withPage(async (page) => {
    const view = await show(page, "queue", ["RPUSH queue b c", "LPUSH queue a", "RPUSH queue d"], "list");
    assert.deepEqual(await texts(view.locator(".cell .item")), ["a", "b", "c", "d"]);
    assert.deepEqual(await texts(view.locator(".cell .index")), ["0", "1", "2", "3"]);
    assert.match(await view.locator(".end-label.head").textContent(), /^head/);
    assert.match(await view.locator(".end-label.tail").textContent(), /^tail/);
    const order = await view.evaluate((el) => [...el.querySelectorAll(".end-label, .cell .item")].map((n) => n.textContent.split(" ")[0]));
    assert.deepEqual(order, ["head", "a", "b", "c", "d", "tail"], "head before the first cell, tail after the last");
    assert.equal(await reply(page, "LINDEX queue 0"), '"a"');

    await page.evaluate(() => {
      window.app.playground.redisScript(Array.from({ length: 200 }, (_, i) => `RPUSH long e${i}`).join("\n"), Date.now());
    });
    const long = await show(page, "long", ["RPUSH long last"], "list");
    const items = await texts(long.locator(".cell .item"));
    assert.equal(items[0], "e0");
    assert.equal(items[items.length - 1], "last", "the tail is always shown");
    assert.equal(await long.locator(".cell").last().getAttribute("data-index"), "200");
    assert.match(await long.locator(".gap").textContent(), /… 101 more …/);
  }));

test("a set is chips, one per member", () =>
  withPage(async (page) => {
    const view = await show(page, "tags", ["SADD tags redis nosql cache redis"], "set");
    assert.deepEqual((await texts(view.locator(".chip"))).sort(), ["cache", "nosql", "redis"]);
    assert.equal(await reply(page, "SCARD tags"), "(integer) 3");
  }));

test("a sorted set is a ranked table with the scores ZSCORE prints", () =>
  withPage(async (page) => {
    const view = await show(page, "board", ["ZADD board 30 carol 10 alice 20 bob 1.5 dave"], "zset");
    const rows = view.locator("tbody tr");
    assert.deepEqual(await texts(rows.locator(".member")), ["dave", "alice", "bob", "carol"]);
    assert.deepEqual(await texts(rows.locator(".rank")), ["0", "1", "2", "3"]);
    assert.deepEqual(await texts(rows.locator(".score")), ["1.5", "10", "20", "30"]);
    assert.equal(await reply(page, "ZRANK board bob"), "(integer) 2");
    assert.equal(await reply(page, "ZSCORE board dave"), '"1.5"');
    assert.equal(await view.locator(".geo-plot").count(), 0, "a leaderboard is not a map");
  }));

test("a stream shows its entries with IDs and where each consumer group's cursor stands", () =>
  withPage(async (page) => {
    const view = await show(
      page,
      "events",
      ["XADD events 1-1 kind login", "XADD events 2-1 kind click", "XADD events 3-1 kind logout", "XGROUP CREATE events mailers 0", "XREADGROUP GROUP mailers m1 COUNT 2 STREAMS events >"],
      "stream",
    );
    assert.deepEqual(await texts(view.locator(".entry-item .stream-id")), ["1-1", "2-1", "3-1"]);
    assert.match(await view.locator(".entry-item[data-id='1-1']").textContent(), /kind=login/);
    assert.deepEqual(await texts(view.locator(".entry-item[data-id='2-1'] .cursor")), ["◀ mailers"]);
    assert.equal(await view.locator(".cursor").count(), 1);
    const group = view.locator(".stream-groups tr[data-group=mailers] td");
    assert.deepEqual(await texts(group), ["mailers", "2-1", "2", "1"]);
    assert.match(await reply(page, "XINFO GROUPS events"), /"last-delivered-id"\n\s*\d+\) "2-1"/);

    // Reading on moves the cursor.
    await redis(page, "XREADGROUP GROUP mailers m1 STREAMS events >");
    await view.locator(".entry-item[data-id='3-1'] .cursor").waitFor();
    assert.equal(await view.locator(".entry-item[data-id='2-1'] .cursor").count(), 0);
  }));

test("a geo set is drawn as points with distances that equal GEODIST's", () =>
  withPage(async (page) => {
    const view = await show(
      page,
      "Sicily",
      ["GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 14.015 37.517 Caltanissetta"],
      "zset",
    );
    const plot = view.getByRole("img", { name: /^Map of 3 points/ });
    await plot.waitFor();
    assert.equal(await plot.locator(".geo-point").count(), 3);
    assert.deepEqual((await texts(plot.locator(".geo-label"))).sort(), ["Caltanissetta", "Catania", "Palermo"]);
    const distance = async (member) => view.locator(`.geo-distances tr[data-member="${member}"] .distance`).textContent();
    const origin = await view.locator(".geo-distances button[aria-pressed=true]").textContent();
    for (const member of ["Palermo", "Catania", "Caltanissetta"]) {
      assert.equal(`"${await distance(member)}"`, await reply(page, `GEODIST Sicily ${origin} ${member} km`), member);
    }

    // Measuring from another member, chosen with the keyboard.
    await view.locator('.geo-distances button', { hasText: "Palermo" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("keyspace-panel .geo-distances button[aria-pressed=true]")?.textContent === "Palermo");
    assert.equal(await detailArea(page).locator(".geo-distances button[aria-pressed=true]").evaluate((el) => el === document.activeElement), true, "focus stays");
    assert.equal(`"${await distance("Catania")}"`, await reply(page, "GEODIST Sicily Palermo Catania km"));
    assert.equal(await distance("Catania"), "166.2742");

    // The same set as a ranked table, and back.
    await detailArea(page).getByRole("button", { name: "Ranked table" }).click();
    await detailArea(page).locator(".ranked").waitFor();
    assert.equal(await detailArea(page).locator(".ranked tbody tr").count(), 3);
    await detailArea(page).getByRole("button", { name: "Map" }).click();
    await detailArea(page).locator(".geo-plot").waitFor();

    // ZADD writes scores that need not be points: the set is a plain sorted set again.
    await redis(page, "ZADD Sicily 1 Palermo");
    await detailArea(page).locator(".key-detail-zset .ranked").waitFor();
    assert.equal(await detailArea(page).locator(".geo-plot").count(), 0);
  }));

test("a bitmap is a strip of bits, set bits highlighted at the offsets SETBIT used", () =>
  withPage(async (page) => {
    const view = await show(page, "visits", ["SETBIT visits 1 1", "SETBIT visits 9 1", "SETBIT visits 22 1"], "string");
    const on = await view.locator(".bit.on").evaluateAll((els) => els.map((el) => Number(el.dataset.offset)));
    assert.deepEqual(on, [1, 9, 22]);
    assert.equal(await view.locator(".bit").count(), 24, "8 bits per byte, 3 bytes");
    assert.deepEqual(await texts(view.locator(".byte .offset")), ["0", "8", "16"]);
    assert.match(await view.locator(".bit-summary").textContent(), /^3 of 24 bits set/);
    assert.equal(await reply(page, "BITCOUNT visits"), "(integer) 3");
    assert.equal(await reply(page, "GETBIT visits 22"), "(integer) 1");

    // A long bitmap is cut, and says so.
    const long = await show(page, "wide", ["SETBIT wide 1000 1"], "string");
    assert.equal(await long.locator(".bytes > .more").textContent(), "…");
    assert.ok((await long.locator(".bit").count()) < 1000);

    // Plain text gets no strip; bytes that are not text do.
    const plain = await show(page, "greeting", ["SET greeting hello"], "string");
    assert.equal(await plain.locator(".bit-strip").count(), 0);
    assert.equal(await plain.textContent(), '"hello"');
    const binary = await show(page, "blob", ['SET blob "\\x00\\x81"'], "string");
    assert.deepEqual(await binary.locator(".bit.on").evaluateAll((els) => els.map((el) => Number(el.dataset.offset))), [8, 15]);
  }));

test("keys and values in detail views are text, never markup", () =>
  withPage(async (page) => {
    const evil = "<img src=x onerror=window.pwned=1>";
    const view = await show(page, "x", [`HSET x "${evil}" "${evil}"`], "hash");
    assert.equal(await view.locator("td.field").textContent(), evil);
    await redis(page, `GEOADD g 13.361389 38.115556 "${evil}" 15.087269 37.502669 b`);
    await keyRow(page, "g").click();
    await detailArea(page).locator(".geo-plot").waitFor();
    assert.equal(await detailArea(page).locator("img").count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
  }));

test("the detail keeps its scroll position when another command redraws it", () =>
  withPage(async (page) => {
    await page.evaluate(async () => {
      // Streams live in the full module: a script run around the console switches first.
      await window.app.playground.switchToFull();
      window.app.playground.redisScript(Array.from({ length: 60 }, (_, i) => `XADD log ${i + 1}-1 n ${i}`).join("\n"), Date.now());
    });
    const view = await show(page, "log", ["SET other 1"], "stream");
    const area = detailArea(page);
    const scrolled = await area.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
      return el.scrollTop;
    });
    assert.ok(scrolled > 0, "the detail scrolls");
    await view.evaluate((el) => (el.dataset.old = "true"));
    await redis(page, "SET other 2");
    await area.locator(".key-detail-stream[data-old]").waitFor({ state: "detached" }); // redrawn
    await area.locator(".key-detail-stream").waitFor();
    assert.equal(await area.evaluate((el) => el.scrollTop), scrolled);
  }));
