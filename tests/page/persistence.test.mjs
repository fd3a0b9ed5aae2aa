import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { mongo, redis, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

/** A page in `context` (which keeps IndexedDB between pages) at `url`, ready to type into. */
async function open(context, url = harness.url) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), "true");
  page.errors = errors;
  return page;
}

const outputOf = async (entry) => (await entry.locator(".output").textContent()).trim();
const idle = (page) => page.evaluate(() => window.app.persistence.idle());

async function reload(page) {
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 20_000 });
}

/** Overwrites the current snapshot's bytes in IndexedDB with `mutate(bytes)`. */
function damageSnapshot(page, how) {
  return page.evaluate(async (how) => {
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open("nosql-playground", 1);
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const store = () => db.transaction("snapshots", "readwrite").objectStore("snapshots");
    const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const key = await req(store().get("current"));
    const record = await req(store().get(key));
    const bytes = new Uint8Array(record.bytes);
    if (how === "checksum") bytes[bytes.length - 5] ^= 0xff;
    if (how === "version") bytes[8] = 9;
    if (how === "truncate") record.bytes = bytes.slice(0, 40);
    else record.bytes = bytes;
    await req(store().put(record, key));
    db.close();
  }, how);
}

function setAsideKeys(page) {
  return page.evaluate(() => window.app.persistence.setAsideKeys());
}

test("Redis keys with TTLs, documents, indexes, histories and the clock survive a reload", async () => {
  const context = await harness.browser.newContext();
  try {
    const page = await open(context);
    await redis(page, ".time pause");
    await redis(page, "SET session:1 data EX 3600");
    await redis(page, "HSET user:1 name Ada email a@example.com");
    await redis(page, "HPEXPIRE user:1 600000 FIELDS 1 email");
    await redis(page, "SELECT 2");
    await redis(page, "RPUSH queue a b c");
    await mongo(page, "db.posts.insertOne({ _id: 1, title: 'Hello', views: NumberLong(10) })");
    await mongo(page, "db.posts.createIndex({ title: 1 }, { unique: true })");
    await redis(page, "SELECT 0");
    const pexpiretime = await outputOf(await redis(page, "PEXPIRETIME session:1"));
    const fieldTime = await outputOf(await redis(page, "HPEXPIRETIME user:1 FIELDS 1 email"));
    const now = await page.evaluate(() => window.app.playground.now(Date.now()));
    await redis(page, "SELECT 2");
    await idle(page);
    // Histories come back from the snapshot, not only from localStorage.
    await page.evaluate(() => localStorage.clear());
    await reload(page);

    // The console is on the database it had selected.
    assert.match(await page.locator("#redis-console [data-role=prompt]").textContent(), /\[2\]>/);
    assert.match(await outputOf(await redis(page, "LRANGE queue 0 -1")), /1\) "a"\s+2\) "b"\s+3\) "c"/);
    await redis(page, "SELECT 0");
    assert.equal(await outputOf(await redis(page, "PEXPIRETIME session:1")), pexpiretime);
    assert.equal(await outputOf(await redis(page, "HPEXPIRETIME user:1 FIELDS 1 email")), fieldTime);
    assert.equal(await outputOf(await redis(page, "HGET user:1 name")), '"Ada"');
    const docs = await outputOf(await mongo(page, "db.posts.find()"));
    assert.match(docs, /title: 'Hello'/);
    assert.match(docs, /views: Long\('10'\)/);
    assert.match(await outputOf(await mongo(page, "db.posts.getIndexes()")), /name: 'title_1',\s+unique: true/);
    const state = await page.evaluate(() => ({
      paused: window.app.playground.isPaused(),
      now: window.app.playground.now(Date.now()),
      redisHistory: window.app.redis.history.entries,
      mongoHistory: window.app.mongo.history.entries,
    }));
    assert.equal(state.paused, true);
    assert.equal(state.now, now);
    assert.ok(state.redisHistory.includes("SET session:1 data EX 3600"), JSON.stringify(state.redisHistory));
    assert.ok(state.mongoHistory.some((e) => e.startsWith("db.posts.createIndex")));
    assert.deepEqual(page.errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("closing and reopening mid-script loses at most the commands after the last completed save", async () => {
  const context = await harness.browser.newContext();
  let ran = 0;
  let saved = 0;
  // A fixed pattern of script lengths and waits, so a failure replays exactly.
  const rounds = [
    { steps: 5, waitForSave: true },
    { steps: 7, waitForSave: false },
    { steps: 3, waitForSave: true },
    { steps: 9, waitForSave: false },
    { steps: 1, waitForSave: false },
  ];
  try {
    for (const round of [...rounds, { steps: 0 }]) {
      const page = await open(context);
      const n = await page.evaluate(() => {
        const text = window.app.playground.redis("GET n", Date.now()).trim();
        // A page restored without Mongo data is still in the first module, which has no Mongo engine.
        const { playground } = window.app;
        const docs = playground.mongoNeedsFull ? 0 : Number(playground.mongo("db.steps.countDocuments()", Date.now()).trim());
        return { n: text === "(nil)" ? 0 : Number(JSON.parse(text)), docs };
      });
      // The state is that after some whole step between the last completed save and the
      // last command run: never older, never newer, never a mixture of two saves.
      assert.ok(n.n >= saved && n.n <= ran, `restored ${n.n}, saved ${saved}, ran ${ran}`);
      assert.ok(n.docs === n.n || n.docs === n.n - 1, `${n.docs} documents for n = ${n.n}`);
      ran = n.n;
      saved = n.n;
      for (let i = 0; i < round.steps; i += 1) {
        await page.evaluate(() => {
          window.app.redis.run("INCR n");
          window.app.mongo.run("db.steps.insertOne({ at: new Date() })");
        });
        ran += 1;
      }
      if (round.waitForSave) {
        await idle(page);
        saved = ran;
      }
      assert.deepEqual(page.errors.map(String), []);
      await page.close();
    }
  } finally {
    await context.close();
  }
});

for (const [how, message] of [
  ["checksum", /checksum does not match/],
  ["version", /snapshot format version 9 is not supported/],
  ["truncate", /truncated/],
]) {
  test(`a snapshot with a bad ${how} is reported, set aside and downloadable, and the page goes on`, async () => {
    const context = await harness.browser.newContext({ acceptDownloads: true });
    try {
      const page = await open(context);
      await redis(page, "SET precious 1");
      await idle(page);
      await damageSnapshot(page, how);
      await reload(page);
      const notice = page.locator("[data-notice=set-aside]");
      await notice.waitFor();
      assert.match(await notice.textContent(), message);
      assert.match(await notice.textContent(), /set aside \(nothing was deleted\)/);
      assert.equal((await setAsideKeys(page)).length, 1);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        notice.getByRole("button", { name: "Download the set-aside snapshot" }).click(),
      ]);
      const bytes = await readFile(await download.path());
      assert.equal(bytes.subarray(0, 8).toString("latin1"), "NSQLSNAP");
      // The sandbox works, starting empty, and the next save does not touch the set-aside one.
      assert.equal(await outputOf(await redis(page, "GET precious")), "(nil)");
      await redis(page, "SET fresh 1");
      await idle(page);
      await reload(page);
      assert.equal(await outputOf(await redis(page, "GET fresh")), '"1"');
      assert.equal((await setAsideKeys(page)).length, 1);
      assert.deepEqual(page.errors.map(String), []);
    } finally {
      await context.close();
    }
  });
}

async function sessionLink(lines) {
  const context = await harness.browser.newContext();
  try {
    const page = await open(context);
    for (const [engine, line] of lines) {
      if (engine === "r") await redis(page, line);
      else await mongo(page, line);
    }
    return await page.evaluate(() => window.app.persistence.shareLink());
  } finally {
    await context.close();
  }
}

const SESSION = [
  ["r", "SETEX product:123 300 '{\"name\": \"Laptop\", \"price\": 999}'"],
  ["r", "INCR visits"],
  ["r", "INCR visits"],
  ["m", "db.posts.insertOne({ _id: 1, title: 'NoSQL', tags: ['nosql', 'redis'], views: 5 })"],
  ["m", "db.posts.updateOne({ _id: 1 }, { $inc: { views: 1 } })"],
  ["r", "ZADD board 10 ann 20 bob"],
];

test("a share link replays the session into a fresh sandbox", async () => {
  const link = await sessionLink(SESSION);
  assert.match(link, /#s=[A-Za-z0-9_-]+$/);
  console.log(`share link for a ${SESSION.length}-command session: ${link.length} characters`);
  const context = await harness.browser.newContext();
  try {
    const page = await open(context, link);
    await page.locator("[data-notice=shared]").waitFor();
    assert.equal(await outputOf(await redis(page, "GET visits")), '"2"');
    assert.match(await outputOf(await redis(page, "GET product:123")), /Laptop/);
    assert.match(await outputOf(await mongo(page, "db.posts.findOne()")), /views: 6/);
    assert.equal(await page.evaluate(() => location.hash), "");
    // The replayed commands are in the consoles, as if typed.
    assert.equal(await page.locator("#redis-console .entry").count(), 4 + 2);
    assert.deepEqual(page.errors.map(String), []);
  } finally {
    await context.close();
  }
});

/** Loads `url` as a new document (not a same-document fragment change) and waits for it. */
async function navigate(page, url) {
  await page.goto("about:blank");
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === "true");
}

/** A page in `context` holding saved work (`mine` is 1), then navigated to `url`. */
async function workThenOpen(context, url) {
  const page = await open(context);
  await redis(page, "SET mine 1");
  await idle(page);
  await navigate(page, url);
  return page;
}

test("a share link asks before replacing existing work, and keeps it either way", async () => {
  const link = await sessionLink([["r", "SET shared yes"]]);
  const context = await harness.browser.newContext();
  try {
    const page = await workThenOpen(context, link);
    const ask = page.locator("[data-notice=share-ask]");
    await ask.waitFor();
    await ask.getByRole("button", { name: "Keep my work" }).click();
    assert.equal(await outputOf(await redis(page, "GET mine")), '"1"');
    assert.equal(await outputOf(await redis(page, "GET shared")), "(nil)");

    await navigate(page, link);
    await page.locator("[data-notice=share-ask]").getByRole("button", { name: "Open the shared session" }).click();
    await page.locator("[data-notice=shared]").waitFor();
    assert.equal(await outputOf(await redis(page, "GET shared")), '"yes"');
    assert.equal(await outputOf(await redis(page, "GET mine")), "(nil)");
    assert.equal((await setAsideKeys(page)).length, 1);
    await page.locator("[data-notice=replaced]").waitFor();
  } finally {
    await context.close();
  }
});

for (const [fragment, message] of [
  ["#s=!!not-base64!!", /cannot be opened: the link is damaged or incomplete/],
  ["#s=AAAA", /cannot be opened: the link is damaged or incomplete/],
  ["#s=", /cannot be opened/],
]) {
  test(`a malformed share link (${fragment}) says so and leaves the work alone`, async () => {
    const context = await harness.browser.newContext();
    try {
      const page = await workThenOpen(context, harness.url + fragment);
      const notice = page.locator("[data-notice=share-error]");
      await notice.waitFor();
      assert.match(await notice.textContent(), message);
      assert.equal(await outputOf(await redis(page, "GET mine")), '"1"');
    } finally {
      await context.close();
    }
  });
}

test("a share link with a valid encoding but a wrong payload is refused clearly", async () => {
  const context = await harness.browser.newContext();
  try {
    const page = await open(context);
    const bad = await page.evaluate(async () => {
      const { encodeShare, decodeShare } = await import("./js/persistence.js");
      const payload = await encodeShare([["x", 1]]);
      return decodeShare(payload).then(() => "accepted", (e) => e.message);
    });
    assert.equal(bad, "the link's session has malformed lines");
  } finally {
    await context.close();
  }
});

test("export and import of the whole state, and the exports for real servers", async () => {
  const context = await harness.browser.newContext({ acceptDownloads: true });
  try {
    const page = await open(context);
    await redis(page, "SET k v EX 100");
    await mongo(page, "db.c.insertOne({ _id: 1, n: NumberInt(3) })");
    const [file] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export state" }).click(),
    ]);
    const path = await file.path();
    const [script] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("combobox", { name: "Export for a real server" }).selectOption("redis-cli"),
    ]);
    assert.match(await readFile(await script.path(), "utf8"), /^SET k v PX \d+$/m);
    const [mongosh] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("combobox", { name: "Export for a real server" }).selectOption("mongosh"),
    ]);
    assert.match(await readFile(await mongosh.path(), "utf8"), /insertMany\(EJSON\.deserialize\(\[\{"_id":\{"\$numberInt":"1"\},"n":\{"\$numberInt":"3"\}\}\]/);

    const other = await harness.browser.newContext();
    try {
      const fresh = await open(other);
      // A file that is not a snapshot is refused and changes nothing.
      await fresh.locator("input[type=file]").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
      await fresh.locator("[data-notice=import]").waitFor();
      assert.match(await fresh.locator("[data-notice=import]").textContent(), /notes\.txt was not imported: this is not a nosql-playground snapshot/);
      await fresh.locator("[data-notice=import]").getByRole("button", { name: "Dismiss" }).click();
      await fresh.locator("input[type=file]").setInputFiles(path);
      await fresh.locator("[data-notice=import]", { hasText: "Imported" }).waitFor();
      assert.equal(await outputOf(await redis(fresh, "GET k")), '"v"');
      assert.match(await outputOf(await mongo(fresh, "db.c.findOne()")), /n: 3/);
    } finally {
      await other.close();
    }
  } finally {
    await context.close();
  }
});
