// The Mongo console: a multi-line editor that behaves like mongosh's prompt. Enter runs the
// input once its brackets and strings are closed (the engine decides), else starts a new line.

import { CompletionList, mongoCompletions, sharedPrefix } from "./completion.js";
import { MONGO_ENGINE, loadFailed, noteLoading } from "./engine.js";
import { renderFoldable } from "./fold.js";
import { HighlightOverlay } from "./highlight.js";
import { History } from "./history.js";
import { progressLine, runSliced, stoppedNote, yieldToPage } from "./paste-runner.js";
import { Scrollback } from "./scrollback.js";
import { splitStatementsSliced } from "./statements.js";
import { typeAndRun } from "./type-and-run.js";

// Enough rows for a short pipeline before the editor starts scrolling inside itself.
const MAX_ROWS = 12;
// Documents sampled for field-name completion: enough to see every field of a teaching
// collection, cheap on a big one.
const FIELD_SAMPLE = 200;
/** An entered input longer than this runs statement by statement, in slices (see
 * paste-runner.js), as mongosh runs a paste line by line; a shorter one runs in one go. */
export const SLICED_INPUT_CHARS = 20_000;
/** One statement longer than this (a pasted `insertMany` of many documents) is announced by
 * a note, drawn before it starts, so the page never stops without a word. A
 * `db.<coll>.insertMany([…])` then runs in steps (read, evaluated, inserted and printed a
 * batch at a time) with a progress line and Stop; any other statement runs in two calls
 * into the engine, which the page cannot cut. */
export const BIG_STATEMENT_CHARS = 1_000_000;
/** The work of one step of a giant statement, aimed at by adjusting each stage's budget to
 * the time its last step took: a slice of paste-runner.js's size. */
const STEP_MS = 12;
/** The first budget of each stage of a giant statement (`Shell::step_prepared`'s units:
 * bytes read, documents evaluated, prepared or inserted, ids printed), well under STEP_MS. */
const FIRST_BUDGET = { read: 65_536, evaluate: 500, prepare: 1_000, insert: 500, print: 2_000, find: 2_000, copy: 2_000 };
/** `let a = <cursor>.toArray()` and the like: the engine copies the documents in steps (it
 * decides; this only says which statements to offer it). */
const TO_ARRAY = /^\s*(?:(?:let|const|var)\s+)?([\w$]+)\s*=(?!=)[^]*\.toArray\s*\(\s*\)\s*;?\s*$/;

/** mongosh prints errors as `Name: message` (MongoServerError, SyntaxError, TypeError, …). */
export function classifyMongoOutput(text) {
  if (/^[A-Z][A-Za-z]*(Error|Exception)\b[^\n]*:/.test(text)) return "error";
  if (text.startsWith("(sandbox) unknown")) return "error";
  if (text.startsWith("(sandbox)")) return "note";
  return null;
}

export class MongoConsole {
  /**
   * @param {HTMLElement} root the console's section; holds [data-role] parts
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {{historyKey?: string | null}} [options] where the history is kept (see History)
   */
  constructor(root, playground, { historyKey = "nosql-playground:history:mongo" } = {}) {
    this.root = root;
    this.playground = playground;
    this.input = root.querySelector("[data-role=input]");
    this.promptEl = root.querySelector("[data-role=prompt]");
    this.scrollback = new Scrollback(root.querySelector("[data-role=log]"));
    this.history = new History(historyKey);
    this.db = "test";

    this.highlight = new HighlightOverlay(this.input);
    this.completions = new CompletionList(this.input, root.querySelector(".input-row"), (item) =>
      this.insertCompletion(item),
    );
    this.vocabulary = null;

    this.input.addEventListener("keydown", (e) => this.onKeyDown(e));
    this.input.addEventListener("paste", (e) => this.onPaste(e));
    // The first module has no Mongo engine: fetch the full one while the student types.
    this.input.addEventListener("focus", () => {
      if (this.playground.mongoNeedsFull) this.playground.prefetch();
    });
    this.input.addEventListener("input", () => {
      this.history.reset();
      this.fitRows();
      // An open list follows the typing; it closes when nothing matches any more.
      if (this.completions.open) this.refreshCompletions();
    });
    this.updatePrompt();
    this.fitRows();
  }

  /** Where the names the editor completes come from: the engine, asked at Tab time. */
  completionSource() {
    this.vocabulary ??= JSON.parse(this.playground.mongoVocabulary());
    const catalog = JSON.parse(this.playground.mongoCatalog());
    const db = catalog.databases?.find((d) => d.name === this.db);
    return {
      vocabulary: this.vocabulary,
      collections: db ? db.collections.map((c) => c.name) : [],
      databases: (catalog.databases ?? []).map((d) => d.name),
      fieldsOf: (coll) => JSON.parse(this.playground.mongoFieldPaths(this.db, coll, FIELD_SAMPLE)),
    };
  }

  /** The candidates for the word before the caret, or null (also with a selection). */
  candidates() {
    const { value, selectionStart, selectionEnd } = this.input;
    if (selectionStart !== selectionEnd) return null;
    return mongoCompletions(value.slice(0, selectionStart), this.completionSource());
  }

  /**
   * Tab: one candidate is filled in; several are filled in up to what they share and listed.
   * Returns whether there was anything to complete (if not, Tab moves focus on).
   */
  complete() {
    // The names come from the Mongo engine: Tab waits for it, then completes what is there.
    if (this.playground.mongoNeedsFull) {
      const value = this.input.value;
      this.playground.later(true, (failure) => {
        if (!failure && this.input.value === value) this.complete();
      });
      return true;
    }
    const found = this.candidates();
    if (!found) return false;
    if (found.items.length === 1) {
      this.replaceWord(found.replace, found.items[0].insert);
      return true;
    }
    const shared = sharedPrefix(found.items.map((i) => i.insert));
    if (shared.length > found.replace.length && shared.startsWith(found.replace)) {
      this.replaceWord(found.replace, shared);
      found.replace = shared;
    }
    this.completions.show(found.items);
    return true;
  }

  refreshCompletions() {
    const found = this.candidates();
    if (found) this.completions.show(found.items);
    else this.completions.close();
  }

  insertCompletion(item) {
    const found = this.candidates();
    this.replaceWord(found?.replace ?? "", item.insert);
  }

  /** Replaces the `typed` text just before the caret, undoably (as typing would). */
  replaceWord(typed, text) {
    const end = this.input.selectionStart;
    const start = end - typed.length;
    this.input.setSelectionRange(start, end);
    // execCommand keeps the browser's undo stack; setRangeText is the fallback.
    if (!document.execCommand?.("insertText", false, text)) {
      this.input.setRangeText(text, start, end, "end");
      this.input.dispatchEvent(new Event("input"));
    }
  }

  prompt() {
    return `${this.db}>`;
  }

  updatePrompt() {
    this.promptEl.textContent = this.prompt();
  }

  /**
   * Runs source as if typed and entered, echoing it with mongosh's `...` continuation. While
   * the engine switches to its full module (engine.js), input waits its turn: then the
   * return value is a promise, settled once it has run.
   */
  run(src) {
    const engine = this.playground;
    // Blank input and `cls` reach no engine.
    const needsFull = (engine.mongoNeedsFull ?? false) && !["", "cls"].includes(src.trim());
    const starting = needsFull && !engine.loading;
    const waiting = engine.later?.(needsFull, (failure) => {
      if (failure && needsFull) return this.notRun(src, failure);
      return this.run(src);
    });
    if (waiting) {
      if (starting) noteLoading(this.scrollback, waiting, engine, MONGO_ENGINE);
      return waiting;
    }
    const prompt = this.prompt();
    this.history.add(src);
    // mongosh's own screen-clearing command, handled by the shell, not the server.
    if (src.trim() === "cls") {
      this.scrollback.clear();
      return;
    }
    this.show(prompt, src, this.playground.mongo(src, Date.now()));
  }

  /** The entry of `src` run with `output`, and what follows a statement run. */
  show(prompt, src, output) {
    const kind = classifyMongoOutput(output);
    this.scrollback.append({ prompt, input: src, output, kind, render: kind ? null : renderFoldable });
    this.trackDatabase();
    this.root.dispatchEvent(
      new CustomEvent("playground:change", { bubbles: true, detail: { engine: "mongo", input: src } }),
    );
  }

  /** `src` did not run: the Mongo engine could not be loaded. */
  notRun(src, failure) {
    this.history.add(src);
    this.scrollback.append({ prompt: this.prompt(), input: src, output: loadFailed(failure, MONGO_ENGINE), kind: "error" });
  }

  /**
   * Enter before the Mongo engine has loaded: whether the statement is complete is the
   * engine's to say, so the key waits for it, then runs the input or starts a new line.
   */
  enterWhenLoaded(value) {
    const engine = this.playground;
    const starting = !engine.loading;
    const waiting = engine.later(true, (failure) => {
      if (this.input.value !== value) return undefined; // typed on meanwhile: Enter again decides
      if (!failure && !engine.mongoInputComplete(value)) {
        this.input.setRangeText("\n", this.input.selectionStart, this.input.selectionEnd, "end");
        this.fitRows();
        return undefined;
      }
      this.input.value = "";
      this.fitRows();
      return failure ? this.notRun(value, failure) : this.runEntered(value);
    });
    if (starting) noteLoading(this.scrollback, waiting, engine, MONGO_ENGINE);
    return waiting;
  }

  /** The prompt names the database the shell is on, as mongosh's does. */
  trackDatabase() {
    const db = this.playground.mongoDb();
    if (db !== this.db) {
      this.db = db;
      this.updatePrompt();
    }
  }

  onKeyDown(e) {
    if (e.isComposing) return;
    if (this.completions.handleKey(e)) {
      e.preventDefault();
      return;
    }
    const { value, selectionStart, selectionEnd } = this.input;
    const collapsed = selectionStart === selectionEnd;
    switch (e.key) {
      case "Tab":
        // Shift+Tab always leaves, and Tab leaves when there is nothing to complete, so
        // the editor never traps keyboard focus.
        if (!e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && this.complete()) {
          e.preventDefault();
        }
        break;
      case "Enter":
        if (e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return; // newline as usual
        if (value.trim() !== "" && this.playground.mongoNeedsFull) {
          e.preventDefault();
          this.enterWhenLoaded(value);
          break;
        }
        if (value.trim() === "" || this.playground.mongoInputComplete(value)) {
          e.preventDefault();
          this.input.value = "";
          this.fitRows();
          this.runEntered(value);
        }
        // Otherwise the textarea inserts the newline itself; the statement goes on.
        break;
      case "ArrowUp":
        if (collapsed && !value.slice(0, selectionStart).includes("\n")) {
          const entry = this.history.previous(value);
          if (entry !== null) {
            e.preventDefault();
            this.setValue(entry);
          }
        }
        break;
      case "ArrowDown":
        if (collapsed && !value.slice(selectionEnd).includes("\n")) {
          const entry = this.history.next();
          if (entry !== null) {
            e.preventDefault();
            this.setValue(entry);
          }
        }
        break;
      case "PageUp":
      case "PageDown":
        e.preventDefault();
        this.scrollback.page(e.key === "PageUp" ? -1 : 1);
        break;
      case "l":
      case "L":
        if (e.ctrlKey && !e.altKey && !e.metaKey) {
          e.preventDefault();
          this.scrollback.clear();
        }
        break;
      case "c":
      case "C":
        // Ctrl+C stops a running paste, as in mongosh; with text selected it copies.
        if (e.ctrlKey && !e.altKey && !e.metaKey && this.stepStop && collapsed) {
          e.preventDefault();
          this.stepStop();
        } else if (e.ctrlKey && !e.altKey && !e.metaKey && this.pasteRun && collapsed) {
          e.preventDefault();
          this.pasteRun.stop();
        } else if (e.ctrlKey && !e.altKey && !e.metaKey && this.splitting && collapsed) {
          e.preventDefault();
          this.splitStop?.();
        }
        break;
      default:
    }
  }

  /**
   * Runs what Enter took from the editor: a long input of several statements runs them one
   * by one in slices, so the page stays responsive and Stop (or Ctrl+C) can end it between
   * statements; input entered meanwhile waits its turn.
   */
  runEntered(value) {
    // Entered while a long input is being split: it waits its turn.
    if (this.splitting) return this.splitting.then(() => this.runEntered(value));
    // Entered while a run lasts: it waits its turn.
    // A cursor copied in steps is a run: input entered meanwhile waits for it.
    if (this.pasteRun || (TO_ARRAY.test(value) && value.length <= SLICED_INPUT_CHARS)) return this.runPieces([value]);
    if (value.length <= SLICED_INPUT_CHARS) return this.run(value);
    // Run as a paste is, even when it is one statement: what is entered meanwhile waits.
    return this.split(value).then((pieces) => (pieces === undefined ? undefined : this.runPieces(pieces ?? [value])));
  }

  /**
   * The statements of a long input (`splitStatements`), split in slices so the page stays
   * responsive; input entered meanwhile waits for them (`this.splitting`). Stop (or Ctrl+C)
   * ends the split: then none of them runs, and the promise gives `undefined`.
   */
  split(text, seen = {}) {
    const complete = (piece) => this.playground.mongoInputComplete(piece);
    let stopped = false;
    const [line, status] = progressLine(this.scrollback.element, () => (stopped = true), "Stop: none of the pasted statements will run (Ctrl+C)");
    status.textContent = `reading ${text.length.toLocaleString("en-US")} pasted characters into statements …`;
    const splitting = splitStatementsSliced(text, complete, yieldToPage, { stopped: () => stopped, seen });
    this.splitStop = () => (stopped = true);
    const done = (pieces) => {
      line.remove();
      if (this.splitting === splitting) {
        this.splitting = null;
        this.splitStop = null;
      }
      if (pieces === undefined) {
        this.scrollback.append({ input: null, output: "(sandbox) stopped while reading the paste: none of its statements ran.\n", kind: "note" });
      }
    };
    this.splitting = splitting;
    splitting.then(done, () => done(null));
    return splitting;
  }

  /**
   * `run`, first saying so, and letting the page draw it, when `src` is one statement too long
   * to run without holding the page for a while (BIG_STATEMENT_CHARS).
   */
  async runAnnounced(src) {
    const engine = this.playground;
    const big = src.length > BIG_STATEMENT_CHARS;
    if (!(big || TO_ARRAY.test(src)) || !engine.mongoPrepare || engine.mongoNeedsFull || engine.loading) {
      return this.run(src);
    }
    let note = null;
    if (big) {
      note = document.createElement("pre");
      note.className = "output note engine-note big-statement";
      note.textContent = `(sandbox) running one statement of ${src.length.toLocaleString("en-US")} characters…`;
      this.scrollback.element.append(note);
      this.scrollback.scrollToEnd();
      await afterPaint();
    }
    const prompt = this.prompt();
    this.history.add(src);
    let output = engine.mongoPrepare(src, Date.now());
    if (output === undefined && engine.mongoPreparedProgress() !== "null") {
      output = await this.runSteps(src);
    } else if (output === undefined && note) {
      // Parsed in one task and run in the next: two shorter holds of the page than one.
      note.textContent += " the page waits for it…";
      await yieldToPage();
      output = engine.mongoRunPrepared(Date.now());
    } else if (output === undefined) {
      output = engine.mongoRunPrepared(Date.now());
    }
    if (note) note.textContent += classifyMongoOutput(output) === "note" ? " stopped" : " done";
    this.show(prompt, src, output);
  }

  /**
   * Runs the statement `src` that `mongoPrepare` kept a step at a time, handing the event
   * loop back to the page between steps, under a progress line whose Stop (or Ctrl+C) ends
   * it: what it inserted stays, as when mongosh is interrupted, and a variable it was
   * copying a cursor into is left as it was. Resolves to what it printed, or to a note of
   * how far it got.
   */
  async runSteps(src) {
    const engine = this.playground;
    const budgets = { ...FIRST_BUDGET };
    let stopped = false;
    const stop = () => {
      stopped = true;
      this.pasteRun?.stop();
    };
    const copying = JSON.parse(engine.mongoPreparedProgress())?.stage === "find";
    const title = copying ? "Stop: the variable is left as it was (Ctrl+C)" : "Stop: what was inserted stays (Ctrl+C)";
    const [line, status] = progressLine(this.scrollback.element, stop, title);
    this.stepStop = stop;
    try {
      for (;;) {
        const at = JSON.parse(engine.mongoPreparedProgress());
        status.textContent = stepProgress(at);
        await yieldToPage();
        if (stopped) return stepsStopped(JSON.parse(engine.mongoStopPrepared()), src);
        const stage = at?.stage;
        const budget = budgets[stage] ?? 1;
        const start = performance.now();
        const output = engine.mongoStepPrepared(budget);
        if (output !== undefined) return output;
        // Aim the stage's next step at STEP_MS, changing by at most a factor of two a step.
        const ratio = STEP_MS / Math.max(performance.now() - start, 0.5);
        if (stage in budgets) budgets[stage] = Math.max(1, Math.round(budget * Math.min(2, Math.max(0.5, ratio))));
      }
    } finally {
      line.remove();
      this.stepStop = null;
    }
  }

  /**
   * A paste too long to edit (over SLICED_INPUT_CHARS) runs as it arrives, as mongosh runs a
   * paste: its complete statements run, and an incomplete last one lands in the editor to be
   * finished. Laid into the editor whole, ten megabytes cost the page seconds of layout
   * before anything ran.
   */
  onPaste(e) {
    const text = e.clipboardData?.getData("text/plain") ?? "";
    if (text.length <= SLICED_INPUT_CHARS) return;
    const { value, selectionStart, selectionEnd } = this.input;
    const combined = value.slice(0, selectionStart) + text + value.slice(selectionEnd);
    e.preventDefault();
    this.input.value = "";
    this.fitRows();
    const engine = this.playground;
    if (!engine.mongoNeedsFull) return this.runPasted(combined);
    // Where its statements end is the engine's to say: the paste waits for it.
    const starting = !engine.loading;
    const waiting = engine.later(true, (failure) => (failure ? this.notRun(combined, failure) : this.runPasted(combined)));
    if (starting) noteLoading(this.scrollback, waiting, engine, MONGO_ENGINE);
    return waiting;
  }

  async runPasted(text) {
    // Pasted while a long input is being split: it waits its turn.
    if (this.splitting) await this.splitting;
    const seen = {};
    const split = await this.split(text, seen);
    if (split === undefined) return undefined;
    const pieces = split ?? [text];
    // The engine's test lexes all of its input, a long task over a giant statement; the
    // paste's own scan has read to its end already.
    const last = pieces[pieces.length - 1];
    const complete = last.length > BIG_STATEMENT_CHARS ? seen.closedAtEnd === true : this.playground.mongoInputComplete(last);
    if (!complete) this.setValue(pieces.pop());
    return pieces.length > 0 ? this.runPieces(pieces) : undefined;
  }

  runPieces(pieces) {
    return runSliced(this, pieces, {
      runOne: (src) => this.runAnnounced(src),
      anchor: this.scrollback.element,
      noun: "statements",
      logs: () => [this.scrollback],
      onStop: (ran, total) => {
        this.scrollback.append({ input: null, output: stoppedNote(ran, total, "statements"), kind: "note" });
      },
    });
  }

  setValue(text) {
    this.input.value = text;
    this.input.setSelectionRange(text.length, text.length);
    this.fitRows();
  }

  /** Grows the editor with its content so a multi-line statement stays readable. */
  fitRows() {
    const lines = this.input.value.split("\n").length;
    this.input.rows = Math.min(Math.max(lines, 1), MAX_ROWS);
  }

  /** Types `text` into the input visibly, then runs it (see type-and-run.js). */
  typeAndRun(text, options) {
    return typeAndRun(this, text, options);
  }

  focus() {
    this.input.focus();
  }
}

const count = (n) => n.toLocaleString("en-US");

/** The progress line's text for where a giant statement is (`mongoPreparedProgress`). */
function stepProgress(at) {
  switch (at?.stage) {
    case "read":
      return `reading ${count(at.done)} / ${count(at.total)} characters of the statement …`;
    case "evaluate":
      return `evaluating ${count(at.done)} / ${count(at.total)} documents …`;
    case "prepare":
      return `preparing ${count(at.done)} / ${count(at.total)} documents …`;
    case "insert":
      return `inserting ${count(at.done)} / ${count(at.total)} documents …`;
    case "print":
      return `printing ${count(at.done)} / ${count(at.total)} inserted ids …`;
    case "copy":
      return `reading ${count(at.done)}${at.total ? ` / ${count(at.total)}` : ""} documents …`;
    default:
      return "running the statement …";
  }
}

/** The note for the statement `src` stopped where `at` says (`mongoStopPrepared`). */
function stepsStopped(at, src) {
  if (at?.stage === "find" || at?.stage === "copy") {
    const read = at.total ? `${count(at.done)} of ${count(at.total)}` : count(at.done);
    return `(sandbox) stopped after reading ${read} documents; ${TO_ARRAY.exec(src)?.[1] ?? "the variable"} was not assigned.\n`;
  }
  if (at?.stage === "insert") {
    return `(sandbox) stopped: ${count(at.done)} of ${count(at.total)} documents were inserted; the other ${count(at.total - at.done)} were not.\n`;
  }
  if (at?.stage === "print") {
    return `(sandbox) stopped: all ${count(at.total)} documents were inserted; their ids were not printed.\n`;
  }
  return "(sandbox) stopped before any document was inserted.\n";
}

/** Resolves once the page has drawn a frame (or, in a hidden tab, which draws none, soon). */
function afterPaint() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 200);
    requestAnimationFrame(() =>
      yieldToPage().then(() => {
        clearTimeout(timer);
        resolve();
      }),
    );
  });
}
