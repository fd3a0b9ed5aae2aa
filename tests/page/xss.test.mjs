// The XSS sweep: markup and script payloads put into every place student data (or a file, or
// a link) reaches the page, then three checks. No payload ran (`window.__xss` stays unset),
// no element a payload names was ever inserted (a MutationObserver installed before the page
// loads sees even an element added and removed at once), and each payload is on the page as
// the text it is.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { keyRow, mongo, redis, serveCourse, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

const IMG = "<img src=x onerror=window.__xss=1>";
const SVG = '"><svg onload=window.__xss=2>';
const SCRIPT = "</script><script>window.__xss=3</script>";
const JS_URL = "javascript:window.__xss=4";
const FRAME = "<iframe srcdoc=<script>parent.__xss=5</script>>";
const STYLE = "<style>*{display:none}</style>";
/** No dot: a Mongo field name that is not a path (a dialog counts as a page error). */
const NAME = "<img src=x onerror=alert(7)>";
/** No spaces: a word redis-cli reads unquoted, fit for places that take one token. */
const WORD = "<svg/onload=window.__xss=6>";
// Each payload is quoted for redis-cli with single quotes (none holds one) and for mongosh
// as a JSON string.
for (const p of [IMG, SVG, SCRIPT, JS_URL, FRAME, STYLE, NAME, WORD]) assert.ok(!p.includes("'"));
const q = (p) => `'${p}'`;
const js = (p) => JSON.stringify(p);

/** Installed before any page script: records every element or attribute that should never
 * appear (what the payloads name), and any `on*` handler attribute, as it is inserted. */
function watchForInjection() {
  const found = [];
  // The parser's own elements (index.html's head) are the page, not data.
  const statics = new WeakSet();
  document.addEventListener("DOMContentLoaded", () => {
    for (const el of document.querySelectorAll("*")) statics.add(el);
  });
  window.__injected = () => found.filter(([el]) => !statics.has(el)).map(([, note]) => note);
  // The page's own <svg> is the geo plot's; nothing else draws one.
  const FORBIDDEN = /^(img|script|iframe|object|embed|style|link|meta|base|form|video|audio|source|frame|frameset)$/i;
  const inspect = (el) => {
    if (!(el instanceof Element)) return;
    const tag = el.tagName.toLowerCase();
    if (FORBIDDEN.test(tag) || (tag === "svg" && !el.classList.contains("geo-plot"))) {
      found.push([el, el.outerHTML.slice(0, 200)]);
    }
    for (const attr of el.attributes) {
      const value = attr.value.trim().toLowerCase();
      if (/^on/i.test(attr.name) || (/^(href|src|action|formaction|xlink:href)$/i.test(attr.name) && value.startsWith("javascript:"))) {
        found.push([el, `${tag}[${attr.name}=${attr.value}]`]);
      }
    }
  };
  const walk = (node) => {
    inspect(node);
    if (node.querySelectorAll) for (const el of node.querySelectorAll("*")) inspect(el);
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "attributes") inspect(r.target);
      for (const node of r.addedNodes) walk(node);
    }
  }).observe(document, { childList: true, subtree: true, attributes: true });
}

async function open(context, url = harness.url) {
  await context.addInitScript(watchForInjection);
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(String(error)));
  page.on("dialog", (dialog) => {
    page.errors.push(`unexpected dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 15_000 });
  return page;
}

/** Runs `fn` on a fresh page, then asserts nothing ran or was injected. */
async function sweep(fn, { url } = {}) {
  const context = await harness.browser.newContext({ acceptDownloads: true });
  try {
    const page = await open(context, url ? harness.url + url : undefined);
    await fn(page);
    // A frame for anything scheduled (an image error event, a redraw) to happen.
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 50))));
    assert.equal(await page.evaluate(() => window.__xss), undefined, "a payload ran");
    assert.deepEqual(await page.evaluate(() => window.__injected()), [], "elements or handlers came from data");
    assert.deepEqual(page.errors, [], "the page raised errors");
  } finally {
    await context.close();
  }
}

/** Asserts that `locator`'s text holds every one of `payloads` as written. */
async function shows(locator, payloads, what) {
  const text = await locator.evaluateAll((els) => els.map((el) => el.textContent).join("\n"));
  for (const p of payloads) assert.ok(text.includes(p), `${what} shows ${p} as text; it shows:\n${text.slice(0, 2000)}`);
}

const log = (page, engine) => page.locator(`#${engine}-console [role=log]:not([hidden])`);
const detail = (page) => page.getByRole("region", { name: "Selected key" });

/** Selects `key` in the keyspace panel and waits for its detail view (`kind`). A row the
 * panel redraws under the pointer can take the click, so a missed one is tried again. */
async function select(page, key, kind) {
  for (let attempt = 1; ; attempt++) {
    await keyRow(page, key).first().click();
    try {
      await detail(page).locator(`.key-detail-${kind}`).waitFor({ timeout: 5_000 });
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

test("Redis: keys, values, hash fields, stream fields, JSON, sets, geo members and errors", () =>
  sweep(async (page) => {
    await redis(page, `SET ${q(IMG)} ${q(SVG)}`);
    await redis(page, `GET ${q(IMG)}`);
    await redis(page, `HSET hash:x ${q(SCRIPT)} ${q(FRAME)} ${q(STYLE)} ${q(JS_URL)}`);
    await redis(page, `XADD stream:x * ${q(IMG)} ${q(SVG)}`);
    await redis(page, `JSON.SET json:x $ ${q(JSON.stringify({ [IMG]: SVG, list: [SCRIPT, { [FRAME]: JS_URL }] }))}`);
    await redis(page, `JSON.GET json:x`);
    await redis(page, `SADD ${q(SCRIPT)} ${q(IMG)} ${q(FRAME)}`);
    await redis(page, `ZADD zset:x 1 ${q(SVG)} 2 ${q(JS_URL)}`);
    await redis(page, `RPUSH list:x ${q(STYLE)} ${q(IMG)}`);
    await redis(page, `GEOADD geo:x 13.361389 38.115556 ${q(IMG)} 15.087269 37.502669 ${q(SVG)}`);
    await redis(page, `HGETALL hash:x`);

    // Errors that repeat what was typed: an unknown command, a wrong type, a bad argument.
    const unknown = await redis(page, `${WORD} arg`);
    await shows(unknown.locator(".output"), [WORD], "the unknown-command error");
    const wrongArg = await redis(page, `SCAN 0 TYPE ${q(IMG)}`);
    await shows(wrongArg.locator(".output"), [IMG], "SCAN's unknown type error");
    const eval_ = await redis(page, `EVAL ${q(`return redis.error_reply("${SVG.replace(/"/g, '\\"')}")`)} 0`);
    await shows(eval_.locator(".output"), [SVG], "a script's error reply");
    await redis(page, `EVAL ${q(`redis.log(redis.LOG_WARNING, "${IMG}") return 1`)} 0`);
    await redis(page, `CLIENT SETNAME ${WORD}`);
    await redis(page, "CLIENT LIST");

    await shows(log(page, "redis"), [IMG, SVG, SCRIPT, FRAME, STYLE, JS_URL], "the Redis console");

    // The keyspace panel's rows, then each key's detail view.
    await shows(page.locator("keyspace-panel .ks-rows .k"), [IMG, SCRIPT], "keyspace keys");
    await shows(page.locator("keyspace-panel .ks-rows .val"), [SVG, FRAME, STYLE, JS_URL], "keyspace values");
    await select(page, IMG, "string");
    await shows(detail(page), [IMG, SVG], "a string's detail");
    await select(page, "hash:x", "hash");
    await shows(detail(page), [SCRIPT, FRAME, STYLE, JS_URL], "a hash's detail");
    await select(page, "stream:x", "stream");
    await shows(detail(page), [IMG, SVG], "a stream's detail");
    await select(page, "json:x", "json");
    await shows(detail(page), [IMG, SVG, SCRIPT, FRAME, JS_URL], "a JSON document's tree");
    await select(page, SCRIPT, "set");
    await shows(detail(page), [IMG, FRAME], "a set's detail");
    await select(page, "zset:x", "zset");
    await shows(detail(page), [SVG, JS_URL], "a sorted set's detail");
    await select(page, "list:x", "list");
    await shows(detail(page), [STYLE, IMG], "a list's detail");
    await select(page, "geo:x", "zset");
    await detail(page).locator(".geo-plot").waitFor();
    await shows(detail(page).locator(".geo-plot"), [IMG, SVG], "the geo plot's labels");
    await shows(detail(page).locator(".geo-distances"), [IMG, SVG], "the geo distance table");
  }));

test("Redis: pub/sub channels and messages, FT.SEARCH tables, FT.INFO, hints and key completion", () =>
  sweep(async (page) => {
    await redis(page, `SUBSCRIBE ${q(IMG)}`);
    await page.locator("#redis-console [data-role=client-add]").click();
    await redis(page, `PUBLISH ${q(IMG)} ${q(SVG)}`);
    await page.locator('#redis-console .client-tab[data-client="1"]').click();
    const received = log(page, "redis").locator(".output.received").last();
    await received.waitFor();
    await shows(received, [IMG, SVG], "a received message");
    await page.locator('#redis-console .client-tab[data-client="2"]').click();

    await redis(page, `FT.CREATE ${q(SCRIPT)} PREFIX 1 doc: SCHEMA title TEXT ${q(WORD)} TAG`);
    await redis(page, `HSET doc:1 title ${q(IMG)} ${q(WORD)} ${q(FRAME)} ${q(SVG)} ${q(JS_URL)}`);
    const search = await redis(page, `FT.SEARCH ${q(SCRIPT)} *`);
    await search.locator(".result-table").waitFor();
    await shows(search.locator(".result-table"), [IMG, WORD, FRAME, SVG, JS_URL], "the FT.SEARCH table");
    const agg = await redis(page, `FT.AGGREGATE ${q(SCRIPT)} * LOAD 1 @title`);
    await shows(agg.locator(".result-table"), [IMG], "the FT.AGGREGATE table");
    const info = await redis(page, `FT.INFO ${q(SCRIPT)}`);
    await shows(info.locator(".index-summary"), [SCRIPT, WORD], "the FT.INFO summary");
    const missing = await redis(page, `FT.SEARCH ${q(IMG)} *`);
    await shows(missing.locator(".output"), [IMG], "an unknown index's error");

    // Hints mirror what is typed; completion lists the student's key names.
    await redis(page, `SET ${q(`${IMG}:a`)} 1`);
    await redis(page, `SET ${q(`${IMG}:b`)} 1`);
    const input = page.getByRole("textbox", { name: "Redis command" });
    await input.fill(`GET ${q("<img")}`);
    await input.fill("GET <im");
    await input.press("Tab");
    await input.press("Tab");
    const completions = page.locator("#redis-console [data-role=completions]");
    await completions.filter({ hasText: IMG }).waitFor();
    await shows(completions, [`${IMG}:a`, `${IMG}:b`], "the key completion list");
    await input.fill(`HSET ${q(SVG)} `);
    await shows(page.locator("#redis-console .input-row"), [SVG], "the hint line");
  }));

test("Mongo: collection names, field names, values, errors, explain trees, the pipeline viewer and completion", () =>
  sweep(async (page) => {
    const coll = `db.getCollection(${js(IMG)})`;
    await mongo(page, `${coll}.insertOne({_id: ${js(SVG)}, ${js(SCRIPT)}: ${js(FRAME)}, nested: {${js(STYLE)}: [${js(JS_URL)}]}})`);
    await mongo(page, `${coll}.find()`);
    await mongo(page, `${coll}.createIndex({${js(SCRIPT)}: 1}, {name: ${js(WORD)}})`);
    const error = await mongo(page, `${coll}.find({${js("$" + WORD)}: 1})`);
    await shows(error.locator(".output"), [WORD], "an unknown operator's error");
    const thrown = await mongo(page, `throw new Error(${js(SVG)})`);
    await shows(thrown.locator(".output"), [SVG], "a thrown error");
    const printed = await mongo(page, `print(${js(FRAME)}); ${js(STYLE)}`);
    await shows(printed.locator(".output"), [FRAME, STYLE], "print and a string result");
    await shows(log(page, "mongo"), [IMG, SVG, SCRIPT, FRAME, STYLE, JS_URL], "the Mongo console");

    // The collections panel: its list, title, table header and cells, the mongosh view, indexes.
    const panel = page.locator("collections-panel");
    await panel.locator(".coll-button", { hasText: IMG }).click();
    await shows(panel.locator(".coll-nav"), [IMG], "the collection list");
    await shows(panel.locator(".coll-title"), [IMG], "the collection title");
    await shows(panel.locator("thead"), [SCRIPT], "the table's field names");
    await shows(panel.locator("tbody"), [SVG, FRAME], "the table's cells");
    await shows(panel.locator("[data-role=indexes]"), [WORD, SCRIPT], "the index list");
    await panel.getByRole("button", { name: "mongosh" }).click();
    await shows(panel.locator(".docs"), [SVG, SCRIPT, FRAME, STYLE, JS_URL], "the mongosh view");

    // The explain view's plan tree and raw document.
    await mongo(page, `${coll}.find({${js(SCRIPT)}: ${js(FRAME)}}).explain("executionStats")`);
    const explain = page.getByRole("region", { name: "Query explain" });
    await explain.locator("[data-role=plan]").first().waitFor();
    await shows(explain.locator("[data-role=plan]"), [WORD], "the explain tree's index name");
    await shows(explain.locator("[data-role=raw]"), [SCRIPT, FRAME], "the explain document");

    // The pipeline viewer: stage output, and a failing stage's error.
    await mongo(page, `${coll}.aggregate([{$match: {}}, {$project: {${js(NAME)}: "$nested"}}])`);
    const viewer = page.getByRole("region", { name: "Pipeline viewer" });
    await viewer.locator(".pv-stage").nth(1).locator("button").first().click();
    await shows(viewer.locator(".pv-detail"), [NAME, STYLE, JS_URL], "a stage's documents");
    await mongo(page, `${coll}.aggregate([{$match: {}}, {$group: {_id: null, x: {${js("$" + WORD)}: 1}}}])`);
    await viewer.locator(".pv-stage.failed").waitFor();
    await shows(viewer.locator(".pv-error").first(), [WORD], "the failing stage's error");

    // Completion lists collection names and the fields seen in a collection.
    const input = page.getByRole("textbox", { name: "Mongo shell" });
    await input.fill("db.");
    await input.press("Tab");
    const list = page.getByRole("listbox", { name: "Completions" });
    await list.waitFor();
    await shows(list, [IMG], "the collection completion list");
    await input.press("Escape");
    await input.fill(`${coll}.find({`);
    await input.press("Tab");
    await list.filter({ hasText: SCRIPT }).waitFor();
    await shows(list, [SCRIPT, "nested"], "the field completion list");
    await input.press("Escape");
    // The colouring layer under the textarea mirrors a hostile statement as text.
    await input.fill(`${js(IMG)} + ${js(SCRIPT)}`);
    await shows(page.locator("#mongo-console .input-row"), [IMG, SCRIPT], "the coloured statement");
  }));

test("the snippet panel: code, output and errors", () =>
  sweep(async (page) => {
    const editor = page.getByRole("textbox", { name: "Driver snippet" });
    const output = page.getByRole("status", { name: "Snippet output" });
    await page.getByRole("button", { name: "JavaScript", exact: true }).click();
    const run = async (source, expect) => {
      await editor.fill(source);
      await output.evaluate((el) => (el.textContent = ""));
      await editor.press("Control+Enter");
      await output.filter({ hasText: expect }).waitFor();
    };
    await run(
      `import Redis from 'ioredis';\nconst r = new Redis();\nawait r.set(${js(IMG)}, ${js(SVG)});\nconsole.log(${js(SCRIPT)});\nawait r.get(${js(IMG)})`,
      SCRIPT,
    );
    await shows(output, [SCRIPT, SVG], "the snippet's output");
    await run(`throw new Error(${js(FRAME)})`, FRAME);
    await shows(output, [FRAME], "the snippet's uncaught error");
    await run(`${js(STYLE)} +`, /./);
    await page.getByRole("button", { name: "Python", exact: true }).click();
    await run(`import redis\nr = redis.Redis()\nprint(${q(JS_URL)})\nraise ValueError(${q(WORD)})`, WORD);
    await shows(output, [JS_URL, WORD], "the Python snippet's output and traceback");
    // What the snippet wrote shows in the keyspace panel like the console's own keys.
    await shows(page.locator("keyspace-panel .ks-rows .k"), [IMG], "a key a snippet wrote");
  }));

test("lesson files: text, commands, hints and the errors of a malformed file", () =>
  sweep(async (page) => {
    await serveCourse(page, {
      "evil.json": {
        id: "evil",
        title: `Title ${IMG}`,
        summary: `Summary ${SVG}`,
        setup: { redis: [`SET ${q(FRAME)} ${q(STYLE)}`], mongo: [`db.getCollection(${js(IMG)}).insertOne({a: ${js(SVG)}})`] },
        steps: [
          {
            title: `Step ${SCRIPT}`,
            text: `Prose ${IMG} \`${SVG}\` **${SCRIPT}** [${FRAME}](${JS_URL}) [x](https://example.com/${WORD})\n\n- ${STYLE}`,
            commands: [
              { engine: "redis", text: `ECHO ${q(IMG)}` },
              { engine: "mongo", text: `db.getCollection(${js(IMG)}).findOne()` },
            ],
            checks: [{ engine: "redis", run: `GET ${q(FRAME)}`, expect: `"${STYLE}"` }],
            hints: [`Hint ${FRAME}`],
          },
        ],
      },
      // Errors quote the lesson's own id and field names.
      "bad-id.json": { id: IMG, title: "T", summary: "S", steps: [{ title: "a", text: "a" }] },
      "bad-field.json": { id: "bad-field", title: "T", summary: "S", steps: [{ title: "a", text: "a", [SVG]: 1 }] },
      "not-json.json": `{ ${SCRIPT}`,
    });
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    const picker = page.locator("lesson-picker");
    await picker.locator("[data-role=lessons-toggle]").click();
    await picker.locator(".lesson-item.broken").nth(2).waitFor();
    await shows(picker.locator(".lesson-item.broken"), [IMG, SVG], "the lesson errors");
    await picker.locator('.lesson-item[data-lesson="evil"] .lesson-open').click();
    await picker.locator('.lesson-name[data-lesson="evil"]').waitFor();
    await picker.locator("[data-role=hint]").first().click();
    await page.evaluate(() => (window.app.lessons.player.typingMs = 0));
    for (const button of await picker.locator("[data-role=run-command]").all()) await button.click();
    await page.waitForFunction(() => document.querySelectorAll("lesson-picker [data-role=run-command][data-ran]").length === 2);
    await shows(picker, [IMG, SVG, SCRIPT, FRAME, STYLE, `Hint ${FRAME}`], "the lesson");
    assert.deepEqual(
      await picker.locator(".lesson-text a").evaluateAll((els) => els.map((a) => a.getAttribute("href"))),
      [`https://example.com/${WORD}`],
      "only the http(s) link became a link",
    );
    await shows(log(page, "redis"), [IMG], "the lesson command's reply");
    await shows(log(page, "mongo"), [IMG, SVG], "the lesson's Mongo command");
  }));

test("share links: payloads in the replayed session, and in a link's version", async () => {
  // A link made by the page itself, holding hostile lines for both consoles.
  const context = await harness.browser.newContext();
  let link;
  let badVersion;
  try {
    const page = await open(context);
    ({ link, badVersion } = await page.evaluate(
      async ([lines, version]) => {
        const { encodeShare } = await import("./js/persistence.js");
        const url = new URL(location.href);
        url.hash = `s=${await encodeShare(lines)}`;
        // A version field that is itself a payload: the error message quotes it.
        const json = JSON.stringify({ v: version, lines: [] });
        const packed = new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("deflate-raw")));
        const bytes = new Uint8Array(await packed.arrayBuffer());
        const b64 = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        return { link: url.href, badVersion: `#s=${b64}` };
      },
      [
        [
          ["r", `SET ${"'" + IMG + "'"} ${"'" + SVG + "'"}`],
          ["m", `db.getCollection(${js(SCRIPT)}).insertOne({${js(FRAME)}: 1})`],
          ["r", `${WORD}`],
        ],
        IMG,
      ],
    ));
  } finally {
    await context.close();
  }
  await sweep(
    async (page) => {
      await page.locator("[data-notice=shared]").waitFor();
      await shows(log(page, "redis"), [IMG, SVG, WORD], "the replayed Redis lines");
      await shows(log(page, "mongo"), [SCRIPT, FRAME], "the replayed Mongo lines");
      await shows(page.locator("keyspace-panel .ks-rows .k"), [IMG], "the replayed key");
      await shows(page.locator("collections-panel .coll-nav"), [SCRIPT], "the replayed collection");
    },
    { url: link.slice(link.indexOf("#")) },
  );
  await sweep(
    async (page) => {
      const notice = page.locator("[data-notice=share-error]");
      await notice.waitFor();
      await shows(notice, [`unknown version (${JSON.stringify(IMG)})`], "the share error");
    },
    { url: badVersion },
  );
  // Markup in the fragment itself is refused before anything reads it.
  await sweep(
    async (page) => {
      await page.locator("[data-notice=share-error]").waitFor();
    },
    { url: `#s=${encodeURIComponent(IMG)}` },
  );
});

test("an imported file's name is shown as text", () =>
  sweep(async (page) => {
    await page.locator("input[type=file]").setInputFiles({ name: `${IMG}.nsqlsnap`, mimeType: "application/octet-stream", buffer: Buffer.from("junk") });
    const notice = page.locator("[data-notice=import]");
    await notice.waitFor();
    await shows(notice, [`${IMG}.nsqlsnap was not imported`], "the import error");
  }));
