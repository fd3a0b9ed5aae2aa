// The Mongo console: a multi-line editor that behaves like mongosh's prompt. Enter runs the
// input once its brackets and strings are closed (the engine decides), else starts a new line.

import { History } from "./history.js";
import { Scrollback } from "./scrollback.js";
import { typeAndRun } from "./type-and-run.js";

// Enough rows for a short pipeline before the editor starts scrolling inside itself.
const MAX_ROWS = 12;

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
   */
  constructor(root, playground) {
    this.root = root;
    this.playground = playground;
    this.input = root.querySelector("[data-role=input]");
    this.promptEl = root.querySelector("[data-role=prompt]");
    this.scrollback = new Scrollback(root.querySelector("[data-role=log]"));
    this.history = new History("nosql-playground:history:mongo");
    this.db = "test";

    this.input.addEventListener("keydown", (e) => this.onKeyDown(e));
    this.input.addEventListener("input", () => {
      this.history.reset();
      this.fitRows();
    });
    this.updatePrompt();
    this.fitRows();
  }

  prompt() {
    return `${this.db}>`;
  }

  updatePrompt() {
    this.promptEl.textContent = this.prompt();
  }

  /** Runs source as if typed and entered, echoing it with mongosh's `...` continuation. */
  run(src) {
    const prompt = this.prompt();
    this.history.add(src);
    // mongosh's own screen-clearing command, handled by the shell, not the server.
    if (src.trim() === "cls") {
      this.scrollback.clear();
      return;
    }
    const output = this.playground.mongo(src, Date.now());
    this.scrollback.append({ prompt, input: src, output, kind: classifyMongoOutput(output) });
    this.trackDatabase();
    this.root.dispatchEvent(
      new CustomEvent("playground:change", { bubbles: true, detail: { engine: "mongo", input: src } }),
    );
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
    const { value, selectionStart, selectionEnd } = this.input;
    const collapsed = selectionStart === selectionEnd;
    switch (e.key) {
      case "Enter":
        if (e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return; // newline as usual
        if (value.trim() === "" || this.playground.mongoInputComplete(value)) {
          e.preventDefault();
          this.input.value = "";
          this.fitRows();
          this.run(value);
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
      default:
    }
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
