// The page loads the engine's first module (a Redis sandbox: no Lua engine, no RediSearch, no
// RedisJSON, no streams, no GEO* commands, no MongoDB engine, no driver snippets) and switches to the full one the first time something needs
// it, carrying the whole sandbox over (www/js/engine.js).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { NOT_RECORDED, RECORDED } from "../../www/js/engine.js";
import { ROOT, mongo, openLesson, redis, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

/**
 * A fresh page whose requests for the full module are noted in `fetched` (or refused, with
 * `offline`), and those for the first module in `first`.
 */
async function open({ offline = false, url = harness.url } = {}) {
  const context = await harness.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const fetched = [];
  const first = [];
  const errors = [];
  await context.route("**/pkg-full/**", (route) => {
    fetched.push(new URL(route.request().url()).pathname);
    return offline ? route.abort("internetdisconnected") : route.continue();
  });
  await context.route("**/pkg/**", (route) => {
    first.push(new URL(route.request().url()).pathname);
    return route.continue();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(url);
  if (url === harness.url) await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 10_000 });
  return { context, page, fetched, first, errors };
}

const FULL_MODULE = ["/pkg-full/nosql_playground.js", "/pkg-full/nosql_playground_bg.wasm"];

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

/** Saves the sandbox, reloads, and checks the page came back in the full module, fetched once. */
async function reloadedInFull(page, fetched) {
  await page.evaluate(() => window.app.persistence.idle());
  fetched.length = 0;
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 10_000 });
  assert.equal(await isFull(page), true);
  assert.deepEqual(fetched.sort(), FULL_MODULE);
}

test("RECORDED lists exactly the Playground methods that take &mut self, but the stepped save's", () => {
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
  assert.deepEqual([...mutating].sort(), [...RECORDED, ...NOT_RECORDED].sort());
});

test("EVAL loads the full module once and the sandbox carries over: clients, MULTI, subscriptions", async () => {
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
    assert.deepEqual(fetched.sort(), FULL_MODULE);

    // Nothing else changed: the transaction still runs, the subscriber still hears, and the
    // script's write is the only one.
    await typed(page, ".client 2");
    assert.equal(await output(await redis(page, "EXEC")), '1) (integer) 43\n2) "x"');
    assert.equal(await output(await redis(page, "PUBLISH news hello")), "(integer) 1");
    await typed(page, ".client 3");
    const received = visibleLog(page).locator(".output.received").last();
    await received.waitFor();
    assert.equal(await received.textContent(), '1) "message"\n2) "news"\n3) "hello"');
    await typed(page, ".client 1");
    assert.equal(await output(await redis(page, "GET hits")), '"43"');

    // Later scripts, Mongo input and snippets need no further fetch.
    assert.equal(await output(await redis(page, 'EVAL "return 7" 0')), "(integer) 7");
    assert.match(await output(await mongo(page, "db.t.insertOne({_id: 1})")), /acknowledged: true/);
    assert.equal(await page.locator("#mongo-console .engine-note").count(), 0);
    assert.equal(fetched.length, 2);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

for (const name of ["evalsha", "json.get", "XADD", "geosearch"]) {
  test(`typing ${name} fetches the full module before Enter, without switching`, async () => {
    const { context, page, fetched, errors } = await open();
    try {
      await page.getByRole("textbox", { name: "Redis command" }).fill("ZADD k 1 m");
      await page.waitForTimeout(300);
      assert.deepEqual(fetched, []);
      await page.getByRole("textbox", { name: "Redis command" }).fill(name);
      for (let i = 0; i < 100 && fetched.length < 2; i++) await page.waitForTimeout(100);
      assert.deepEqual(fetched.sort(), FULL_MODULE);
      assert.equal(await isFull(page), false);
      assert.deepEqual(errors.map(String), []);
    } finally {
      await context.close();
    }
  });
}

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

test("when the full module cannot load, the script and the Mongo statement say so and the sandbox goes on in the first module", async () => {
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
    const statement = await mongo(page, "db.t.insertOne({_id: 1})");
    assert.match(await output(statement), /^\(sandbox\) the MongoDB engine could not be loaded \(.+\), so this did not run\./);
    assert.equal(await statement.locator(".output.error").count(), 1);
    assert.equal(await page.locator("#mongo-console .engine-note").textContent(), "(sandbox) loading the MongoDB engine… failed");
    assert.equal(await isFull(page), false);

    // Back online, the next script loads it.
    await context.unroute("**/pkg-full/**");
    assert.equal(await output(await typed(page, 'EVAL "return redis.call(\'GET\', \'k\')" 0')), '"2"');
    assert.equal(await isFull(page), true);
    assert.match(await output(await mongo(page, "db.t.insertOne({_id: 1})")), /acknowledged: true/);
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
    await reloadedInFull(page, fetched);
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

test("each embed switches on its own, a Mongo-only one starts in the full module; the page fetches it once", async () => {
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
    // sandbox-find shows only the Mongo console; sandbox-both's setup has a Mongo statement.
    assert.deepEqual(fetched.sort(), FULL_MODULE);
    assert.equal(await embedIsFull(page, "sandbox-find"), true);
    assert.equal(await embedIsFull(page, "sandbox-both"), true);
    assert.equal(await embedIsFull(page, "sandbox-strings"), false);
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

/** The session each share link test makes, and what the opened link must answer. */
const SHARED = [
  {
    what: "runs Lua opens in the full module, its script replayed",
    async session(page) {
      await redis(page, "SET n 1");
      await typed(page, "EVAL \"return redis.call('INCRBY', KEYS[1], 10)\" 1 n");
    },
    answers: [[redis, "GET n", '"11"']],
  },
  {
    what: "has Mongo lines opens in the full module",
    async session(page) {
      await redis(page, "SET n 1");
      await mongo(page, "db.c.insertOne({_id: 5})");
    },
    answers: [[mongo, "db.c.findOne()._id", "5"], [redis, "GET n", '"1"']],
  },
];

for (const { what, session, answers } of SHARED) {
  test(`a share link whose session ${what}`, async () => {
    const first = await open();
    let link;
    try {
      await session(first.page);
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
      for (const [console, line, reply] of answers) assert.equal(await output(await console(page, line)), reply, line);
      assert.deepEqual(errors.map(String), []);
    } finally {
      await context.close();
    }
  });
}

test("a Redis session never fetches the full module: the core types, the panels, a reload", async () => {
  const { context, page, fetched, errors } = await open();
  try {
    for (const [line, reply] of [
      ["SET k v EX 100", "OK"],
      ["HSET h f 1", "(integer) 1"],
      ["ZADD board 10 ada", "(integer) 1"],
      ["SADD tags a b", "(integer) 2"],
      ["SCAN 0 TYPE stream", '1) "0"\n2) (empty array)'],
    ]) {
      assert.equal(await output(await redis(page, line)), reply, line);
    }
    await page.evaluate(() => window.app.persistence.idle());
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 10_000 });
    assert.equal(await output(await redis(page, "ZSCORE board ada")), '"10"');
    assert.equal(await page.locator("collections-panel").count(), 1);
    assert.equal(await isFull(page), false);
    assert.deepEqual(fetched, []);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

/**
 * The first line of each module family the first module leaves out: it loads the full module
 * and answers as the real server does, and the lines before it (of the first module) carry over.
 */
const FAMILIES = [
  {
    part: "JSON module",
    before: [["SET n 1", "OK"]],
    lines: [
      ['JSON.SET doc $ \'{"n":1,"tags":["a"]}\'', "OK"],
      ["JSON.ARRAPPEND doc $.tags '\"b\"'", "1) (integer) 2"],
      ["JSON.GET doc $.tags", '"[[\\"a\\",\\"b\\"]]"'],
      ["TYPE doc", "ReJSON-RL"],
      ["GET n", '"1"'],
    ],
  },
  {
    part: "stream commands",
    before: [["LPUSH jobs a", "(integer) 1"]],
    lines: [
      ["XADD events 1-1 kind view", '"1-1"'],
      ["XADD events 2-1 kind buy", '"2-1"'],
      ["XRANGE events - + COUNT 1", '1) 1) "1-1"\n   2) 1) "kind"\n      2) "view"'],
      ["XLEN events", "(integer) 2"],
      ["LLEN jobs", "(integer) 1"],
    ],
  },
  {
    // GEO* sets are sorted sets: ZADD stays in the first module, GEOADD does not.
    part: "geo commands",
    before: [["ZADD shops 1 corner", "(integer) 1"]],
    lines: [
      ["GEOADD shops 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "(integer) 2"],
      ["GEODIST shops Palermo Catania km", '"166.2742"'],
      ["GEOHASH shops Palermo", '1) "sqc8b49rny0"'],
      ["ZSCORE shops corner", '"1"'],
    ],
  },
  {
    // An HLL is a string: the first module reads one; only the PF* commands switch.
    part: "HyperLogLog commands",
    before: [["SET n 1", "OK"]],
    lines: [
      ["PFADD visitors a b c", "(integer) 1"],
      ["PFCOUNT visitors", "(integer) 3"],
      ["TYPE visitors", "string"],
      ["GET n", '"1"'],
    ],
  },
  {
    part: "bitmap commands",
    before: [["SET n 1", "OK"]],
    lines: [
      ["SETBIT online 7 1", "(integer) 0"],
      ["GETBIT online 7", "(integer) 1"],
      ["BITCOUNT online", "(integer) 1"],
      ["GET online", '"\\x01"'],
    ],
  },
  {
    part: "SORT command",
    before: [["RPUSH nums 3 1 2", "(integer) 3"]],
    lines: [
      ["SORT nums", '1) "1"\n2) "2"\n3) "3"'],
      ["SORT nums DESC LIMIT 0 2", '1) "3"\n2) "2"'],
    ],
  },
  {
    // A first module never holds a script or a library, so SCRIPT and FUNCTION go with Lua.
    part: "Lua engine",
    before: [["SET n 1", "OK"]],
    lines: [
      ["SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1) (integer) 0"],
      ["FUNCTION LIST", "(empty array)"],
      ["GET n", '"1"'],
    ],
  },
  {
    part: "ZUNION, ZINTER and ZDIFF commands",
    before: [["ZADD a 1 x 2 y", "(integer) 2"], ["ZADD b 3 y", "(integer) 1"]],
    lines: [
      ["ZUNION 2 a b WITHSCORES", '1) "x"\n2) "1"\n3) "y"\n4) "5"'],
      ["ZINTERSTORE d 2 a b", "(integer) 1"],
      ["ZINTERCARD 2 a b", "(integer) 1"],
    ],
  },
  {
    part: "LCS command",
    before: [["MSET a ohmytext b mynewtext", "OK"]],
    lines: [
      ["LCS a b", '"mytext"'],
      ["LCS a b LEN", "(integer) 6"],
    ],
  },
  {
    part: "COPY command",
    before: [["SET a 1", "OK"]],
    lines: [
      ["COPY a b", "(integer) 1"],
      ["GET b", '"1"'],
    ],
  },
  {
    part: "OBJECT, MEMORY, DEBUG and SLOWLOG commands",
    before: [["SET n 1", "OK"]],
    lines: [
      ["OBJECT ENCODING n", '"int"'],
      ["GET n", '"1"'],
    ],
  },
  {
    part: "hash field expiry commands",
    before: [["HSET h f v", "(integer) 1"]],
    lines: [
      ["HEXPIRE h 100 FIELDS 1 f", "1) (integer) 1"],
      ["HPERSIST h FIELDS 1 f", "1) (integer) 1"],
      ["HTTL h FIELDS 1 f", "1) (integer) -1"],
      ["HGET h f", '"v"'],
    ],
  },
  {
    // COMMAND and its subcommands read the table's metadata, which the docs part holds.
    part: "command docs",
    before: [["SET n 1", "OK"]],
    lines: [
      ["COMMAND GETKEYS SET k v", '1) "k"'],
      ["GET n", '"1"'],
    ],
  },
];

for (const { part, before, lines } of FAMILIES) {
  test(`the first line of the ${part} loads the full module and answers as the server does`, async () => {
    const { context, page, fetched, errors } = await open();
    try {
      for (const [line, reply] of before) assert.equal(await output(await redis(page, line)), reply, line);
      await page.waitForTimeout(300);
      assert.deepEqual(fetched, [], "lines of the first module fetch nothing");
      assert.equal(await isFull(page), false);
      for (const [line, reply] of lines) assert.equal(await output(await typed(page, line)), reply, line);
      assert.equal(await isFull(page), true);
      assert.equal(await visibleLog(page).locator(".engine-note").textContent(), `(sandbox) loading the ${part}… done`);
      assert.deepEqual(fetched.sort(), FULL_MODULE);
      assert.deepEqual(errors.map(String), []);
    } finally {
      await context.close();
    }
  });
}

test("HELP <command> and COMMAND DOCS load the full module, whose table has the docs' prose; the hints need no switch", async () => {
  const { context, page, fetched, errors } = await open();
  try {
    const input = page.getByRole("textbox", { name: "Redis command" });
    await input.fill("SET k v EX ");
    assert.equal(await page.locator("#redis-console .hint-text").textContent(), "seconds [NX|XX|IFEQ comparison-value] [GET]");
    assert.match(await output(await redis(page, "HELP")), /^redis-cli /);
    await page.waitForTimeout(300);
    assert.deepEqual(fetched, []);
    const help = await output(await typed(page, "HELP GET"));
    assert.match(help, /^\s*GET key\n\s*summary: Returns the string value of a key\.\n\s*since: 1\.0\.0\n\s*group: string\s*$/);
    assert.equal(await isFull(page), true);
    assert.equal(await visibleLog(page).locator(".engine-note").textContent(), "(sandbox) loading the command docs… done");
    assert.match(await output(await redis(page, "COMMAND DOCS GET")), /"summary"\n\s+2\) "Returns the string value of a key\."/);
    assert.deepEqual(fetched.sort(), FULL_MODULE);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("an XREAD that blocks loads the full module, waits there and is woken by another client's XADD", async () => {
  const { context, page, errors } = await open();
  const tab = (id) => page.locator(`#redis-console .client-tab[data-client="${id}"]`);
  try {
    await typed(page, ".client 2");
    const input = page.getByRole("textbox", { name: "Redis command" });
    await input.fill("XREAD BLOCK 0 STREAMS inbox $");
    await input.press("Enter");
    const waiting = page.locator("#redis-console [data-role=waiting]");
    await waiting.waitFor();
    assert.equal(await waiting.textContent(), "Waiting: XREAD BLOCK 0 STREAMS inbox 0-0 (until another client serves it)");
    assert.equal(await isFull(page), true);
    await tab(1).click();
    assert.equal(await output(await redis(page, "XADD inbox 5-1 msg hi")), '"5-1"');
    await tab(2).click();
    const received = visibleLog(page).locator(".output.received").last();
    await received.waitFor();
    assert.equal(await received.textContent(), '1) 1) "inbox"\n   2) 1) 1) "5-1"\n         2) 1) "msg"\n            2) "hi"');
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("a saved sandbox holding a stream or a JSON document is restored in the full module after a reload", async () => {
  for (const [line, check, reply] of [
    ["XADD s 1-1 f v", "XLEN s", "(integer) 1"],
    ["JSON.SET j $ 7", "JSON.GET j", '"7"'],
  ]) {
    const { context, page, fetched, errors } = await open();
    try {
      await typed(page, line);
      await reloadedInFull(page, fetched);
      assert.equal(await output(await redis(page, check)), reply, line);
      assert.deepEqual(errors.map(String), []);
    } finally {
      await context.close();
    }
  }
});

test("a saved sandbox holding a geo set reloads in the first module, drawn as a map", async () => {
  const { context, page, fetched, errors } = await open();
  try {
    await typed(page, "GEOADD g 13.361389 38.115556 Palermo");
    assert.equal(await isFull(page), true);
    await page.evaluate(() => window.app.persistence.idle());
    fetched.length = 0;
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 10_000 });
    assert.equal(await isFull(page), false);
    assert.equal(await output(await redis(page, "ZCARD g")), "(integer) 1");
    const detail = await page.evaluate(() => JSON.parse(window.app.playground.redisKeyDetail(0, "g", "", Date.now())));
    assert.equal(detail?.geo?.points?.length, 1);
    assert.deepEqual(fetched, []);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("the first Mongo statement loads the MongoDB engine and answers; the Redis sandbox carries over", async () => {
  const { context, page, fetched, errors } = await open();
  try {
    assert.equal(await output(await redis(page, "SET hits 41")), "OK");
    await typed(page, ".client 2");
    assert.equal(await output(await redis(page, "MULTI")), "OK");
    assert.equal(await output(await redis(page, "INCR hits")), "QUEUED");
    await page.waitForTimeout(300);
    assert.deepEqual(fetched, []);

    const statement = await mongo(page, 'db.people.insertOne({_id: 1, name: "ada"})');
    assert.match(await output(statement), /acknowledged: true/);
    assert.equal(await isFull(page), true);
    assert.equal(await page.locator("#mongo-console .engine-note").textContent(), "(sandbox) loading the MongoDB engine… done");
    assert.deepEqual(fetched.sort(), FULL_MODULE);
    assert.equal(await output(await mongo(page, "db.people.findOne().name")), "ada");
    assert.equal(await output(await redis(page, "EXEC")), "1) (integer) 42");
    assert.equal(fetched.length, 2);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("Enter on an unfinished Mongo statement before the engine has loaded starts a new line", async () => {
  const { context, page, errors } = await open();
  try {
    const input = page.getByRole("textbox", { name: "Mongo shell" });
    await input.fill("db.t.insertOne({");
    await input.press("Enter");
    await page.waitForFunction(() => window.app.playground.isFull, null, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector("#mongo-console textarea").value.endsWith("\n"));
    assert.equal(await input.inputValue(), "db.t.insertOne({\n");
    assert.equal(await page.locator("#mongo-console .entry").count(), 0);
    await input.press("End");
    await input.pressSequentially("_id: 7})");
    await input.press("Enter");
    const entry = page.locator("#mongo-console .entry").first();
    await entry.locator(".output").waitFor();
    assert.match(await output(entry), /insertedId: 7/);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("Tab in the Mongo editor before the engine has loaded completes once it has", async () => {
  const { context, page, errors } = await open();
  try {
    const input = page.getByRole("textbox", { name: "Mongo shell" });
    await input.fill("db.posts.insertO");
    await input.press("Tab");
    await page.waitForFunction(() => window.app.playground.isFull, null, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector("#mongo-console textarea").value !== "db.posts.insertO");
    assert.equal(await input.inputValue(), "db.posts.insertOne");
    assert.ok(await input.evaluate((el) => el === document.activeElement), "Tab kept the focus");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("a saved sandbox holding Mongo data is restored in the full module after a reload", async () => {
  const { context, page, fetched, errors } = await open();
  try {
    await redis(page, "SET k v");
    assert.match(await output(await mongo(page, "db.c.insertOne({_id: 1})")), /acknowledged: true/);
    await reloadedInFull(page, fetched);
    assert.equal(await output(await mongo(page, "db.c.countDocuments()")), "1");
    assert.equal(await output(await redis(page, "GET k")), '"v"');
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});


test("an embed showing only the Mongo console loads the full module and never the first", async () => {
  const { context, page, fetched, first, errors } = await open({ url: `${harness.url}embed.html?engines=mongo` });
  try {
    await page.waitForFunction(() => document.querySelector("nosql-playground")?.dataset.ready === "true", null, { timeout: 20_000 });
    assert.equal(await page.evaluate(() => document.querySelector("nosql-playground").sandbox.playground.isFull), true);
    assert.deepEqual(fetched.sort(), FULL_MODULE);
    assert.deepEqual(first, []);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("the first FT.* line loads the search module; a reload with a search index starts in the full module", async () => {
  const { context, page, fetched, errors } = await open();
  try {
    await redis(page, "HSET doc:1 title hello");
    await page.waitForTimeout(300);
    assert.deepEqual(fetched, []);
    const create = await typed(page, "FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA title TEXT");
    assert.equal(await output(create), "OK");
    assert.equal(await isFull(page), true);
    assert.equal(await visibleLog(page).locator(".engine-note").textContent(), "(sandbox) loading the search module… done");
    assert.match(await output(await redis(page, "FT.SEARCH idx hello")), /^1\) \(integer\) 1/);
    await reloadedInFull(page, fetched);
    assert.match(await output(await redis(page, "FT.SEARCH idx hello")), /^1\) \(integer\) 1/);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("opening a lesson that uses Mongo loads the full module; a Redis lesson does not", async () => {
  for (const [id, full] of [["redis-strings-ttl", false], ["mongo-documents", true]]) {
    const { context, page, fetched, errors } = await open();
    try {
      await openLesson(page, id);
      if (full) await page.waitForFunction(() => window.app.playground.isFull, null, { timeout: 10_000 });
      else await page.waitForTimeout(500);
      assert.equal(await isFull(page), full, id);
      assert.deepEqual(fetched.sort(), full ? FULL_MODULE : [], id);
      assert.deepEqual(errors.map(String), []);
    } finally {
      await context.close();
    }
  }
});
