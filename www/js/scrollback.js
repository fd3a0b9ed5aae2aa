import { yieldToPage } from "./paste-runner.js";

// The output region of a console. Everything the engines print is student-controlled data
// (a stored value can be any string), so it only ever enters the DOM as textContent.

// Enough to scroll back through a long session without the DOM growing without bound.
const MAX_ENTRIES = 1000;
// A reply is shown up to this many lines (or characters, for one huge line) at first; the
// rest comes in larger steps on request, so a KEYS * over 100k keys never freezes the tab.
export const FIRST_LINES = 200;
const FIRST_CHARS = 20_000;
const MORE_LINES = 2_000;
const MORE_CHARS = 200_000;
// Entries a held log (a pasted block running) shows: the newest replies, drawn once a frame.
const SHOWN_WHILE_HELD = 50;
// Copying a reply kept in parts gathers them in slices of this long.
const COPY_SLICE_MS = 12;
const HELD_DRAW_MS = 100;

/**
 * Where a chunk starting at `start` ends: before the newline that ends its `maxLines`th line
 * (so a cut reply never shows a trailing blank line), or after `maxChars` characters. A chunk
 * after the first starts with the newline the previous one stopped before.
 */
export function chunkEnd(text, start, maxLines, maxChars) {
  const limit = Math.min(text.length, start + maxChars);
  let pos = text[start] === "\n" && start > 0 ? start + 1 : start;
  for (let line = 0; line < maxLines; line++) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0 || nl >= limit) return limit;
    if (line === maxLines - 1) return nl;
    pos = nl + 1;
  }
  return limit;
}

/** Lines not shown yet, from `shown` (which sits on a newline, or inside a long line). */
function countLines(text, shown) {
  let n = text[shown] === "\n" ? 0 : 1;
  for (let i = text.indexOf("\n", shown); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** Lines of `text` from `shown` on (none when all of it is shown). */
const linesAfter = (text, shown) => (shown >= text.length ? 0 : countLines(text, shown));

/**
 * Fills `pre` with the start of `text` and, if it is long, a button that shows more and one
 * that copies the whole reply: the full text stays with the entry, the DOM holds only what
 * was asked for, so `LRANGE big 0 -1` over a million items renders a few nodes.
 *
 * `more`, for a reply the engine kept in parts (see src/redis/long_reply.rs), holds what
 * `text` lacks: `linesLeft` lines, which `next()` hands over part by part (`""` once there
 * are none, `undefined` when the engine no longer keeps the reply). They are asked for only
 * when shown or copied, so a million-item reply costs the page its first lines.
 */
export function renderLong(pre, text, item, more = null) {
  let shown = chunkEnd(text, 0, FIRST_LINES, FIRST_CHARS);
  pre.textContent = text.slice(0, shown);
  let linesLeft = more?.linesLeft ?? 0;
  if (shown >= text.length && linesLeft === 0) return;
  let lost = false;
  /** Brings the next part into `text`; false when there was none. */
  const pullPart = () => {
    const part = more.next();
    if (!part) {
      lost = part === undefined;
      if (lost) showLost(item);
      linesLeft = 0;
      return false;
    }
    text += "\n" + (part.endsWith("\n") ? part.slice(0, -1) : part);
    linesLeft -= countNewlines(part);
    return true;
  };
  /** Brings parts into `text` until it holds `lines` lines past `shown`, or none are left. */
  const pull = (lines) => {
    while (linesLeft > 0 && linesAfter(text, shown) < lines && pullPart());
  };
  const actions = document.createElement("div");
  actions.className = "output-actions";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "show-more";
  const label = () => {
    const hidden = linesAfter(text, shown) + linesLeft;
    const next = Math.min(hidden, MORE_LINES);
    button.textContent = `Show ${next === hidden ? "the remaining" : `${next} more of`} ${hidden} hidden line${hidden === 1 ? "" : "s"}`;
  };
  label();
  const total = linesAfter(text, 0) + linesLeft;
  const copy = copyAllButton(total, async () => {
    // Part by part, giving the page the event loop between slices.
    let sliceEnd = performance.now() + COPY_SLICE_MS;
    while (linesLeft > 0 && pullPart()) {
      if (performance.now() > sliceEnd) {
        await yieldToPage();
        sliceEnd = performance.now() + COPY_SLICE_MS;
      }
    }
    return lost ? null : text;
  });
  button.addEventListener("click", () => {
    pull(MORE_LINES);
    const end = chunkEnd(text, shown, MORE_LINES, MORE_CHARS);
    pre.append(text.slice(shown, end));
    shown = end;
    if (shown >= text.length && linesLeft === 0) {
      // Focus would be lost with the button: hand it to the copy action beside it.
      copy.focus();
      button.remove();
    } else label();
  });
  actions.append(button, copy);
  item.append(actions);
}

const countNewlines = (text) => {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
};

/** Said once under an entry whose kept reply the engine dropped for newer ones. */
function showLost(item) {
  const note = document.createElement("pre");
  note.className = "output note";
  note.textContent =
    "(sandbox) the rest of this reply is no longer kept (the sandbox keeps the newest long replies); run the command again to see it all";
  item.append(note);
}

/** A button that puts the whole reply (`all()`, null if it cannot) on the clipboard, however
 * little of it is shown. */
function copyAllButton(total, all) {
  const idle = `Copy all ${total} line${total === 1 ? "" : "s"}`;
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "show-more copy-all";
  copy.textContent = idle;
  let reset = 0;
  const say = (message) => {
    copy.textContent = message;
    clearTimeout(reset);
    reset = setTimeout(() => (copy.textContent = idle), 2_000);
  };
  copy.addEventListener("click", async () => {
    const text = await all();
    if (text === null) {
      say("The rest of this reply is no longer kept; run the command again");
      return;
    }
    try {
      // Undefined outside a secure context (a page opened from a plain-HTTP host).
      await navigator.clipboard.writeText(text);
      say(`Copied ${total} line${total === 1 ? "" : "s"}`);
    } catch {
      say("The browser refused the clipboard; show the lines and select them instead");
    }
  });
  return copy;
}

export class Scrollback {
  /** @param {HTMLElement} element a role="log" container */
  constructor(element) {
    this.element = element;
  }

  /**
   * One entry: the echoed input after its prompt, then the output, if any, then an optional
   * view of it (a table beside the raw reply). An entry with a null input is output that
   * arrived on its own (a published message, a late reply).
   * @param {{prompt?: string, input: string | null, output: string,
   *          kind?: "error" | "note" | "received" | null, continuation?: string,
   *          view?: Node | null, more?: {linesLeft: number, next: () => string | undefined} | null,
   *          render?: ((pre: HTMLElement, text: string, item: HTMLElement) => boolean) | null}} entry
   *   `render` lays the output out itself (returning false leaves it to the usual cut-off
   *   rendering)
   */
  append(entry) {
    if (this.held) {
      this.held.push(entry);
      // Only the last SHOWN_WHILE_HELD will be drawn: the rest are counted, not kept.
      if (this.held.length > 2 * SHOWN_WHILE_HELD) {
        this.heldHidden += this.held.length - SHOWN_WHILE_HELD;
        this.held = this.held.slice(-SHOWN_WHILE_HELD);
      }
      this.scrollToEnd();
      return;
    }
    this.element.append(this.build(entry));
    // Trimmed with the scroll, once a frame: one entry removed per entry added was a large
    // part of what a pasted block's commands cost the page.
    if (this.element.childElementCount > 2 * MAX_ENTRIES) this.trim();
    this.scrollToEnd();
  }

  build({ prompt = "", input, output, kind = null, continuation = "... ", view = null, render = null, more = null }) {
    const item = document.createElement("div");
    item.className = "entry";
    if (input !== null) this.appendEcho(item, prompt, input, continuation);

    if (output !== "") {
      const out = document.createElement("pre");
      out.className = "output" + (kind ? ` ${kind}` : "");
      // The engines end every reply with a newline; a <pre> would show it as a blank line.
      item.append(out);
      const text = output.endsWith("\n") ? output.slice(0, -1) : output;
      if (!render?.(out, text, item)) renderLong(out, text, item, more);
    }
    // A readable view of the reply (a result table), beside the raw text.
    if (view) item.append(view);
    return item;
  }

  /**
   * From now until `release()`, entries are drawn once a frame, and only the newest
   * SHOWN_WHILE_HELD of them: the ones before are replaced by one line saying how many there
   * were. A pasted block of a million commands would otherwise lay out a million entries.
   */
  hold() {
    if (this.held) return;
    this.held = [];
    this.heldHidden = 0;
    this.heldShown = [];
    this.heldMarker = null;
    this.heldNextDraw = 0;
  }

  release() {
    if (!this.held) return;
    this.drawHeld();
    this.held = null;
    this.heldShown = null;
    this.heldMarker = null;
  }

  drawHeld() {
    const entries = this.held;
    this.held = [];
    const items = entries.map((entry) => this.build(entry));
    this.element.append(...items);
    this.heldShown.push(...items);
    const excess = this.heldShown.length - SHOWN_WHILE_HELD;
    if (excess > 0) {
      for (const item of this.heldShown.slice(0, excess)) item.remove();
      this.heldShown = this.heldShown.slice(excess);
      this.heldHidden += excess;
    }
    if (this.heldHidden > 0) {
      if (!this.heldMarker) {
        this.heldMarker = this.build({ input: null, output: "", kind: "note" });
        this.heldMarker.classList.add("entries-hidden");
        const pre = document.createElement("pre");
        pre.className = "output note";
        this.heldMarker.append(pre);
      }
      const n = this.heldHidden;
      this.heldMarker.firstElementChild.textContent = `(sandbox) … ${n.toLocaleString("en-US")} more repl${n === 1 ? "y" : "ies"} not shown`;
      if (this.heldMarker.nextElementSibling !== this.heldShown[0]) this.heldShown[0].before(this.heldMarker);
    }
  }

  /** Drops the oldest entries beyond the last MAX_ENTRIES, in one DOM operation. */
  trim() {
    const excess = this.element.childElementCount - MAX_ENTRIES;
    if (excess <= 0) return;
    const range = document.createRange();
    range.setStartBefore(this.element.firstElementChild);
    range.setEndAfter(this.element.children[excess - 1]);
    range.deleteContents();
  }

  /**
   * The input after its prompt, a continuation prompt on each further line, cut like a long
   * reply: a ten-megabyte paste of a million lines would otherwise be two million spans.
   */
  appendEcho(item, prompt, input, continuation) {
    const echo = document.createElement("pre");
    echo.className = "echo";
    const shown = chunkEnd(input, 0, FIRST_LINES, FIRST_CHARS);
    const lines = input.slice(0, shown).split("\n");
    lines.forEach((line, i) => {
      const promptSpan = document.createElement("span");
      promptSpan.className = "echo-prompt";
      promptSpan.textContent = i === 0 ? prompt + " " : continuation;
      const text = document.createElement("span");
      text.className = "echo-input";
      text.textContent = line;
      echo.append(promptSpan, text);
      if (i < lines.length - 1) echo.append("\n");
    });
    if (shown < input.length) {
      const more = countLines(input, shown);
      const note = document.createElement("span");
      note.className = "echo-more";
      note.textContent = `\n… ${more} more line${more === 1 ? "" : "s"} not echoed (${input.length} characters in all)`;
      echo.append(note);
    }
    item.append(echo);
  }

  clear() {
    this.element.replaceChildren();
    if (this.held) {
      this.release();
      this.hold();
    }
  }

  /** Scrolls to the newest entry once the frame is laid out: reading scrollHeight after
   * every entry forced a layout of the whole log each time, so a pasted block of ten
   * thousand lines took minutes. */
  scrollToEnd() {
    if (this.scrollPending) return;
    this.scrollPending = true;
    requestAnimationFrame(() => {
      this.scrollPending = false;
      if (this.held) {
        // Every frame's drawing lays out the page again: a few times a second is enough to
        // watch a paste go by. Later appends ask again, and release() draws the rest.
        if (performance.now() < this.heldNextDraw) return;
        this.heldNextDraw = performance.now() + HELD_DRAW_MS;
        this.drawHeld();
      }
      this.trim();
      this.element.scrollTop = this.element.scrollHeight;
    });
  }

  /** Page the log from its input, so keyboard users can read back without an extra tab stop. */
  page(direction) {
    this.element.scrollBy({ top: direction * this.element.clientHeight * 0.9 });
  }
}
