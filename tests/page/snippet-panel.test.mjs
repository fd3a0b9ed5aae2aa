import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { keyRow, SCREENSHOTS, startHarness, withPage as run } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
  await mkdir(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await harness?.stop();
});
const withPage = (fn, options) => run(harness, fn, options);

const PIPELINED = `import Redis from 'ioredis';
const redis = new Redis();
const pipeline = redis.pipeline();
for (let i = 0; i < 10; i++) pipeline.set(\`page:\${i}\`, i);
console.log((await pipeline.exec()).length);`;

const LOOPED = `const Redis = require('ioredis');
const redis = new Redis();
for (let i = 0; i < 10; i++) {
  await redis.set(\`loop:\${i}\`, i);
}
await redis.get('loop:9')`;

/** Types `source` into the editor and runs it with Ctrl+Enter; resolves to the stats. */
async function runSnippet(page, source) {
  const editor = page.getByRole("textbox", { name: "Driver snippet" });
  await editor.fill(source);
  const output = page.getByRole("status", { name: "Snippet output" });
  await output.evaluate((el) => {
    el.textContent = "";
  });
  await editor.press("Control+Enter");
  await output.filter({ hasText: /./ }).waitFor();
  const stats = page.locator("#snippet-panel [data-role=stats]");
  return {
    output: await output.textContent(),
    trips: Number(await stats.getAttribute("data-round-trips")),
    estimate: Number(await stats.getAttribute("data-estimate-ms")),
    text: await stats.textContent(),
  };
}

test("snippet panel: a pipeline is one round trip, a loop one per command, priced at the chosen latency", () =>
  withPage(async (page) => {
    const panel = page.getByRole("region", { name: "Driver snippet" });
    await panel.waitFor();
    await page.getByRole("button", { name: "JavaScript", exact: true }).click();
    assert.equal(await page.getByRole("button", { name: "JavaScript", exact: true }).getAttribute("aria-pressed"), "true");

    const pipelined = await runSnippet(page, PIPELINED);
    assert.equal(pipelined.output, "10\n");
    assert.equal(pipelined.trips, 1);
    assert.equal(pipelined.estimate, 0, "the latency starts at 0 ms");

    const latency = page.getByRole("combobox", { name: "Simulated network latency" });
    await latency.selectOption("50");
    assert.equal(Number(await page.locator("#snippet-panel [data-role=stats]").getAttribute("data-estimate-ms")), 50);

    const looped = await runSnippet(page, LOOPED);
    assert.equal(looped.output, "'9'\n");
    assert.equal(looped.trips, 11);
    assert.equal(looped.estimate, 550);
    assert.match(looped.text, /11 round trips/);
    assert.match(looped.text, /550 ms/);
    await latency.selectOption("1");
    assert.equal(Number(await page.locator("#snippet-panel [data-role=stats]").getAttribute("data-estimate-ms")), 11);

    // The keyspace panel shows what the snippet wrote, as after a console command.
    await keyRow(page, "page:3").waitFor();
    await keyRow(page, "loop:9").waitFor();

    // Output is text, never markup.
    const hostile = await runSnippet(page, "console.log('<img src=x onerror=alert(1)>')");
    assert.equal(hostile.output, "<img src=x onerror=alert(1)>\n");
    assert.equal(await panel.locator("img").count(), 0);

    // A failing snippet says so.
    const failed = await runSnippet(page, "const Redis = require('ioredis'); const r = new Redis(); await r.set('s', 1); await r.lpush('s', 'x')");
    assert.match(failed.output, /^ReplyError: WRONGTYPE/);
    assert.equal(await page.getByRole("status", { name: "Snippet output" }).getAttribute("class"), "snippet-output failed");

    await page.screenshot({ path: join(SCREENSHOTS, "snippet-panel.png"), fullPage: true });
  }));

test("snippet panel: the Python side runs and shows its output; each language keeps its own draft", () =>
  withPage(async (page) => {
    await page.getByRole("button", { name: "JavaScript", exact: true }).click();
    const editor = page.getByRole("textbox", { name: "Driver snippet" });
    await editor.fill("console.log('js draft')");
    await page.getByRole("button", { name: "Python", exact: true }).click();
    assert.equal(await page.getByRole("button", { name: "Python", exact: true }).getAttribute("aria-pressed"), "true");
    const py = await runSnippet(page, "print('hello from python')");
    assert.ok(py.output.length > 0, "the Python run printed something");
    await page.getByRole("button", { name: "JavaScript", exact: true }).click();
    assert.equal(await editor.inputValue(), "console.log('js draft')");
  }));

test("snippet panel: a Mongo driver snippet's documents show in the collections panel", () =>
  withPage(async (page) => {
    await page.getByRole("button", { name: "JavaScript", exact: true }).click();
    const result = await runSnippet(
      page,
      `const { MongoClient } = require('mongodb');
const client = new MongoClient('mongodb://localhost:27017');
const posts = client.db('blogdb').collection('posts');
await posts.insertMany([{ _id: 1, views: 5 }, { _id: 2, views: 9 }]);
await posts.find({}, { projection: { _id: 1 } }).sort({ views: -1 }).toArray()`,
    );
    assert.equal(result.output, "[ { _id: 2 }, { _id: 1 } ]\n");
    assert.equal(result.trips, 2);
    await page.getByRole("region", { name: "MongoDB collections" }).locator(".coll-button", { hasText: "posts" }).waitFor();
  }));
