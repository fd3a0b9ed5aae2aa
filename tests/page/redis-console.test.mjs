import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openPage, redis, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
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

const outputOf = (entry) => entry.locator(".output").textContent();

test("SET then GET shows OK and the quoted value", () =>
  withPage(async (page) => {
    const set = await redis(page, "SET greeting hello");
    assert.equal(await set.locator(".echo").textContent(), "127.0.0.1:6379> SET greeting hello");
    assert.equal(await outputOf(set), "OK");
    const get = await redis(page, "GET greeting");
    assert.equal(await outputOf(get), '"hello"');
    assert.equal(await get.locator(".output.error").count(), 0);
    assert.equal(await page.getByRole("textbox", { name: "Redis command" }).inputValue(), "");
  }));

test("an unknown command shows redis-cli's error, styled as an error", () =>
  withPage(async (page) => {
    const entry = await redis(page, "NOPE a b");
    const out = entry.locator(".output");
    assert.match(await out.textContent(), /^\(error\) ERR unknown command 'NOPE', with args beginning with: 'a' 'b'/);
    assert.equal(await out.getAttribute("class"), "output error");
    // The class must change how it looks, not just exist.
    const [errorColor, okColor] = await page.evaluate(() => {
      const ok = document.createElement("pre");
      ok.className = "output";
      document.querySelector("#redis-console [role=log]").append(ok);
      const colors = [
        getComputedStyle(document.querySelector("#redis-console .output.error")).color,
        getComputedStyle(ok).color,
      ];
      ok.remove();
      return colors;
    });
    assert.notEqual(errorColor, okColor);
  }));

test("ArrowUp recalls earlier commands, ArrowDown returns to the draft, history survives reload", () =>
  withPage(async (page) => {
    const input = page.getByRole("textbox", { name: "Redis command" });
    await redis(page, "SET a 1");
    await redis(page, "GET a");
    await input.fill("INCR");
    await input.press("ArrowUp");
    assert.equal(await input.inputValue(), "GET a");
    await input.press("ArrowUp");
    assert.equal(await input.inputValue(), "SET a 1");
    await input.press("ArrowDown");
    assert.equal(await input.inputValue(), "GET a");
    await input.press("ArrowDown");
    assert.equal(await input.inputValue(), "INCR");

    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    await input.press("ArrowUp");
    assert.equal(await input.inputValue(), "GET a");
  }));

test("Tab completes the common prefix, lists the options, then completes a unique name", () =>
  withPage(async (page) => {
    const input = page.getByRole("textbox", { name: "Redis command" });
    const options = page.locator("#redis-console [data-role=completions]");
    await input.fill("FLU");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "FLUSH");
    assert.equal(await options.isVisible(), true);
    assert.equal(await options.textContent(), "FLUSHALL  FLUSHDB");
    // Focus stayed in the console: Tab was used for completion.
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Redis command");

    await input.press("D");
    assert.equal(await input.inputValue(), "FLUSHD");
    assert.equal(await options.isVisible(), false, "typing hides the stale list");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "FLUSHDB ");
    assert.equal(await options.isVisible(), false);

    // Lower case stays lower case.
    await input.fill("sel");
    await input.press("Tab");
    assert.equal(await input.inputValue(), "select ");
  }));

test("SELECT 1 changes the prompt", () =>
  withPage(async (page) => {
    const prompt = page.locator("#redis-console .input-row .prompt");
    assert.equal(await prompt.textContent(), "127.0.0.1:6379>");
    const entry = await redis(page, "SELECT 1");
    assert.equal(await outputOf(entry), "OK");
    assert.equal(await prompt.textContent(), "127.0.0.1:6379[1]>");
    const next = await redis(page, "GET missing");
    assert.equal(await next.locator(".echo").textContent(), "127.0.0.1:6379[1]> GET missing");
    assert.equal(await outputOf(next), "(nil)");
    await redis(page, "SELECT 0");
    assert.equal(await prompt.textContent(), "127.0.0.1:6379>");
  }));

test("a hostile value is shown as literal text, never as markup", () =>
  withPage(async (page) => {
    await redis(page, 'SET x "<img src=x onerror=alert(1)>"');
    const entry = await redis(page, "GET x");
    assert.equal(await outputOf(entry), '"<img src=x onerror=alert(1)>"');
    assert.equal(await page.locator("img").count(), 0);
    const echo = await redis(page, "<b>bold</b>");
    assert.match(await echo.locator(".echo").textContent(), /<b>bold<\/b>/);
    assert.equal(await page.locator("#redis-console b").count(), 0);
  }));

test(".time +10s lets a key set with EX 5 expire", () =>
  withPage(async (page) => {
    assert.equal(await outputOf(await redis(page, "SET k v EX 5")), "OK");
    assert.equal(await outputOf(await redis(page, "GET k")), '"v"');
    const time = await redis(page, ".time +10s");
    assert.match(await outputOf(time), /^\(sandbox\) virtual time \d{4}-\d\d-\d\dT/);
    assert.equal(await outputOf(await redis(page, "GET k")), "(nil)");
  }));

test("the page's clock loop expires keys without any typing", () =>
  withPage(async (page) => {
    await redis(page, "SET t v PX 300");
    // Only the periodic tick can remove it: nothing reads the key in between.
    await page.waitForFunction(() => window.playground.redis("EXISTS t", Date.now()) === "(integer) 0\n", null, {
      timeout: 3000,
    });
  }));

test("Ctrl+L clears the scrollback; a pasted block runs line by line", () =>
  withPage(async (page) => {
    const log = page.locator("#redis-console [role=log]");
    await redis(page, "SET p 1");
    const input = page.getByRole("textbox", { name: "Redis command" });
    await input.press("Control+l");
    assert.equal(await log.locator(".entry").count(), 0);

    await input.focus();
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData("text/plain", "SET p 2\nSET q 3\r\n\nGET q");
      document
        .querySelector("#redis-console input")
        .dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    });
    const echoes = await log.locator(".echo").allTextContents();
    assert.deepEqual(echoes, ["127.0.0.1:6379> SET p 2", "127.0.0.1:6379> SET q 3", "127.0.0.1:6379> GET q"]);
    assert.deepEqual(await log.locator(".output").allTextContents(), ["OK", "OK", '"3"']);
    assert.equal(await input.inputValue(), "");
  }));

test("FT.SEARCH and FT.AGGREGATE results show as a table under the raw reply; FT.INFO as a schema summary", () =>
  withPage(async (page) => {
    await redis(page, "FT.CREATE idx PREFIX 1 p: SCHEMA name TEXT price NUMERIC SORTABLE tags TAG");
    await redis(page, 'HSET p:1 name "Blue laptop" price 1200 tags tech');
    await redis(page, 'HSET p:2 name "Red laptop bag" price 80 tags bags');
    const cells = (entry) =>
      entry.locator(".result-table tr").evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));

    const search = await redis(page, "FT.SEARCH idx laptop SORTBY price");
    assert.match(await outputOf(search), /^1\) \(integer\) 2\n2\) "p:2"/, "the raw reply stays");
    assert.deepEqual(await cells(search), [
      ["key", "price", "name", "tags"],
      ["p:2", "80", "Red laptop bag", "bags"],
      ["p:1", "1200", "Blue laptop", "tech"],
    ]);
    assert.equal(await search.locator(".result-table caption").textContent(), "2 matching, 2 shown");

    const ids = await redis(page, "FT.SEARCH idx laptop NOCONTENT SORTBY price DESC");
    assert.deepEqual(await cells(ids), [["key"], ["p:1"], ["p:2"]]);

    const payloads = await redis(page, "FT.SEARCH idx laptop NOCONTENT WITHSCORES WITHPAYLOADS SORTBY price");
    assert.deepEqual(await cells(payloads), [
      ["key", "score", "payload"],
      ["p:2", "1", ""],
      ["p:1", "1", ""],
    ]);

    const agg = await redis(page, "FT.AGGREGATE idx * GROUPBY 1 @tags REDUCE SUM 1 @price AS total SORTBY 2 @total DESC");
    assert.deepEqual(await cells(agg), [
      ["tags", "total"],
      ["tech", "1200"],
      ["bags", "80"],
    ]);

    const info = await redis(page, "FT.INFO idx");
    assert.match(await info.locator(".index-summary p").textContent(), /idx on HASH keys with prefix p: · 2 documents/);
    assert.deepEqual((await cells(info)).slice(1), [
      ["name", "name", "TEXT", "WEIGHT 1"],
      ["price", "price", "NUMERIC", "SORTABLE UNF"],
      ["tags", "tags", "TAG", "SEPARATOR ,"],
    ]);

    const error = await redis(page, "FT.SEARCH nope x");
    assert.equal(await error.locator(".result-table").count(), 0, "errors get no table");
  }));
