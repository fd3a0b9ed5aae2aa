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
    const spin = await redis(page, 'EVAL "local i = 0 while true do i = i + 1 end" 0');
    assert.match(await spin.locator(".output").textContent(), /^\(error\) ERR Script killed by user with SCRIPT KILL\./);
    const after = await redis(page, "GET hits");
    assert.equal(await after.locator(".output").textContent(), '"2"');
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  } finally {
    await context.close();
  }
});
