// The embeddable sandbox (www/embed.js, www/embed.html) and the example course page
// (www/examples/course.html): every embed boots, embeds are sandboxes of their own, the
// attributes and URL parameters take effect, lesson content stays data, and the pages run
// under the strict Content-Security-Policy of the README, given both as the pages' <meta>
// and as a response header, with any violation failing the test.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WWW, startHarness } from "./harness.mjs";

/** The policy the README gives; the pages carry it in a <meta>, the server as a header. */
export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'none'";

let harness;
before(async () => {
  harness = await startHarness({ headers: { "content-security-policy": CSP } });
});
after(async () => {
  await harness?.stop();
});

/**
 * Opens `path` and collects everything that must not happen: page errors, console errors
 * (a blocked script or style is reported there too) and `securitypolicyviolation` events,
 * which the init script records before any of the page's own scripts run.
 */
async function open(path, { colorScheme = "light", viewport = { width: 1280, height: 900 } } = {}) {
  const context = await harness.browser.newContext({ colorScheme, viewport });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  await page.addInitScript(() => {
    window.__violations = [];
    const record = (e) => window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}`);
    document.addEventListener("securitypolicyviolation", record, true);
  });
  await page.goto(harness.url + path);
  const finish = async () => {
    const violations = await page.evaluate(() => window.__violations);
    await context.close();
    assert.deepEqual(violations, [], "Content-Security-Policy violations");
    assert.deepEqual(problems, [], "errors on the page");
  };
  return { page, finish };
}

/** Waits until every embed of the page has booted, and fails on one that did not. */
async function embedsReady(page) {
  await page.waitForFunction(
    () => [...document.querySelectorAll("nosql-playground")].every((e) => e.dataset.ready !== undefined),
    null,
    { timeout: 20_000 },
  );
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll("nosql-playground")].map((e) => [e.id, e.dataset.ready])));
}

/** Runs a line in one embed's console, as a student types it, and returns its reply. */
async function type(page, embed, engine, text) {
  const root = page.locator(`#${embed}`);
  const log = root.locator(`#${engine}-console [role=log]:not([hidden])`);
  const before = await log.locator(".entry").count();
  const input = root.getByRole("textbox", { name: engine === "redis" ? "Redis command" : "Mongo shell" });
  await input.fill(text);
  await input.press("Enter");
  const entry = log.locator(".entry").nth(before);
  await entry.waitFor();
  return ((await entry.locator(".output").textContent()) ?? "").trimEnd();
}

/** Asks an embed's own engine directly (what a panel would show). */
function engine(page, embed, engineName, text) {
  return page.evaluate(
    ([id, name, line]) => {
      const { playground } = document.getElementById(id).sandbox;
      const reply = JSON.parse(name === "redis" ? playground.redisCheck(line, Date.now()) : playground.mongoCheck(line, Date.now()));
      return reply.ok ?? `refused: ${reply.refused}`;
    },
    [embed, engineName, text],
  );
}

const keyspaceKeys = (page, embed) =>
  page.evaluate(
    (id) =>
      [...document.getElementById(id).shadowRoot.querySelectorAll("keyspace-panel .ks-rows .ks-row")]
        .filter((el) => !el.classList.contains("gone"))
        .map((el) => el.dataset.key),
    embed,
  );

test("the example course page boots three embeds under the strict CSP", async () => {
  const html = readFileSync(join(WWW, "examples", "course.html"), "utf8");
  assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${CSP}">`), "the page carries the README's policy");
  const { page, finish } = await open("examples/course.html");
  assert.deepEqual(await embedsReady(page), { "sandbox-strings": "true", "sandbox-find": "true", "sandbox-both": "true" });
  await finish();
});

test("the main page works under the same policy, given as a header and as its <meta>", async () => {
  const html = readFileSync(join(WWW, "index.html"), "utf8");
  assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${CSP}">`));
  const { page, finish } = await open("");
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), "true");
  const input = page.getByRole("textbox", { name: "Redis command" });
  await input.fill("SET csp ok");
  await input.press("Enter");
  await page.locator("#redis-console .entry .output", { hasText: "OK" }).waitFor();
  const mongo = page.getByRole("textbox", { name: "Mongo shell" });
  await mongo.fill("db.t.insertOne({_id: 1})");
  await mongo.press("Enter");
  await page.locator("#mongo-console .entry .output", { hasText: "insertedId" }).waitFor();
  await finish();
});

test("the test's own watch sees a violation: an inline script is refused and reported", async () => {
  const { page } = await open("examples/course.html");
  await embedsReady(page);
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__inlineRan = true";
    document.body.append(script);
  });
  await page.waitForFunction(() => window.__violations.length > 0);
  assert.equal(await page.evaluate(() => window.__inlineRan), undefined);
  assert.match((await page.evaluate(() => window.__violations))[0], /^script-src/);
  await page.context().close();
});

test("embeds are separate sandboxes: keys, documents, history and pub/sub stay in their own", async () => {
  const { page, finish } = await open("examples/course.html");
  await embedsReady(page);
  // The setup attributes ran in their own embed only.
  assert.equal(await engine(page, "sandbox-both", "redis", "GET hits"), '"0"\n');
  assert.match(await engine(page, "sandbox-both", "redis", "EXISTS hits"), /\(integer\) 1/);
  assert.match(await engine(page, "sandbox-strings", "redis", "EXISTS hits"), /\(integer\) 0/);
  assert.match(await engine(page, "sandbox-find", "mongo", "db.posts.countDocuments()"), /"3"|\b3\b/);
  assert.match(await engine(page, "sandbox-both", "mongo", "db.posts.countDocuments()"), /\b0\b/);

  assert.equal(await type(page, "sandbox-strings", "redis", "SET only:strings 1"), "OK");
  assert.equal(await type(page, "sandbox-both", "redis", "SET only:both 2"), "OK");
  await page.waitForFunction(() => {
    const rows = (id) => [...document.getElementById(id).shadowRoot.querySelectorAll("keyspace-panel .ks-row[data-key]")].map((r) => r.dataset.key);
    return rows("sandbox-strings").includes("only:strings") && rows("sandbox-both").includes("only:both");
  });
  assert.ok(!(await keyspaceKeys(page, "sandbox-both")).includes("only:strings"));
  assert.ok(!(await keyspaceKeys(page, "sandbox-strings")).includes("only:both"));
  assert.match(await engine(page, "sandbox-both", "redis", "EXISTS only:strings"), /\(integer\) 0/);
  assert.match(await engine(page, "sandbox-strings", "redis", "EXISTS only:both"), /\(integer\) 0/);

  // A Mongo write in one embed is not in the other's collections (nor its panel).
  assert.match(await type(page, "sandbox-both", "mongo", 'db.notes.insertOne({_id: 1, text: "mine"})'), /insertedId/);
  assert.match(await engine(page, "sandbox-find", "mongo", "db.notes.countDocuments()"), /\b0\b/);
  const collectionNames = (id) =>
    page.evaluate((embed) => [...document.getElementById(embed).shadowRoot.querySelectorAll("collections-panel .coll-nav button")].map((b) => b.textContent), id);
  await page.waitForFunction(() =>
    [...document.getElementById("sandbox-both").shadowRoot.querySelectorAll("collections-panel .coll-nav button")].some((b) => b.textContent.includes("notes")),
  );
  assert.ok(!(await collectionNames("sandbox-find")).some((name) => name.includes("notes")));

  // History: ArrowUp in one embed recalls its own lines only, and nothing is stored for later.
  const input = page.locator("#sandbox-both").getByRole("textbox", { name: "Redis command" });
  await input.press("ArrowUp");
  assert.equal(await input.inputValue(), "SET only:both 2");
  await input.press("ArrowUp");
  assert.equal(await input.inputValue(), "SET only:both 2", "no older line: the other embed's SET is not in this history");
  const stored = await page.evaluate(() => Object.keys(localStorage));
  assert.deepEqual(stored, [], "embeds without persist keep nothing in localStorage");

  // Pub/sub: a subscriber in one embed hears nothing published in another. What its own
  // second client publishes afterwards arrives, so anything from the other embed would be
  // in its log by then.
  await type(page, "sandbox-strings", "redis", "SUBSCRIBE news");
  assert.match(await type(page, "sandbox-both", "redis", "PUBLISH news hello"), /^\(integer\) 0$/);
  const strings = page.locator("#sandbox-strings");
  await strings.getByRole("textbox", { name: "Redis command" }).fill(".client 2");
  await strings.getByRole("textbox", { name: "Redis command" }).press("Enter");
  await strings.locator('.client-tab[data-client="2"][aria-selected=true]').waitFor();
  assert.match(await type(page, "sandbox-strings", "redis", "PUBLISH news local"), /^\(integer\) 1$/);
  const consoleText = () => page.evaluate(() => document.getElementById("sandbox-strings").shadowRoot.querySelector("#redis-console").textContent);
  await page.waitForFunction(() => document.getElementById("sandbox-strings").shadowRoot.querySelector("#redis-console").textContent.includes('"local"'));
  assert.ok(!(await consoleText()).includes('"hello"'), "the other embed's message did not arrive");
  await finish();
});

test("panels, engines, height and theme attributes take effect", async () => {
  const { page, finish } = await open("examples/course.html");
  await embedsReady(page);
  const layout = await page.evaluate(() => {
    const visible = (root, selector) => {
      const el = root.querySelector(selector);
      return Boolean(el) && el.getClientRects().length > 0;
    };
    return Object.fromEntries(
      [...document.querySelectorAll("nosql-playground")].map((host) => {
        const root = host.shadowRoot;
        return [
          host.id,
          {
            redis: visible(root, "#redis-console"),
            mongo: visible(root, "#mongo-console"),
            clock: visible(root, "clock-bar"),
            info: visible(root, "server-info"),
            keyspace: visible(root, "keyspace-panel"),
            collections: visible(root, "collections-panel"),
            explain: visible(root, ".explain-view"),
            pipeline: visible(root, ".pipeline-viewer"),
            lesson: visible(root, "lesson-picker"),
            height: Math.round(host.getBoundingClientRect().height),
            background: getComputedStyle(host).backgroundColor,
          },
        ];
      }),
    );
  });
  const rem = 16;
  assert.deepEqual(layout["sandbox-strings"], {
    redis: true, mongo: false, clock: true, info: false, keyspace: true, collections: false,
    explain: false, pipeline: false, lesson: true, height: 34 * rem, background: "rgb(246, 247, 249)",
  });
  assert.deepEqual(layout["sandbox-find"], {
    redis: false, mongo: true, clock: false, info: false, keyspace: false, collections: true,
    explain: true, pipeline: false, lesson: false, height: 30 * rem, background: "rgb(20, 23, 28)",
  });
  assert.deepEqual(layout["sandbox-both"], {
    redis: true, mongo: true, clock: false, info: true, keyspace: true, collections: true,
    explain: false, pipeline: false, lesson: false, height: 36 * rem, background: "rgb(246, 247, 249)",
  });
  // An attribute changed later takes effect too: the theme follows it.
  await page.evaluate(() => document.getElementById("sandbox-both").setAttribute("theme", "dark"));
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById("sandbox-both")).backgroundColor), "rgb(20, 23, 28)");
  // So does the height, a bare number being pixels.
  await page.evaluate(() => document.getElementById("sandbox-both").setAttribute("height", "300"));
  assert.equal(await page.evaluate(() => document.getElementById("sandbox-both").getBoundingClientRect().height), 300);
  await finish();
});

test("with no theme the embed follows the system's colour scheme", async () => {
  const { page, finish } = await open("embed.html?engines=redis", { colorScheme: "dark" });
  await embedsReady(page);
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector("nosql-playground")).backgroundColor), "rgb(20, 23, 28)");
  await finish();
});

test("a lesson attribute loads the lesson into its embed, whose commands run there", async () => {
  const { page, finish } = await open("examples/course.html");
  await embedsReady(page);
  const embed = page.locator("#sandbox-strings");
  await embed.locator(".lesson-name[data-lesson=redis-strings-ttl]").waitFor();
  assert.equal(await embed.locator("[data-role=lesson-list]").count(), 0, "an embed shows its one lesson, no course list");
  await page.evaluate(() => (document.getElementById("sandbox-strings").sandbox.lessons.player.typingMs = 0));
  const command = embed.locator('.lesson-step[data-step="0"] [data-role=run-command]').first();
  await command.click();
  await embed.locator('.lesson-step[data-step="0"] [data-role=run-command][data-ran=ok]').first().waitFor();
  assert.match(await engine(page, "sandbox-strings", "redis", "EXISTS product:123"), /\(integer\) 1/);
  assert.match(await engine(page, "sandbox-both", "redis", "EXISTS product:123"), /\(integer\) 0/);
  await embed.locator('.lesson-step[data-step="0"][data-state=done]').waitFor();
  await finish();
});

test("the iframe form takes the same settings as URL parameters, and works inside a frame", async () => {
  const { page, finish } = await open(
    "embed.html?lesson=01-strings-ttl&engines=redis&panels=keyspace%20info&theme=dark&readonly-steps&setup-redis=SET%20a%201%0ASET%20b%202",
  );
  await embedsReady(page);
  const state = await page.evaluate(() => {
    const host = document.querySelector("nosql-playground");
    const root = host.shadowRoot;
    const shown = (s) => Boolean(root.querySelector(s)?.getClientRects().length);
    return {
      attributes: Object.fromEntries([...host.attributes].filter((a) => a.name !== "style" && a.name !== "role" && a.name !== "aria-label" && a.name !== "data-ready").map((a) => [a.name, a.value])),
      mongo: shown("#mongo-console"),
      info: shown("server-info"),
      clock: shown("clock-bar"),
      lesson: root.querySelector(".lesson-name")?.dataset.lesson,
      readOnly: root.querySelector("#redis-console [data-role=input]").readOnly,
    };
  });
  assert.deepEqual(state, {
    attributes: { lesson: "01-strings-ttl", engines: "redis", panels: "keyspace info", theme: "dark", "readonly-steps": "", "setup-redis": "SET a 1\nSET b 2" },
    mongo: false,
    info: true,
    clock: false,
    lesson: "redis-strings-ttl",
    readOnly: true,
  });
  assert.match(await page.evaluate(() => JSON.parse(document.querySelector("nosql-playground").sandbox.playground.redisCheck("MGET a b", Date.now())).ok), /"1".*"2"/s);

  // Read-only steps: typing changes nothing; the lesson's commands still run when clicked.
  const input = page.getByRole("textbox", { name: "Redis command" });
  await input.press("X");
  assert.equal(await input.inputValue(), "");
  await page.evaluate(() => (document.querySelector("nosql-playground").sandbox.lessons.player.typingMs = 0));
  await page.locator('.lesson-step[data-step="0"] [data-role=run-command]').first().click();
  await page.locator('.lesson-step[data-step="0"] [data-role=run-command][data-ran=ok]').first().waitFor();

  // The same URL in an iframe of a page on the same origin (under the policy, which frames 'self').
  await page.route("**/frame-host.html", (route) =>
    route.fulfill({
      contentType: "text/html",
      headers: { "content-security-policy": CSP },
      body: '<!doctype html><title>host</title><iframe title="Sandbox" src="embed.html?engines=mongo&amp;setup-mongo=db.t.insertOne(%7B_id%3A%201%7D)" width="900" height="500"></iframe>',
    }),
  );
  await page.goto(harness.url + "frame-host.html");
  const frame = page.frameLocator("iframe");
  await frame.locator("nosql-playground[data-ready=true]").waitFor();
  const out = page.frames()[1];
  assert.match(await out.evaluate(() => JSON.parse(document.querySelector("nosql-playground").sandbox.playground.mongoCheck("db.t.countDocuments()", Date.now())).ok), /\b1\b/);
  await finish();
});

test("lesson and setup content is data: markup stays text and nothing of it runs as JavaScript", async () => {
  const lesson = {
    id: "hostile",
    title: "<img src=x onerror=\"window.__pwned = 'title'\">",
    summary: "[click](javascript:window.__pwned='link') <script>window.__pwned='summary'</script>",
    steps: [
      {
        title: "Step <b>one</b>",
        text: "<img src=x onerror=\"window.__pwned='text'\">",
        commands: [{ engine: "redis", text: "SET x \"<script>window.__pwned='command'</script>\"" }],
      },
    ],
  };
  const { page, finish } = await open("examples/course.html");
  await embedsReady(page);
  await page.route("**/hostile.json", (route) => route.fulfill({ contentType: "application/json", body: JSON.stringify(lesson) }));
  await page.evaluate(() => {
    const el = document.createElement("nosql-playground");
    el.id = "hostile";
    el.setAttribute("lesson", "hostile.json");
    el.setAttribute("setup-redis", "SET payload \"<img src=x onerror=window.__pwned='setup'>\"");
    el.setAttribute("setup-mongo", "var __pwned = 'mongo'\ndb.x.insertOne({html: \"<script>window.__pwned=1</script>\"})");
    document.body.append(el);
  });
  await embedsReady(page);
  const embed = page.locator("#hostile");
  await embed.locator(".lesson-name").waitFor();
  assert.equal(await embed.locator(".lesson-name").textContent(), lesson.title);
  await page.evaluate(() => (document.getElementById("hostile").sandbox.lessons.player.typingMs = 0));
  await embed.locator("[data-role=run-command]").click();
  await embed.locator("[data-role=run-command][data-ran]").waitFor();
  const counts = await page.evaluate(() => {
    const root = document.getElementById("hostile").shadowRoot;
    return { img: root.querySelectorAll("img").length, script: root.querySelectorAll("script").length, b: root.querySelectorAll(".lesson-step b").length, javascriptLinks: root.querySelectorAll("a[href^='javascript']").length };
  });
  assert.deepEqual(counts, { img: 0, script: 0, b: 0, javascriptLinks: 0 });
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.match(await engine(page, "hostile", "redis", "GET payload"), /<img src=x/);
  assert.match(await engine(page, "hostile", "mongo", "db.x.countDocuments()"), /\b1\b/);
  await finish();
});

test("a setup line that fails is reported in its embed, not thrown at the page", async () => {
  const { page, finish } = await open("embed.html?engines=redis&setup-redis=SET%20a%201%0AINCR%20a%20b%0ASET%20c%203");
  await embedsReady(page);
  const message = await page.locator("nosql-playground [data-role=setup-error]").textContent();
  assert.match(message, /^setup redis line 2: \(error\) ERR wrong number of arguments/);
  assert.match(await page.evaluate(() => JSON.parse(document.querySelector("nosql-playground").sandbox.playground.redisCheck("EXISTS c", Date.now())).ok), /\(integer\) 0/);
  await finish();
});

test("when the engine stops, every embed says so in its own box and the course page stays usable", async () => {
  const { page } = await open("examples/course.html");
  await embedsReady(page);
  // The release build aborts on panic: the call traps after the panic hook has run.
  const thrown = await page.evaluate(() => {
    try {
      document.getElementById("sandbox-find").sandbox.playground.debugPanic();
      return "no error";
    } catch (error) {
      return `${error.constructor.name}: ${error.message}`;
    }
  });
  assert.match(thrown, /^RuntimeError: unreachable/);
  const stopped = await page.evaluate(() =>
    [...document.querySelectorAll("nosql-playground")].map((host) => {
      const box = host.shadowRoot.querySelector("[data-role=stopped]");
      return { id: host.id, message: box?.textContent ?? null, inert: host.shadowRoot.querySelector(".nsp").inert };
    }),
  );
  for (const embed of stopped) {
    assert.match(embed.message ?? "", /^The sandbox hit an internal error:.*deliberate panic from debugPanic\(\)/s, embed.id);
    assert.equal(embed.inert, true, embed.id);
  }
  assert.equal(await page.evaluate(() => document.querySelector("main").inert || document.body.inert), false);
  const overlay = await page.evaluate(() => getComputedStyle(document.getElementById("sandbox-both").shadowRoot.querySelector(".panic-overlay")).position);
  assert.equal(overlay, "absolute", "the overlay covers its embed, not the window");
  await page.context().close();
});

test("with persist and an id an embed keeps its work across a reload, in storage of its own", async () => {
  const { page, finish } = await open("examples/course.html");
  await page.route("**/examples/persist.html", (route) =>
    route.fulfill({
      contentType: "text/html",
      body:
        `<!doctype html><meta http-equiv="Content-Security-Policy" content="${CSP}"><title>persist</title>` +
        '<script type="module" src="../embed.js"></script>' +
        '<nosql-playground id="keep" persist engines="redis" panels="" setup-redis="SET seeded 1"></nosql-playground>' +
        '<nosql-playground id="other" persist engines="redis" panels=""></nosql-playground>' +
        '<nosql-playground id="forget" engines="redis" panels=""></nosql-playground>' +
        '<nosql-playground persist engines="redis" panels=""></nosql-playground>',
    }),
  );
  await page.goto(`${harness.url}examples/persist.html`);
  await embedsReady(page);
  assert.equal(await type(page, "keep", "redis", "SET mine 1"), "OK");
  assert.equal(await type(page, "keep", "redis", "DEL seeded"), "(integer) 1");
  assert.equal(await type(page, "forget", "redis", "SET gone 1"), "OK");
  await page.evaluate(() => document.getElementById("keep").sandbox.persistence.idle());

  await page.reload();
  await embedsReady(page);
  assert.match(await engine(page, "keep", "redis", "EXISTS mine"), /\(integer\) 1/);
  assert.match(await engine(page, "keep", "redis", "EXISTS seeded"), /\(integer\) 0/, "the setup does not run over restored work");
  assert.match(await engine(page, "other", "redis", "DBSIZE"), /\(integer\) 0/);
  assert.match(await engine(page, "forget", "redis", "DBSIZE"), /\(integer\) 0/);
  const keep = page.locator("#keep").getByRole("textbox", { name: "Redis command" });
  await keep.press("ArrowUp");
  assert.equal(await keep.inputValue(), "DEL seeded");
  const other = page.locator("#other").getByRole("textbox", { name: "Redis command" });
  await other.press("ArrowUp");
  assert.equal(await other.inputValue(), "");

  const prefix = "nosql-playground:embed:/examples/persist.html#";
  const storage = await page.evaluate(async () => ({
    databases: (await indexedDB.databases()).map((d) => d.name).sort(),
    keys: Object.keys(localStorage).sort(),
  }));
  assert.deepEqual(storage.databases, [`${prefix}keep`, `${prefix}other`], "one database per embed that persists, none for the page's own");
  assert.ok(storage.keys.length > 0 && storage.keys.every((k) => k.startsWith(`${prefix}keep:`) || k.startsWith(`${prefix}other:`)), storage.keys.join(", "));
  await finish();
});
