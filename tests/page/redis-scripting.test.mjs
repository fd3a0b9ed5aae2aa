import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openPage, redis, startHarness, withPage } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

test("Lua scripts run from the console: one line, pasted over several lines, and by SHA", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    const log = page.locator("#redis-console [role=log]");
    const one = await redis(page, 'EVAL "local x = redis.call(\'incr\', KEYS[1])\\nreturn x * 10" 1 hits');
    assert.equal(await one.locator(".output").textContent(), "(integer) 10");

    const input = page.getByRole("textbox", { name: "Redis command" });
    await input.focus();
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData("text/plain", "EVAL \"local n = redis.call('incr', KEYS[1])\n-- a comment line\nreturn 'hits: ' .. n\" 1 hits\nGET hits");
      document
        .querySelector("#redis-console input")
        .dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    });
    const outputs = await log.locator(".output").allTextContents();
    assert.deepEqual(outputs.slice(-2), ['"hits: 2"', '"2"']);

    const load = await redis(page, 'SCRIPT LOAD "return 1"');
    assert.equal(await load.locator(".output").textContent(), '"e0e1f9fabfc9d4800c877a703b823ac0578ff8db"');
    const bySha = await redis(page, "EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0");
    assert.equal(await bySha.locator(".output").textContent(), "(integer) 1");
    const failed = await redis(page, "EVAL \"return nosuch.x\" 0");
    assert.equal(await failed.locator(".output.error").count(), 1);
    // Runaway scripts stop with an error instead of freezing or crashing the tab's wasm.
    const deep = await redis(page, 'EVAL "local function f(n) return f(n + 1) + 1 end return f(1)" 0');
    assert.match(await deep.locator(".output").textContent(), /stack overflow script: on @user_script:1\.$/);
    // An endless script keeps the server busy, as the real one: its client waits, another
    // client gets BUSY, and SCRIPT KILL from that client stops it.
    const spin = await redis(page, 'EVAL "local i = 0 while true do i = i + 1 end" 0');
    assert.equal(await spin.locator(".output").count(), 0, "nothing is printed while the script runs");
    const waiting = page.locator("#redis-console [data-role=waiting]");
    await waiting.waitFor();
    assert.equal(
      await waiting.textContent(),
      "Waiting: EVAL local i = 0 while true do i = i + 1 end 0 (a busy script: SCRIPT KILL or FUNCTION KILL from another client stops it)",
    );
    await page.locator("#redis-console [data-role=client-add]").click();
    const refused = await redis(page, "GET hits");
    assert.match(
      await refused.locator(".output").textContent(),
      /^\(error\) BUSY Valkey is busy running a script\. You can only call SCRIPT KILL or SHUTDOWN NOSAVE\.$/,
    );
    const kill = await redis(page, "SCRIPT KILL");
    assert.equal(await kill.locator(".output").textContent(), "OK");
    await page.locator('#redis-console .client-tab[data-client="1"]').click();
    const killed = page.locator("#redis-console [role=log]:not([hidden]) .output.received").last();
    await killed.waitFor();
    assert.match(await killed.textContent(), /^\(error\) ERR Script killed by user with SCRIPT KILL\./);
    const after = await redis(page, "GET hits");
    assert.equal(await after.locator(".output").textContent(), '"2"');
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  } finally {
    await context.close();
  }
});

test("redis.log lines show under the reply that wrote them, as the server's log file has them", async () => {
  await withPage(harness, async (page) => {
    const logged = await redis(
      page,
      "EVAL \"redis.log(redis.LOG_WARNING, 'low stock:', ARGV[1]) redis.log(redis.LOG_NOTICE, '<b>restocked</b>') " +
        "redis.log(redis.LOG_VERBOSE, 'v') redis.log(redis.LOG_DEBUG, 'd') return 1\" 0 3",
    );
    assert.equal(await logged.locator(".output").textContent(), "(integer) 1");
    const block = logged.locator(".script-log");
    assert.equal(await block.getAttribute("aria-label"), "Server log");
    assert.deepEqual(await block.locator(".log-line").allTextContents(), [
      "# low stock: 3",
      "* <b>restocked</b>",
      "- v",
      ". d",
    ]);
    // The message is text: markup in it is shown, never parsed.
    assert.equal(await block.locator("b").count(), 0);
    assert.deepEqual(await block.locator(".log-line").evaluateAll((spans) => spans.map((s) => s.className)), [
      "log-line log-warning",
      "log-line log-notice",
      "log-line log-verbose",
      "log-line log-debug",
    ]);
    // Under the reply, and only once: the next command has no log of its own.
    assert.equal(await logged.locator(".output + .script-log").count(), 1);
    const next = await redis(page, "PING");
    assert.equal(await next.locator(".script-log").count(), 0);

    // A function's log shows under its FCALL.
    const load = await redis(
      page,
      "FUNCTION LOAD \"#!lua name=shop\\nredis.register_function('sell', function(keys) " +
        "local left = redis.call('DECR', keys[1]) if left < 0 then redis.log(redis.LOG_WARNING, 'oversold ' .. keys[1]) end " +
        "return left end)\"",
    );
    assert.equal(await load.locator(".output").textContent(), '"shop"');
    const sold = await redis(page, "FCALL sell 1 item:1");
    assert.equal(await sold.locator(".output").textContent(), "(integer) -1");
    assert.deepEqual(await sold.locator(".script-log .log-line").allTextContents(), ["# oversold item:1"]);
  });
});

test("Function libraries and cached scripts survive a page reload", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    const output = async (line) => (await (await redis(page, line)).locator(".output").textContent()).trim();
    assert.equal(
      await output("FUNCTION LOAD \"#!lua name=greet\\nredis.register_function('hello', function(keys, args) redis.log(redis.LOG_NOTICE, 'greeted ' .. args[1]) return 'hi ' .. args[1] end)\""),
      '"greet"',
    );
    assert.equal(await output('SCRIPT LOAD "return 1"'), '"e0e1f9fabfc9d4800c877a703b823ac0578ff8db"');
    await page.evaluate(() => window.app.persistence.idle());
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 20_000 });

    const called = await redis(page, "FCALL hello 0 Ada");
    assert.equal(await called.locator(".output").textContent(), '"hi Ada"');
    assert.deepEqual(await called.locator(".script-log .log-line").allTextContents(), ["* greeted Ada"]);
    assert.equal(await output("EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0"), "(integer) 1");
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  } finally {
    await context.close();
  }
});
