#!/usr/bin/env node
// Share-link sizes of the built-in lessons, measured with the page's own encoder
// (www/js/persistence.js `encodeShare`: JSON, deflate-raw, base64url, in `#s=`) run in
// Debian's Chromium, as on the page: Node's zlib compresses some sessions a few bytes
// differently from Chromium's.
//
// A lesson played on the page leaves its commands in the session, one line per command,
// in order, which is what a share link carries; the lesson's setup runs silently and is
// not part of the session. Both are measured: the link the page makes today, and one that
// also carries the setup (what replaying the lesson from an empty sandbox would need).
//
//   node scripts/share-link-sizes.mjs            # prints the table the README shows
//
// tests/page/share-link-sizes.test.mjs checks that the README's table is this output.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser, startServer } from "../tests/page/harness.mjs";
import { validateIndex, validateLesson } from "../www/js/lesson-format.js";

const LESSONS = fileURLToPath(new URL("../www/lessons/", import.meta.url));
const code = (engine) => (engine === "mongo" ? "m" : "r");

/** The session lines a lesson played step by step leaves, and the same with its setup first. */
export function lessonSessions(lesson) {
  const commands = lesson.steps.flatMap((step) => (step.commands ?? []).map((c) => [code(c.engine), c.text]));
  const setup = [
    ...(lesson.setup?.redis ?? []).map((line) => ["r", line]),
    ...(lesson.setup?.mongo ?? []).map((statement) => ["m", statement]),
  ];
  return { commands, withSetup: [...setup, ...commands] };
}

/**
 * Rows of {n, id, lines, fragment, linesWithSetup, fragmentWithSetup} for the course, with
 * `encodeShare` the encoder (lines → payload) to measure with.
 */
export async function measure(encodeShare) {
  const index = validateIndex(JSON.parse(readFileSync(join(LESSONS, "index.json"), "utf8")));
  const rows = [];
  for (const [i, file] of index.lessons.entries()) {
    const lesson = validateLesson(JSON.parse(readFileSync(join(LESSONS, file), "utf8")), file);
    const { commands, withSetup } = lessonSessions(lesson);
    rows.push({
      n: i + 1,
      id: lesson.id,
      lines: commands.length,
      fragment: `#s=${await encodeShare(commands)}`.length,
      linesWithSetup: withSetup.length,
      fragmentWithSetup: `#s=${await encodeShare(withSetup)}`.length,
    });
  }
  return rows;
}

export function table(rows) {
  const out = [
    "| # | lesson | commands | link fragment | with setup: lines | with setup: fragment |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    out.push(`| ${r.n} | \`${r.id}\` | ${r.lines} | ${r.fragment} | ${r.linesWithSetup} | ${r.fragmentWithSetup} |`);
  }
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
