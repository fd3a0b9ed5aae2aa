import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redis, startHarness, withPage } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

/** The log of the client whose tab is selected. */
const visibleLog = (page) => page.locator("#redis-console [role=log]:not([hidden])");

/** Types a line as the client whose tab is selected; returns its entry. */
const type = redis;

const tab = (page, id) => page.locator(`#redis-console .client-tab[data-client="${id}"]`);

test("a message published by client 2 appears in subscribed client 1's console", () =>
  withPage(harness, async (page) => {
    const sub = await type(page, "SUBSCRIBE chat");
    assert.equal(await sub.locator(".output").textContent(), '1) "subscribe"\n2) "chat"\n3) (integer) 1');
    await page.locator("#redis-console [data-role=client-add]").click();
    assert.equal(await tab(page, 2).getAttribute("aria-selected"), "true");
    const pub = await type(page, "PUBLISH chat hello");
    assert.equal(await pub.locator(".output").textContent(), "(integer) 1");
    // Client 1's tab counts the unread message until it is opened.
    await page.waitForFunction(() =>
      document.querySelector('#redis-console .client-tab[data-client="1"]')?.textContent.includes("•1"),
    );
    await tab(page, 1).click();
    const received = visibleLog(page).locator(".output.received").last();
    await received.waitFor();
    assert.equal(await received.textContent(), '1) "message"\n2) "chat"\n3) "hello"');
    // A subscribed RESP2 client refuses other commands with the server's words.
    const refused = await type(page, "GET a");
    assert.match(await refused.locator(".output").textContent(), /^\(error\) ERR Can't execute 'get'/);
  }));

test("a BLPOP waits, shows its countdown and is woken by another client's RPUSH", () =>
  withPage(harness, async (page) => {
    const blpop = await type(page, "BLPOP jobs 30");
    assert.equal(await blpop.locator(".output").count(), 0, "nothing is printed while blocked");
    const waiting = page.locator("#redis-console [data-role=waiting]");
    await waiting.waitFor();
    assert.match(await waiting.textContent(), /^Waiting: BLPOP jobs 30 \((30\.0|29\.\d) s left\)$/);
    assert.match(await tab(page, 1).textContent(), /⏳/);
    await page.locator("#redis-console [data-role=client-add]").click();
    const push = await type(page, "RPUSH jobs job1");
    assert.equal(await push.locator(".output").textContent(), "(integer) 1");
    await tab(page, 1).click();
    const late = visibleLog(page).locator(".output.received").last();
    await late.waitFor();
    assert.equal(await late.textContent(), '1) "jobs"\n2) "job1"');
    assert.equal(await waiting.isHidden(), true);
    assert.doesNotMatch(await tab(page, 1).textContent(), /⏳/);
  }));

test("a blocked client times out when the clock bar moves the sandbox 10 s on", () =>
  withPage(harness, async (page) => {
    await type(page, "BLPOP nothing 5");
    await page.locator("#redis-console [data-role=waiting]").waitFor();
    await page.getByRole("button", { name: "Advance 10 seconds" }).click();
    const late = visibleLog(page).locator(".output.received").last();
    await late.waitFor();
    assert.equal(await late.textContent(), "(nil)");
    assert.equal(await page.locator("#redis-console [data-role=waiting]").isHidden(), true);
    // The client is free again.
    const ping = await type(page, "PING");
    assert.equal(await ping.locator(".output").textContent(), "PONG");
  }));

test(".client lines open and switch client tabs", () =>
  withPage(harness, async (page) => {
    const open = await type(page, ".client 3");
    assert.equal(await open.locator(".output").textContent(), "(sandbox) client 3");
    assert.equal(await tab(page, 3).getAttribute("aria-selected"), "true");
    const id = await type(page, "CLIENT ID");
    assert.equal(await id.locator(".output").textContent(), "(integer) 3");
    await type(page, "SELECT 2");
    assert.equal(await page.locator("#redis-console [data-role=prompt]").textContent(), "127.0.0.1:6379[2]>");
    await tab(page, 1).click();
    assert.equal(await page.locator("#redis-console [data-role=prompt]").textContent(), "127.0.0.1:6379>");
  }));

test("a message published in one browser tab reaches a subscriber in another", async () => {
  const context = await harness.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  try {
    const open = async () => {
      const page = await context.newPage();
      page.on("pageerror", (error) => errors.push(error));
      await page.goto(harness.url);
      await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 10_000 });
      return page;
    };
    const [listener, speaker] = [await open(), await open()];
    await type(listener, "SUBSCRIBE lobby");
    const pub = await type(speaker, "PUBLISH lobby hi-from-tab-2");
    // No subscriber in the publishing tab itself.
    assert.equal(await pub.locator(".output").textContent(), "(integer) 0");
    const received = visibleLog(listener).locator(".output.received").last();
    await received.waitFor();
    assert.equal(await received.textContent(), '1) "message"\n2) "lobby"\n3) "hi-from-tab-2"');
    assert.deepEqual(errors.map(String), [], "the pages raised errors");
  } finally {
    await context.close();
  }
});
