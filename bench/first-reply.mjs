// Navigation → the first command's reply, as the page itself experiences it. run.mjs's
// first_command row drives the page from Node (wait for data-ready, fill the input, press
// Enter, poll for the reply): each of those steps is a round trip to the driver, which on a
// loaded machine adds 100–300 ms that no student waits for. Here a script injected before the
// page's own types the command the moment the page says it is ready, and the page's own clock
// (performance.now(), from navigation start) stamps the reply; the driver only collects the
// numbers once everything is over. Nothing in www/ knows about it.

/**
 * Runs in the page before any of its scripts (page.addInitScript). Exposes
 * `window.__benchFirstReply`: a promise of the timestamps, in ms since navigation start.
 */
function typeAtReady(command) {
  const times = {};
  let settle;
  window.__benchFirstReply = new Promise((resolve) => (settle = resolve));
  const reply = () => {
    const log = document.querySelector('[role="log"][aria-label="Redis output"]');
    for (const entry of log?.querySelectorAll(".entry") ?? []) {
      const echo = entry.querySelector(".echo-input");
      const output = entry.querySelector("pre.output");
      if (echo?.textContent === command && output) return output.textContent;
    }
    return null;
  };
  const check = (observer) => {
    if (times.readyAt === undefined) {
      if (document.body?.dataset.ready !== "true") return;
      times.readyAt = performance.now();
      // What a student's typing delivers to the console: the text, an input event, Enter.
      const input = document.querySelector('input[aria-label="Redis command"]');
      input.value = command;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    }
    // A line that needs the full module is answered later; the observer sees it arrive.
    const text = reply();
    if (text === null) return;
    times.replyAt = performance.now();
    times.reply = text;
    observer.disconnect();
    // The frame that shows the reply: its requestAnimationFrame callbacks run just before
    // it is painted.
    requestAnimationFrame(() => settle({ ...times, frameAt: performance.now() }));
  };
  const start = () => {
    const observer = new MutationObserver(() => check(observer));
    observer.observe(document.documentElement, {
      childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["data-ready"],
    });
  };
  if (document.documentElement) start();
  else document.addEventListener("readystatechange", start, { once: true });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * `loads` cold loads of `url`, one fresh browser context (no HTTP cache) each, with `command`
 * typed by the page at data-ready. Returns { reps, note } (reps: navigation → reply in the
 * DOM) or { na } when a load does not answer `expected`.
 */
export async function firstReplyInPage(browser, url, { loads, command = "PING", expected = "PONG", timeoutMs = 15000 }) {
  const reps = [];
  const ready = [];
  const frame = [];
  for (let i = 0; i < loads; i++) {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.addInitScript(typeAtReady, command);
      await page.goto(url, { waitUntil: "commit" });
      const t = await page.evaluate(async (ms) => Promise.race([
        window.__benchFirstReply,
        new Promise((resolve) => setTimeout(() => resolve(null), ms)),
      ]), timeoutMs);
      if (!t) return { na: `no reply to ${command} within ${timeoutMs / 1000} s` };
      if (t.reply !== expected) return { na: `${command} answered ${JSON.stringify(t.reply)}` };
      reps.push(t.replyAt);
      ready.push(t.readyAt);
      frame.push(t.frameAt);
    } catch (e) {
      return { na: "page did not load: " + String(e.message).split("\n")[0] };
    } finally {
      await ctx.close();
    }
  }
  const ms = (x) => x.toFixed(0) + " ms";
  return {
    reps,
    frame,
    ready,
    note: `typed by the page at data-ready (median ${ms(median(ready))}), answered a median of ` +
      `${ms(median(reps.map((x, i) => x - ready[i])))} later; the frame showing it began at ${ms(median(frame))}`,
  };
}
