// The benchmark's in-page first command (bench/first-reply.mjs): the script it injects must
// find the Redis console, type the command when the page says it is ready and read the page's
// own reply, or the benchmark's row measures nothing. Only the order of its timestamps is
// checked, never their size.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { firstReplyInPage } from "../../bench/first-reply.mjs";
import { startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.stop();
});

test("a PING typed by the page at data-ready is answered PONG, after ready and before the next frame", async () => {
  const result = await firstReplyInPage(harness.browser, harness.url, { loads: 2 });
  assert.equal(result.na, undefined);
  assert.equal(result.reps.length, 2);
  result.reps.forEach((reply, i) => {
    assert.ok(result.ready[i] > 0 && result.ready[i] <= reply && reply <= result.frame[i], JSON.stringify(result));
  });
});

test("a reply other than the expected one makes the row n/a instead of a time", async () => {
  const result = await firstReplyInPage(harness.browser, harness.url, { loads: 1, command: "ECHO hello" });
  assert.deepEqual(result, { na: 'ECHO hello answered "\\"hello\\""' });
});
