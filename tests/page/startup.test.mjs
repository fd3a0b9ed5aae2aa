// What a page fetches before it can be used, read from the request log (no timings): the page
// loads one bundled script and the first wasm module's glue, fetches the wasm once (the
// preload in index.html is the response engine.js's fetch() uses, and it is compiled as it
// streams in), and fetches no lesson file before it says it is ready. The embed's two forms
// load one bundle each.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WWW, keyRow, mongo, redis, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

/**
 * Opens `path` in a fresh context, recording every request and, in the page, every fetch()
 * with whether the page said it was ready when it was made, and how the wasm was compiled.
 * `setup(page)` runs before the page is opened.
 */
async function load(path, ready, setup = async () => {}) {
  const context = await harness.browser.newContext();
  const page = await context.newPage();
  await setup(page);
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  const requests = [];
  page.on("request", (request) => requests.push({ path: new URL(request.url()).pathname.slice(1), type: request.resourceType() }));
  await page.addInitScript(() => {
    window.__fetches = [];
    const fetch = window.fetch;
    window.fetch = function (input, init) {
      window.__fetches.push({ url: String(input?.url ?? input), ready: document.body?.dataset.ready ?? null });
      return fetch.call(this, input, init);
    };
    window.__compiled = [];
    for (const name of ["instantiateStreaming", "compileStreaming", "instantiate", "compile"]) {
      const original = WebAssembly[name];
      WebAssembly[name] = function (...args) {
        window.__compiled.push(name);
        return original.apply(this, args);
      };
    }
  });
  await page.goto(harness.url + path);
  await page.waitForFunction(ready, null, { timeout: 20_000 });
  return { page, context, errors, requests };
}

const scripts = (requests) => requests.filter((r) => r.type === "script").map((r) => r.path).sort();
const count = (requests, path) => requests.filter((r) => r.path === path).length;

test("the page loads one bundled script and the wasm glue, and fetches the wasm once, streaming", async () => {
  const { page, context, errors, requests } = await load("", () => document.body.dataset.ready === "true");
  try {
    assert.deepEqual(scripts(requests), ["dist/main.js", "pkg/nosql_playground.js"]);
    assert.equal(count(requests, "pkg/nosql_playground_bg.wasm"), 1, "the preloaded response serves the glue's fetch");
    assert.deepEqual(
      requests.filter((r) => r.path.startsWith("js/")),
      [],
      "the sources in js/ are not what the page loads",
    );
    // Compiled as it downloads (engine.js starts it with the glue's import), then instantiated.
    assert.deepEqual(await page.evaluate(() => window.__compiled), ["compileStreaming", "instantiate"]);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a server that sends the wasm with another type still starts the page, compiled without streaming", async () => {
  const wasm = readFileSync(join(WWW, "pkg", "nosql_playground_bg.wasm"));
  const { page, context, errors } = await load(
    "",
    () => document.body.dataset.ready !== undefined,
    (page) => page.route("**/pkg/nosql_playground_bg.wasm", (route) => route.fulfill({ body: wasm, contentType: "application/octet-stream" })),
  );
  try {
    assert.equal(await page.evaluate(() => document.body.dataset.ready), "true");
    assert.deepEqual(await page.evaluate(() => window.__compiled), ["compile", "instantiate"]);
    assert.equal(await redis(page, "PING").then((entry) => entry.locator(".output").textContent()), "PONG");
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("the keyspace panel's detail views are fetched when a key is first opened, once", async () => {
  const { page, context, errors, requests } = await load("", () => document.body.dataset.ready === "true");
  try {
    assert.equal(count(requests, "dist/key-detail.js"), 0, "not part of the first load");
    for (const line of ["HSET user name ada", "RPUSH jobs a b"]) await redis(page, line);
    await keyRow(page, "user").click();
    await page.locator("keyspace-panel .key-detail-hash").waitFor();
    await keyRow(page, "jobs").click();
    await page.locator("keyspace-panel .key-detail-list").waitFor();
    assert.equal(count(requests, "dist/key-detail.js"), 1);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("the explain view's plan trees are fetched when a query is first explained, once", async () => {
  const { page, context, errors, requests } = await load("", () => document.body.dataset.ready === "true");
  try {
    assert.equal(count(requests, "dist/explain-plan.js"), 0, "not part of the first load");
    await mongo(page, "db.users.insertOne({_id: 1, email: 'a@x.org'})");
    await mongo(page, "db.users.find({email: 'a@x.org'}).explain()");
    await page.locator("[data-slot=explain] .ev-stage").first().waitFor();
    await mongo(page, "db.users.find({_id: 1}).explain()");
    await page.waitForFunction(() => document.querySelector("[data-slot=explain] .ev-stage")?.dataset.stage === "IDHACK");
    assert.equal(count(requests, "dist/explain-plan.js"), 1);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("index.html preloads the first module's wasm and glue, the wasm in the glue's CORS mode", () => {
  const html = readFileSync(join(WWW, "index.html"), "utf8");
  assert.match(html, /<link rel="modulepreload" href="pkg\/nosql_playground.js">/);
  // fetch() is a CORS request with same-origin credentials: a preload must say `crossorigin`
  // (anonymous) to be the same request, or the browser fetches the wasm twice.
  assert.match(html, /<link rel="preload" href="pkg\/nosql_playground_bg.wasm" as="fetch" [^>]*crossorigin>/);
});

test("no lesson file is fetched before the page is ready; the course is fetched after", async () => {
  const { page, context, errors } = await load("", () => document.body.dataset.ready === "true");
  try {
    const course = JSON.parse(readFileSync(join(WWW, "lessons", "index.json"), "utf8")).lessons;
    await page.waitForFunction(() => document.querySelector("lesson-picker .lesson-status")?.textContent);
    const lessons = (await page.evaluate(() => window.__fetches)).filter((f) => new URL(f.url).pathname.includes("/lessons/"));
    assert.deepEqual(
      lessons.map((f) => new URL(f.url).pathname.replace(/^.*\/lessons\//, "")).sort(),
      ["index.json", ...course].sort(),
    );
    assert.deepEqual(
      lessons.filter((f) => f.ready !== "true"),
      [],
      "lesson files fetched before the page was ready",
    );
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

const embedsReady = () =>
  [...document.querySelectorAll("nosql-playground")].every((e) => e.dataset.ready === "true");

test("the embed's forms load one bundle each", async () => {
  for (const [path, bundle] of [
    ["embed.html?engines=redis", "dist/embed-frame.js"],
    ["examples/course.html", "dist/embed.js"],
  ]) {
    const { context, errors, requests } = await load(path, embedsReady);
    try {
      const glue = scripts(requests).filter((p) => p.startsWith("pkg"));
      assert.deepEqual(scripts(requests), [bundle, ...glue], path);
      assert.ok(glue.length > 0, `${path} loads a wasm module's glue`);
      assert.deepEqual(errors, [], path);
    } finally {
      await context.close();
    }
  }
});
