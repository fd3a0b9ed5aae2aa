// Bad input from every door the page has: share links, imported files, lesson files, huge
// pastes and binary bytes. Each gets a clear message (or is handled), the student's work is
// left as it was, and the page goes on answering. What persistence.test.mjs, lessons.test.mjs
// and robustness.test.mjs already cover is not repeated here.

import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { after, before, test } from "node:test";
import { keyRow, mongo, openPage, redis, startHarness } from "./harness.mjs";
import { validateLesson } from "../../www/js/lesson-format.js";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

const outputOf = async (entry) => (await entry.locator(".output").last().textContent()).trim();

/** A fresh page with saved work (`mine` is 1), then sent to `fragment` as a new document. */
async function workThenOpen(fragment) {
  const { page, context, errors } = await openPage(harness);
  await redis(page, "SET mine 1");
  await page.evaluate(() => window.app.persistence.idle());
  await page.goto("about:blank");
  await page.goto(harness.url + fragment);
  await page.waitForFunction(() => document.body.dataset.ready === "true");
  return { page, context, errors };
}

/** `#s=` + a payload packed as the page packs one, from any JSON text (or raw bytes). */
async function fragmentOf(page, json) {
  return page.evaluate(async (json) => {
    const packed = new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("deflate-raw")));
    const bytes = new Uint8Array(await packed.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return "#s=" + btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }, json);
}

test("share links: truncated, junk, a wrong version, a decompression bomb, too many lines", async () => {
  const { page: maker, context: makerContext } = await openPage(harness);
  let cases;
  try {
    await redis(maker, "SET shared 1");
    const link = await maker.evaluate(() => window.app.persistence.shareLink());
    const good = link.slice(link.indexOf("#"));
    const lines = (n) => JSON.stringify({ v: 1, lines: Array.from({ length: n }, (_, i) => ["r", `SET k${i} v`]) });
    cases = [
      // Cut anywhere, a link is an incomplete deflate stream.
      [good.slice(0, Math.floor(good.length / 2)), /the link is damaged or incomplete/],
      [await fragmentOf(maker, "SET a 1\nGET a"), /the link's contents are not a session/],
      [await fragmentOf(maker, JSON.stringify({ v: 2, lines: [["r", "PING"]] })), /the link was made by an unknown version \(2\)/],
      [await fragmentOf(maker, JSON.stringify({ lines: [] })), /the link was made by an unknown version \(undefined\)/],
      // 40 MB of one repeated byte packs into about 40 KB.
      [await fragmentOf(maker, JSON.stringify({ v: 1, lines: [["r", `SET x ${"x".repeat(40 * 1024 * 1024)}`]] })), /the link's session is too large \(it unpacks to more than 16 MB\)/],
      [await fragmentOf(maker, lines(2001)), /the link holds 2001 lines, more than the 2000 a share link carries/],
      ["#s=" + "A".repeat(64), /the link is damaged or incomplete/],
    ];
  } finally {
    await makerContext.close();
  }
  for (const [fragment, message] of cases) {
    const { page, context, errors } = await workThenOpen(fragment);
    try {
      const notice = page.locator("[data-notice=share-error]");
      await notice.waitFor();
      const text = await notice.textContent();
      assert.match(text, message, `${fragment.slice(0, 40)}…`);
      assert.match(text, /Your own work is unchanged/);
      assert.equal(await outputOf(await redis(page, "GET mine")), '"1"');
      assert.equal(await outputOf(await redis(page, "GET shared")), "(nil)");
      assert.deepEqual(errors.map(String), []);
    } finally {
      await context.close();
    }
  }
});

test("a share link of 2000 lines opens; a session too big for a link keeps its newest lines", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    const limits = await page.evaluate(async () => {
      const { decodeShare, encodeShare } = await import("./js/persistence.js");
      const lines = Array.from({ length: 2000 }, (_, i) => ["r", `SET k${i} v`]);
      return (await decodeShare(await encodeShare(lines))).length;
    });
    assert.equal(limits, 2000);
    // Two 10 MB lines (random, so they do not pack): the link keeps only the newest that fit.
    const kept = await page.evaluate(async () => {
      const { decodeShare } = await import("./js/persistence.js");
      const big = (tag) => `SET ${tag} ${Array.from({ length: 10 * 1024 * 1024 / 8 }, () => Math.random().toString(36).slice(2, 10)).join("")}`;
      const persistence = window.app.persistence;
      persistence.lines = [["r", big("first")], ["r", big("second")], ["r", "SET last 1"]];
      const link = await persistence.shareLink();
      const lines = await decodeShare(link.slice(link.indexOf("#s=") + 3));
      return lines.map(([, text]) => text.split(" ", 2).join(" "));
    });
    assert.deepEqual(kept, ["SET second", "SET last"]);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("an imported snapshot that is truncated, corrupted, of another version or empty changes nothing", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    await redis(page, "SET mine 1");
    await mongo(page, "db.mine.insertOne({_id: 1})");
    const good = Buffer.from(await page.evaluate(() => [...window.app.playground.snapshotSave("{}", Date.now())]));
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3] ^= 0x5a;
    const version = Buffer.from(good);
    version.writeUInt32LE(7, 8);
    // A body of junk under a header whose length and checksum are right for it.
    const junk = Buffer.from("not the commands of a keyspace, nor a store of documents");
    const header = Buffer.alloc(24);
    header.write("NSQLSNAP", 0, "latin1");
    header.writeUInt32LE(1, 8);
    header.writeBigUInt64LE(BigInt(junk.length), 12);
    header.writeUInt32LE(crc32(junk), 20);
    const cases = [
      ["cut.nsqlsnap", good.subarray(0, Math.floor(good.length * 0.6)), /the snapshot is truncated \(\d+ of its \d+ bytes are there\)/],
      ["header.nsqlsnap", good.subarray(0, 14), /the snapshot is truncated \(its header is incomplete\)/],
      ["flipped.nsqlsnap", flipped, /the snapshot is corrupted \(its checksum does not match its contents\)/],
      ["longer.nsqlsnap", Buffer.concat([good, Buffer.from("tail")]), /the snapshot is corrupted \(4 unexpected bytes after its end\)/],
      ["v7.nsqlsnap", version, /snapshot format version 7 is not supported/],
      ["empty.nsqlsnap", Buffer.alloc(0), /this is not a nosql-playground snapshot/],
      ["junk.nsqlsnap", Buffer.concat([header, junk]), /was not imported: .+\. Nothing changed\./],
    ];
    for (const [name, buffer, message] of cases) {
      await page.locator("input[type=file]").setInputFiles({ name, mimeType: "application/octet-stream", buffer });
      const notice = page.locator("[data-notice=import]").last();
      await notice.filter({ hasText: name }).waitFor();
      const text = await notice.textContent();
      assert.match(text, new RegExp(`${name.replace(".", "\\.")} was not imported: `), name);
      assert.match(text, message, name);
      await notice.getByRole("button", { name: "Dismiss" }).click();
      assert.equal(await outputOf(await redis(page, "GET mine")), '"1"', name);
      assert.match(await outputOf(await mongo(page, "db.mine.countDocuments()")), /^1$/, name);
    }
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("a lesson index that is not JSON, or not a list of files, says so in the picker", async () => {
  for (const [body, message] of [
    ["{ lessons: [", /^lesson index: not valid JSON \(.+\)$/],
    [JSON.stringify({ lessons: "01.json" }), /^lesson index: must be an object with a 'lessons' list$/],
    [JSON.stringify({ lessons: ["../../etc/passwd"] }), /^lesson index: '..\/..\/etc\/passwd' is not a lesson file name$/],
    [JSON.stringify({ lessons: [], extra: 1 }), /^lesson index: unknown field 'extra'$/],
  ]) {
    const { page, context, errors } = await openPage(harness);
    try {
      await page.route("**/lessons/index.json", (route) => route.fulfill({ contentType: "application/json", body }));
      await page.reload();
      await page.waitForFunction(() => document.body.dataset.ready === "true");
      await page.locator("lesson-picker [data-role=lessons-toggle]").click();
      const error = page.locator("lesson-picker .lesson-error[role=alert]");
      await error.waitFor();
      assert.match(await error.textContent(), message);
      assert.equal(await outputOf(await redis(page, "PING")), "PONG");
      assert.deepEqual(errors.map(String), []);
    } finally {
      await context.close();
    }
  }
});

test("lesson files with fields of the wrong type are refused with the place and the field", () => {
  const base = () => ({ id: "x", title: "T", summary: "S", steps: [{ title: "a", text: "a" }] });
  for (const whole of [[], null, "lesson", 3]) {
    assert.throws(() => validateLesson(whole), { name: "LessonError", message: "lesson '?': must be an object" });
  }
  const cases = [
    [(l) => void (l.title = 5), "lesson 'x': 'title' must be a non-empty string"],
    [(l) => void (l.summary = "  "), "lesson 'x': 'summary' must be a non-empty string"],
    [(l) => void (l.steps = "step one"), "lesson 'x': 'steps' must be a non-empty list"],
    [(l) => void (l.steps = ["step one"]), "lesson 'x', step 1: must be an object"],
    [(l) => void (l.steps[0].text = ["a"]), "lesson 'x', step 1: 'text' must be a non-empty string"],
    [(l) => void (l.steps[0].commands = { engine: "redis", text: "PING" }), "lesson 'x', step 1: 'commands' must be a list"],
    [(l) => void (l.steps[0].commands = ["PING"]), "lesson 'x', step 1, command 1: must be an object"],
    [(l) => void (l.steps[0].commands = [{ engine: "redis", text: "PING", client: 99 }]), "lesson 'x', step 1, command 1: 'client' must be a whole number from 1 to 16"],
    [(l) => void (l.steps[0].commands = [{ engine: "redis", text: "PING", expectError: "yes" }]), "lesson 'x', step 1, command 1: 'expectError' must be true or false"],
    [(l) => void (l.steps[0].checks = [{ engine: "redis", run: "GET a", expect: 1 }]), "lesson 'x', step 1, check 1: 'expect' must be a string"],
    [(l) => void (l.steps[0].hints = "try GET"), "lesson 'x', step 1: 'hints' must be a list"],
    [(l) => void (l.setup = ["FLUSHALL"]), "lesson 'x', setup: must be an object"],
  ];
  for (const [mutate, message] of cases) {
    const lesson = base();
    mutate(lesson);
    assert.throws(() => validateLesson(lesson), { name: "LessonError", message }, message);
  }
});

/** Pastes `head + unit × count + tail` into `selector` as the clipboard would (a paste
 * event carrying the text), built in the page: sending megabytes through the driver is slow. */
function paste(page, selector, { head = "", unit = "", count = 0, tail = "" }) {
  return page.evaluate(
    ({ selector, head, unit, count, tail }) => {
      const text = head + unit.repeat(count) + tail;
      const data = new DataTransfer();
      data.setData("text/plain", text);
      const input = document.querySelector(selector);
      input.focus();
      const event = new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true });
      // A paste the page does not take over lands in the field as text.
      if (input.dispatchEvent(event)) {
        input.value = text;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
    },
    { selector, head, unit, count, tail },
  );
}

test("a ten-megabyte paste of lines with a quote that never closes is one command, answered at once", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    // 10 MB in 1.4 million lines after a stray quote: joining them once cost quadratic time.
    await paste(page, "#redis-console [data-role=input]", { head: 'SET a "open\n', unit: "SET k v\n", count: 1_400_000 });
    const entry = page.locator("#redis-console .entry").last();
    await entry.locator(".output", { hasText: "Invalid argument(s)" }).waitFor({ timeout: 30_000 });
    // The echo shows the start of the paste and says how much more there was.
    assert.equal(await entry.locator(".echo .echo-input").count(), 200);
    assert.match(await entry.locator(".echo .echo-more").textContent(), /^\n… 1399802 more lines not echoed \(11200012 characters in all\)$/);
    assert.equal(await outputOf(await redis(page, "PING")), "PONG");
    assert.equal(await outputOf(await redis(page, "EXISTS a k")), "(integer) 0");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("a pasted block of 10 000 commands runs them all; one of more than two million is refused at once", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    // Each command once forced a layout of the whole page (the log's scroll, the keyspace
    // panel's viewport): ten thousand took minutes. They now run in slices (big-paste.test.mjs).
    await paste(page, "#redis-console [data-role=input]", { unit: "INCR n\n", count: 10_000 });
    await page.waitForFunction(() => !window.app.redis.pasteRun);
    const log = page.locator("#redis-console [role=log]:not([hidden])");
    assert.equal(await outputOf(log.locator(".entry").last()), "(integer) 10000");
    await page.waitForFunction(() => {
      const el = document.querySelector("#redis-console [role=log]:not([hidden])");
      return el.scrollTop > 0 && el.scrollTop + el.clientHeight >= el.scrollHeight - 1;
    });

    await paste(page, "#redis-console [data-role=input]", { unit: "INCR n\n", count: 2_100_000 });
    const refused = log.locator(".entry").last();
    assert.equal(
      await outputOf(refused),
      "(sandbox) this paste holds 2100000 commands; the console runs at most 2000000 pasted at once, so none of them ran. Paste them in parts, or load bulk data with a driver snippet.",
    );
    assert.equal(await refused.locator(".echo .echo-input").count(), 200);
    assert.equal(await outputOf(await redis(page, "GET n")), '"10000"');
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("a ten-megabyte insertMany left open in the Mongo editor is coloured in part; closed, it runs, and the page goes on", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    // 100 000 documents of about a hundred bytes each: a dataset pasted whole, its closing
    // brackets not yet typed (a complete one runs at once: big-paste.test.mjs).
    const n = 100_000;
    const text = "x".repeat(90);
    await paste(page, "#mongo-console [data-role=input]", { head: "db.big.insertMany([", unit: `{n: 1, s: '${text}'}, `, count: n - 1, tail: `{n: 7, s: '${text}'}` });
    // The paste waited for the Mongo engine to say it is incomplete, then landed in the editor.
    await page.waitForFunction(() => document.querySelector("#mongo-console [data-role=input]").value.length > 10_000_000);
    const { spans, length, shown } = await page.evaluate(() => {
      const overlay = document.querySelector("#mongo-console pre.highlight");
      return {
        spans: overlay.querySelectorAll("span").length,
        length: document.querySelector("#mongo-console [data-role=input]").value.length,
        shown: overlay.textContent.length,
      };
    });
    assert.ok(length > 10_000_000, `pasted ${length} characters`);
    assert.equal(shown, length, "the overlay mirrors all of the text");
    assert.ok(spans < 20_000, `${spans} coloured tokens`);
    await page.evaluate(() => {
      const input = document.querySelector("#mongo-console [data-role=input]");
      input.value += "])";
    });
    // The engine's own work is linear in the paste, but a busy machine makes it long.
    await page.locator("#mongo-console [data-role=input]").press("Enter", { timeout: 120_000 });
    await page.locator("#mongo-console .entry .output", { hasText: "insertedIds" }).waitFor({ timeout: 120_000 });
    assert.equal(await outputOf(await mongo(page, "db.big.countDocuments()")), String(n));
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok())));
    assert.equal(await outputOf(await redis(page, "PING")), "PONG");
    // The paste stays in this page's history but is not written to localStorage, so later
    // entries still are.
    await mongo(page, "db.big.findOne({n: 7}).n");
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("nosql-playground:history:mongo")));
    assert.deepEqual(stored.slice(-2), ["db.big.countDocuments()", "db.big.findOne({n: 7}).n"]);
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("a ten-megabyte snippet that prints millions of lines shows the first of them, and the page goes on", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    await page.getByRole("button", { name: "JavaScript", exact: true }).click();
    const lines = 3_500_000;
    await paste(page, "#snippet-panel textarea", { head: 'const s = "', unit: "x\\n", count: lines, tail: '";\nconsole.log(s.length);\nconsole.log(s)' });
    assert.ok((await page.locator("#snippet-panel textarea").evaluate((el) => el.value.length)) > 10_000_000);
    await page.getByRole("button", { name: "Run snippet" }).click({ timeout: 120_000 });
    const output = page.getByRole("status", { name: "Snippet output" });
    await output.filter({ hasText: String(lines * 2) }).waitFor({ timeout: 120_000 });
    const shown = await output.textContent();
    assert.ok(shown.startsWith(`${lines * 2}\nx\nx\n`), shown.slice(0, 40));
    assert.equal(shown.split("\n").length, 200, "the first 200 lines");
    const more = page.locator("#snippet-panel .show-more").first();
    assert.match(await more.textContent(), /^Show 2000 more of \d+ hidden lines$/);
    // The length, the lines of s, the empty one its last newline ends, and the one after
    // console.log's own newline.
    assert.equal(await page.locator("#snippet-panel .copy-all").textContent(), `Copy all ${lines + 3} lines`);
    await more.click();
    assert.equal((await output.textContent()).split("\n").length, 2200);
    assert.equal(await outputOf(await redis(page, "PING")), "PONG");
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});

test("binary values and keys are shown with \\xHH escapes, in the console, the panel and the detail", async () => {
  const { page, context, errors } = await openPage(harness);
  try {
    await redis(page, 'SET "\\xff\\xfe\\x00k" "\\xc3\\x28\\x80bin\\r\\n"');
    assert.equal(await outputOf(await redis(page, 'GET "\\xff\\xfe\\x00k"')), '"\\xc3(\\x80bin\\r\\n"');
    assert.equal(await outputOf(await redis(page, "KEYS *")), '1) "\\xff\\xfe\\x00k"');
    assert.equal(await outputOf(await redis(page, 'STRLEN "\\xff\\xfe\\x00k"')), "(integer) 8");
    // The panel names the key with its bytes escaped, and its value the same way.
    const row = keyRow(page, "\\xff\\xfe\\x00k");
    await row.waitFor();
    assert.equal(await row.locator(".k").textContent(), "\\xff\\xfe\\x00k");
    assert.match(await row.locator(".val").textContent(), /\\xc3\(\\x80bin\\r\\n/);
    // Selecting it finds the key by those bytes: the detail shows the value and its bits.
    await row.click();
    const detail = page.getByRole("region", { name: "Selected key" });
    await detail.locator(".key-detail-string").waitFor();
    assert.match(await detail.textContent(), /\\xc3\(\\x80bin\\r\\n/);
    assert.equal(await detail.locator(".bit").count(), 64);
    // Key completion quotes the key so that redis-cli reads the same bytes back.
    const input = page.getByRole("textbox", { name: "Redis command" });
    await input.fill("STRLEN ");
    await input.press("Tab");
    assert.equal(await input.inputValue(), 'STRLEN "\\xff\\xfe\\x00k" ');
    await input.press("Enter");
    assert.equal(await outputOf(page.locator("#redis-console .entry").last()), "(integer) 8");
    // A binary message reaches a subscriber escaped as redis-cli prints it.
    await redis(page, 'SUBSCRIBE "\\x01ch"');
    await page.locator("#redis-console [data-role=client-add]").click();
    await redis(page, 'PUBLISH "\\x01ch" "\\x00\\xff\\n"');
    await page.locator('#redis-console .client-tab[data-client="1"]').click();
    const received = page.locator("#redis-console [role=log]:not([hidden]) .output.received").last();
    await received.waitFor();
    assert.equal(await received.textContent(), '1) "message"\n2) "\\x01ch"\n3) "\\x00\\xff\\n"');
    assert.deepEqual(errors.map(String), []);
  } finally {
    await context.close();
  }
});
