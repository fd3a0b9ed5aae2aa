#!/usr/bin/env node
// Share-link sizes of the built-in lessons, measured with the page's own encoder
// (www/js/persistence.js `encodeShare`: JSON, deflate-raw, base64url, in `#s=`) run in
// Debian's Chromium, as on the page: Node's zlib compresses some sessions a few bytes
// differently from Chromium's.
//
// A lesson played on the page leaves in the session its setup lines (marked as setup, which a
// replay runs silently as the lesson did), then its commands, one line per command, in order,
// each Redis command with the client it ran on: what a share link made at the end carries.
//
//   node scripts/share-link-sizes.mjs            # prints the table the README shows
//
// tests/page/share-link-sizes.test.mjs checks that the README's table is this output.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser, startServer } from "../tests/page/harness.mjs";
import { validateIndex, validateLesson } from "../www/js/lesson-format.js";
import { lineCode, parseLineCode } from "../www/js/persistence.js";

const LESSONS = fileURLToPath(new URL("../www/lessons/", import.meta.url));

/** The session lines a lesson played step by step leaves, as the page records them. */
export function lessonSession(lesson) {
  return [
    ...(lesson.setup?.redis ?? []).map((line) => [lineCode("redis", { setup: true }), line]),
    ...(lesson.setup?.mongo ?? []).map((statement) => [lineCode("mongo", { setup: true }), statement]),
    ...lesson.steps.flatMap((step) => (step.commands ?? []).map((c) => [lineCode(c.engine, { client: c.client ?? 1 }), c.text])),
  ];
}

/** Rows of {n, id, setup, commands, fragment} for the course, with `encodeShare` the encoder (lines → payload). */
export async function measure(encodeShare) {
  const index = validateIndex(JSON.parse(readFileSync(join(LESSONS, "index.json"), "utf8")));
  const rows = [];
  for (const [i, file] of index.lessons.entries()) {
    const lesson = validateLesson(JSON.parse(readFileSync(join(LESSONS, file), "utf8")), file);
    const session = lessonSession(lesson);
    const setup = session.filter(([code]) => parseLineCode(code).setup).length;
    rows.push({
      n: i + 1,
      id: lesson.id,
      setup,
      commands: session.length - setup,
      fragment: `#s=${await encodeShare(session)}`.length,
    });
  }
  return rows;
}

export function table(rows) {
  const out = ["| # | lesson | setup lines | commands | link fragment |", "|---|---|---|---|---|"];
  for (const r of rows) out.push(`| ${r.n} | \`${r.id}\` | ${r.setup} | ${r.commands} | ${r.fragment} |`);
  return out.join("\n");
}

/** The page's encoder, in a page of www/ served to Chromium. */
export async function browserEncoder(browser, url) {
  const page = await browser.newPage();
  await page.goto(`${url}lessons/index.json`);
  const encode = (lines) =>
    page.evaluate(async (session) => (await import("/js/persistence.js")).encodeShare(session), lines);
  return { encode, close: () => page.close() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const { encode } = await browserEncoder(browser, server.url);
    console.log(table(await measure(encode)));
  } finally {
    await browser.close();
    await server.close();
  }
}
