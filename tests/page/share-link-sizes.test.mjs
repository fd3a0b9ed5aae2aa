// The share-link sizes the README reports for the built-in lessons: computed by
// scripts/share-link-sizes.mjs with the page's encoder in Chromium, checked here to be what
// the README says and to open again to the same session.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, WWW, startHarness } from "./harness.mjs";
import { browserEncoder, lessonSession, measure, table } from "../../scripts/share-link-sizes.mjs";
import { decodeShare } from "../../www/js/persistence.js";
import { validateIndex, validateLesson } from "../../www/js/lesson-format.js";

const index = validateIndex(JSON.parse(readFileSync(join(WWW, "lessons", "index.json"), "utf8")));
const lessons = index.lessons.map((file) => validateLesson(JSON.parse(readFileSync(join(WWW, "lessons", file), "utf8")), file));

let harness;
let encoder;
before(async () => {
  harness = await startHarness();
  encoder = await browserEncoder(harness.browser, harness.url);
});
after(async () => {
  await encoder?.close();
  await harness?.stop();
});

test("the README's table of share-link sizes is the one the script prints", async () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const expected = table(await measure(encoder.encode));
  assert.ok(readme.includes(expected), `README.md should hold this table (node scripts/share-link-sizes.mjs):\n${expected}`);
});

test("every lesson's link opens to its session", async () => {
  for (const lesson of lessons) {
    const lines = lessonSession(lesson);
    assert.deepEqual(await decodeShare(await encoder.encode(lines)), lines, `lesson ${lesson.id}`);
  }
});
