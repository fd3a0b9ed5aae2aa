// The page loads the engine's first module (no Lua engine, no driver snippets) and switches
// to the full one the first time something needs it, carrying the whole sandbox over
// (www/js/engine.js).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { RECORDED } from "../../www/js/engine.js";
import { ROOT, mongo, redis, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

/** A fresh page whose requests for the full module are noted (or refused, with `offline`). */
async function open({ offline = false } = {}) {
  const context = await harness.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const fetched = [];
  const errors = [];
  await context.route("**/pkg-full/**", (route) => {
    fetched.push(new URL(route.request().url()).pathname);
    return offline ? route.abort("internetdisconnected") : route.continue();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(harness.url);
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 10_000 });
  return { context, page, fetched, errors };
}

const output = async (entry) => (await entry.locator(".output").textContent()) ?? "";
const isFull = (page) => page.evaluate(() => window.app.playground.isFull);
const visibleLog = (page) => page.locator("#redis-console [role=log]:not([hidden])");

/** Types `line` and waits for the entry that echoes it (a line waiting for the engine comes later). */
async function typed(page, line) {
  const input = page.getByRole("textbox", { name: "Redis command" });
  await input.fill(line);
  await input.press("Enter");
  const entry = visibleLog(page).locator(".entry").filter({ has: page.locator(".echo-input", { hasText: line }) }).last();
  await entry.locator(".output").waitFor();
  return entry;
}

test("RECORDED lists exactly the Playground methods that take &mut self", () => {
  const source = readFileSync(join(ROOT, "src", "wasm.rs"), "utf8");
  const mutating = [];
  let jsName = null;
  for (const line of source.split("\n")) {
    const attr = /#\[wasm_bindgen\(js_name = (\w+)\)\]/.exec(line);
    if (attr) jsName = attr[1];
    const fn = /^\s*pub fn (\w+)\(([^)]*)/.exec(line);
    if (fn) {
      if (fn[2].startsWith("&mut self")) mutating.push(jsName ?? fn[1]);
      jsName = null;
    }
  }
  assert.deepEqual([...mutating].sort(), [...RECORDED].sort());
});

test("EVAL loads the full module once and the sandbox carries over: clients, MULTI, subscriptions, mongosh variables, cursors, transactions", async () => {
  const { context, page, fetched, errors } = await open();
  try {
    assert.equal(await isFull(page), false);
    assert.equal(await output(await redis(page, "SET hits 41")), "OK");
    assert.equal(await output(await redis(page, "SET other x")), "OK");
    // Client 2 in the middle of a transaction.
    await typed(page, ".client 2");
    assert.equal(await output(await redis(page, "MULTI")), "OK");
    assert.equal(await output(await redis(page, "INCR hits")), "QUEUED");
    assert.equal(await output(await redis(page, "GET other")), "QUEUED");
    // Client 3 subscribed.
    await typed(page, ".client 3");
    assert.match(await output(await redis(page, "SUBSCRIBE news")), /"subscribe"/);
    // A mongosh variable and a document.
    await mongo(page, 'let who = "ada"');
    await mongo(page, "db.people.insertOne({_id: 1, name: who})");
    // A cursor with more to show, and a transaction still open.
    await mongo(page, "for (let i = 0; i < 25; i++) db.nums.insertOne({_id: i})");
    assert.match(await output(await mongo(page, "db.nums.find()")), /Type "it" for more/);
    await mongo(page, "const session = db.getMongo().startSession()");
    await mongo(page, "session.startTransaction()");
    await mongo(page, 'session.getDatabase("test").people.insertOne({_id: 2, name: "bo"})');
    await page.waitForTimeout(300);
    assert.deepEqual(fetched, [], "the full module is not fetched before a script runs");

    await typed(page, ".client 1");
    const script = await typed(page, "EVAL \"return redis.call('INCR', KEYS[1])\" 1 hits");
    assert.equal(await output(script), "(integer) 42");
    assert.equal(await isFull(page), true);
    assert.equal(
      await visibleLog(page).locator(".engine-note").textContent(),
      "(sandbox) loading the Lua engine… done",
    );
    assert.deepEqual(fetched.sort(), ["/pkg-full/nosql_playground.js", "/pkg-full/nosql_playground_bg.wasm"]);

    // Nothing else changed: the transaction still runs, the subscriber still hears, the
    // variable is still there, and the script's write is the only one.
    await typed(page, ".client 2");
    assert.equal(await output(await redis(page, "EXEC")), '1) (integer) 43\n2) "x"');
    assert.equal(await output(await redis(page, "PUBLISH news hello")), "(integer) 1");
    await typed(page, ".client 3");
    const received = visibleLog(page).locator(".output.received").last();
    await received.waitFor();
    assert.equal(await received.textContent(), '1) "message"\n2) "news"\n3) "hello"');
    assert.match(await output(await mongo(page, "who")), /ada/);
    assert.match(await output(await mongo(page, "db.people.findOne()")), /name: 'ada'/);
    const rest = await output(await mongo(page, "it"));
    assert.match(rest, /_id: 20\b/);
    assert.match(rest, /_id: 24\b/);
    assert.doesNotMatch(rest, /_id: 19\b/);
    assert.equal(await output(await mongo(page, "db.people.countDocuments()")), "1");
    await mongo(page, "session.commitTransaction()");
    assert.equal(await output(await mongo(page, "db.people.countDocuments()")), "2");
    await typed(page, ".client 1");
    assert.equal(await output(await redis(page, "GET hits")), '"43"');

    // Later scripts and snippets need no further fetch.
    assert.equal(await output(await redis(page, 'EVAL "return 7" 0')), "(integer) 7");
    assert.equal(fetched.length, 2);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("typing a scripting command's name fetches the full module before Enter, without switching", async () => {
  const { context, page, fetched, errors } = await open();
  try {
    await page.getByRole("textbox", { name: "Redis command" }).fill("GET k");
    await page.waitForTimeout(300);
    assert.deepEqual(fetched, []);
    await page.getByRole("textbox", { name: "Redis command" }).fill("evalsha");
    for (let i = 0; i < 100 && fetched.length < 2; i++) await page.waitForTimeout(100);
    assert.deepEqual(fetched.sort(), ["/pkg-full/nosql_playground.js", "/pkg-full/nosql_playground_bg.wasm"]);
    assert.equal(await isFull(page), false);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("input typed while the Lua engine loads waits and runs in order", async () => {
  const { context, page, errors } = await open();
  try {
    // Three lines entered at once: the script, then two that must see its write.
    const outputs = await page.evaluate(async () => {
      const { redis } = window.app;
      const results = [redis.run("EVAL \"return redis.call('SET', 'k', 'v')\" 0"), redis.run("APPEND k 2"), redis.run("GET k")];
      await Promise.all(results);
      return [...document.querySelectorAll("#redis-console [role=log]:not([hidden]) .entry .output")].map((e) => e.textContent);
    });
    assert.deepEqual(outputs, ["OK", "(integer) 2", '"v2"']);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("when the full module cannot load, the script says so and the sandbox goes on in the first module", async () => {
  const { context, page, fetched, errors } = await open({ offline: true });
  try {
    await redis(page, "SET k 1");
    await typed(page, ".client 2");
    await redis(page, "MULTI");
    await redis(page, "INCR k");
    const script = await typed(page, 'EVAL "return 1" 0');
    assert.match(await output(script), /^\(sandbox\) the Lua engine could not be loaded \(.+\), so this did not run\./);
    assert.equal(await script.locator(".output.error").count(), 1);
    assert.equal(await visibleLog(page).locator(".engine-note").textContent(), "(sandbox) loading the Lua engine… failed");
    assert.equal(await isFull(page), false);
    assert.ok(fetched.length > 0);
    // The sandbox is as it was: the transaction is still open.
    assert.equal(await output(await redis(page, "EXEC")), "1) (integer) 2");
    assert.match(await output(await mongo(page, "db.t.insertOne({_id: 1})")), /acknowledged: true/);

    // Back online, the next script loads it.
    await context.unroute("**/pkg-full/**");
    assert.equal(await output(await typed(page, 'EVAL "return redis.call(\'GET\', \'k\')" 0')), '"2"');
    assert.equal(await isFull(page), true);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("a saved sandbox holding a function library is restored in the full module after a reload", async () => {
  const { context, page, fetched, errors } = await open();
  try {
    const load = await typed(page, "FUNCTION LOAD \"#!lua name=lib\\nredis.register_function('hi', function() return 'hi' end)\"");
    assert.equal(await output(load), '"lib"');
    await page.evaluate(() => window.app.persistence.idle());
    fetched.length = 0;
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 10_000 });
    assert.equal(await isFull(page), true);
    assert.equal(fetched.length, 2);
    assert.equal(await output(await redis(page, "FCALL hi 0")), '"hi"');
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

/** Runs `line` in one embed's Redis console and returns its reply (a script's comes after the switch). */
async function inEmbed(page, id, line) {
  const log = page.locator(`#${id} #redis-console [role=log]:not([hidden])`);
  const input = page.locator(`#${id}`).getByRole("textbox", { name: "Redis command" });
  await input.fill(line);
  await input.press("Enter");
  const entry = log.locator(".entry").filter({ has: page.locator(".echo-input", { hasText: line }) }).last();
  await entry.locator(".output").waitFor();
  return entry.locator(".output").textContent();
}

const embedIsFull = (page, id) => page.evaluate((id) => document.getElementById(id).sandbox.playground.isFull, id);

test("each embed switches on its own; the page fetches the full module once", async () => {
  const context = await harness.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const fetched = [];
  await context.route("**/pkg-full/**", (route) => {
    fetched.push(new URL(route.request().url()).pathname);
    return route.continue();
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  try {
    await page.goto(`${harness.url}examples/course.html`);
    await page.waitForFunction(() => [...document.querySelectorAll("nosql-playground")].every((e) => e.dataset.ready === "true"), null, { timeout: 20_000 });
    assert.deepEqual(fetched, []);
    // sandbox-both's setup set hits to 0; sandbox-strings has no such key.
    assert.equal(await inEmbed(page, "sandbox-both", "EVAL \"return redis.call('INCR', KEYS[1])\" 1 hits"), "(integer) 1");
    assert.equal(await embedIsFull(page, "sandbox-both"), true);
    assert.equal(await embedIsFull(page, "sandbox-strings"), false);
    assert.equal(await inEmbed(page, "sandbox-strings", "EXISTS hits"), "(integer) 0");
    assert.equal(await inEmbed(page, "sandbox-strings", "EVAL \"return redis.call('INCR', KEYS[1])\" 1 hits"), "(integer) 1");
    assert.equal(await embedIsFull(page, "sandbox-strings"), true);
    assert.equal(fetched.length, 2, "the full module's code is fetched once for the page");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("an embed whose setup runs Lua sets up in the full module", async () => {
  const { context, page, errors } = await open();
  try {
    await page.goto(`${harness.url}embed.html?engines=redis&setup-redis=${encodeURIComponent("EVAL \"return redis.call('SET', 'k', 'from lua')\" 0")}`);
    await page.waitForFunction(() => document.querySelector("nosql-playground")?.dataset.ready === "true", null, { timeout: 20_000 });
    const reply = await page.evaluate(() => JSON.parse(document.querySelector("nosql-playground").sandbox.playground.redisCheck("GET k", Date.now())).ok);
    assert.equal(reply, '"from lua"\n');
    assert.equal(await page.locator("nosql-playground [data-role=setup-error]").count(), 0);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("a share link whose session runs Lua opens in the full module, its script replayed", async () => {
  const first = await open();
  let link;
  try {
    await redis(first.page, "SET n 1");
    await typed(first.page, "EVAL \"return redis.call('INCRBY', KEYS[1], 10)\" 1 n");
    link = await first.page.evaluate(() => window.app.persistence.shareLink());
  } finally {
    await first.context.close();
  }
  const { context, page, errors } = await open();
  try {
    await page.goto("about:blank");
    await page.goto(link);
    await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 10_000 });
    await page.locator("[data-notice=shared]").waitFor();
    assert.equal(await isFull(page), true);
    assert.equal(await output(await redis(page, "GET n")), '"11"');
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});
