// Shared set-up for the page tests: a static server for www/ and Debian's Chromium.
// Not a test file itself (node --test only picks up *.test.mjs here).

import { createServer } from "node:http";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { buildPage } from "../../scripts/build-page.mjs";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const WWW = join(ROOT, "www");
export const SCREENSHOTS = join(ROOT, "tests", "page", "screenshots");

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/** Fails early, with the fix, when the wasm builds the page loads are not there. */
export function requireBuiltPkg() {
  for (const dir of ["pkg", "pkg-full"]) {
    const pkg = join(WWW, dir, "nosql_playground.js");
    if (!existsSync(pkg) || !existsSync(join(WWW, dir, "nosql_playground_bg.wasm"))) {
      throw new Error(`www/${dir} is missing (${pkg}). Build the wasm packages first:\n  scripts/build-wasm`);
    }
  }
}

/**
 * Serves www/ on an ephemeral 127.0.0.1 port. Resolves to { url, close }. `headers` are sent
 * with every response (a Content-Security-Policy, say).
 */
export async function startServer({ headers = {} } = {}) {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      const file = normalize(join(WWW, path.endsWith("/") ? path + "index.html" : path));
      if (file !== WWW && !file.startsWith(WWW + sep)) {
        res.writeHead(403).end();
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": MIME[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
        ...headers,
      });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * Starts the server and the browser for one test file. Call `stop()` in an `after` hook;
 * it tolerates a half-finished start so a failing set-up still cleans up.
 */
export async function startHarness({ headers } = {}) {
  const harness = { server: null, browser: null, url: null };
  harness.stop = async () => {
    await harness.browser?.close().catch(() => {});
    await harness.server?.close();
  };
  try {
    requireBuiltPkg();
    // The pages load the bundle of www/js/ (www/dist/): rebuilt here, so the tests always run
    // the sources as they are (a second or so; unchanged files are left alone).
    await buildPage();
    harness.server = await startServer({ headers });
    harness.url = harness.server.url;
    harness.browser = await launchBrowser();
  } catch (error) {
    await harness.stop();
    throw error;
  }
  return harness;
}

/**
 * A fresh page (own context, so own localStorage) with the engine loaded. Page errors are
 * collected so a test can assert that none happened.
 */
export async function openPage(harness, { colorScheme = "light", viewport } = {}) {
  const context = await harness.browser.newContext({
    colorScheme,
    viewport: viewport ?? { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  page.on("dialog", (dialog) => {
    errors.push(new Error(`unexpected dialog: ${dialog.message()}`));
    dialog.dismiss().catch(() => {});
  });
  await page.goto(harness.url);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 10_000 });
  const ready = await page.evaluate(() => document.body.dataset.ready);
  if (ready !== "true") {
    const status = await page.locator("#load-status").textContent();
    throw new Error(`page did not load the engine: ${status}`);
  }
  return { page, context, errors };
}

/** Types a line into the Redis console (as the client whose tab is selected) and waits for
 * its entry to appear. */
export async function redis(page, line) {
  const log = page.locator("#redis-console [role=log]:not([hidden])");
  const before = await log.locator(".entry").count();
  const input = page.getByRole("textbox", { name: "Redis command" });
  await input.fill(line);
  await input.press("Enter");
  await log.locator(".entry").nth(before).waitFor();
  return log.locator(".entry").nth(before);
}

/** Runs `fn` on a fresh page and fails if the page raised errors or opened a dialog. */
export async function withPage(harness, fn, options) {
  const { page, context, errors } = await openPage(harness, options);
  try {
    await fn(page);
    assert.deepEqual(errors.map(String), [], "the page raised errors");
  } finally {
    await context.close();
  }
}

/** Types mongosh source into the Mongo console and runs it. */
export async function mongo(page, src) {
  const log = page.locator("#mongo-console [role=log]");
  const before = await log.locator(".entry").count();
  const input = page.getByRole("textbox", { name: "Mongo shell" });
  await input.fill(src);
  await input.press("Enter");
  await log.locator(".entry").nth(before).waitFor();
  return log.locator(".entry").nth(before);
}

/** The keyspace panel's live rows (not the ones fading out), as {key, type, ...}. */
export function keyRows(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("keyspace-panel .ks-rows .ks-row")]
      .filter((el) => !el.classList.contains("gone"))
      .map((el) => ({
        key: el.dataset.key,
        type: el.dataset.type,
        cells: [...el.children].map((c) => c.textContent),
        ttl: el.dataset.ttl === undefined ? null : Number(el.dataset.ttl),
        classes: el.className,
      })),
  );
}

/** A row of the keyspace panel by key (live or fading). */
export function keyRow(page, key) {
  return page.locator("keyspace-panel .ks-rows .ks-row").filter({ has: page.locator(".k", { hasText: key }) });
}

/** Serves lesson files of the test's own in place of the course's: `files` maps a file name
 * to its body (an object is sent as JSON, a string as it is). */
export async function serveCourse(page, files) {
  await page.route("**/lessons/index.json", (route) =>
    route.fulfill({ contentType: "application/json", body: JSON.stringify({ lessons: Object.keys(files) }) }),
  );
  for (const [name, body] of Object.entries(files)) {
    await page.route(`**/lessons/${name}`, (route) =>
      route.fulfill({ contentType: "application/json", body: typeof body === "string" ? body : JSON.stringify(body) }),
    );
  }
}

/** Opens lesson `id` from the page's lesson picker (unfolding it first). */
export async function openLesson(page, id) {
  const picker = page.locator("lesson-picker");
  const toggle = picker.locator("[data-role=lessons-toggle]");
  if ((await toggle.getAttribute("aria-expanded")) === "false") await toggle.click();
  await picker.locator(`.lesson-item[data-lesson="${id}"] .lesson-open`).click();
  await picker.locator(`.lesson-name[data-lesson="${id}"]`).waitFor();
}

/** `keys` string keys `k:<i>` = `v<i>` in one engine call, not typed (tests of the saves). */
export function fillKeys(page, keys) {
  return page.evaluate((keys) => {
    const lines = [];
    for (let i = 0; i < keys; i += 1000) {
      const pairs = [];
      for (let j = i; j < Math.min(keys, i + 1000); j++) pairs.push(`k:${j} v${j}`);
      lines.push(`MSET ${pairs.join(" ")}`);
    }
    window.app.playground.redisScript(lines.join("\n"), Date.now());
  }, keys);
}
