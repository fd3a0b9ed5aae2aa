// The Redis console: a one-line input that behaves like redis-cli's prompt.

import { loadFailed, noteLoading } from "./engine.js";
import { History } from "./history.js";
import { InlineHint } from "./hints.js";
import { runSliced, stoppedNote } from "./paste-runner.js";
import { scriptLogView, views } from "./script-log.js";
import { Scrollback } from "./scrollback.js";
import { searchView } from "./search-views.js";
import { typeAndRun } from "./type-and-run.js";

/** How the page shows a reply; redis-cli colours nothing, but students scan for errors. */
export function classifyRedisOutput(text) {
  if (text.startsWith("(error)")) return "error";
  // Said by redis-cli itself (or the sandbox) rather than the server, still a mistake in the line.
  if (text === "Invalid argument(s)\n" || text.startsWith("Invalid redis-cli")) return "error";
  if (text.startsWith("(sandbox) unknown")) return "error";
  if (text.startsWith("(sandbox)")) return "note";
  return null;
}

/** The longest prefix every candidate shares (case-insensitive: the table is upper case). */
export function commonPrefix(words) {
  if (words.length === 0) return "";
  let prefix = words[0];
  for (const word of words.slice(1)) {
    let i = 0;
    while (i < prefix.length && i < word.length && prefix[i].toUpperCase() === word[i].toUpperCase()) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

/** Most commands one paste runs. A paste runs in slices, so the page stays responsive and the
 * run can be stopped; past this many the run would last many minutes, and the block is
 * refused before any of it runs. */
export const MAX_PASTED_COMMANDS = 2_000_000;

// Elements of a long reply the console asks the engine for at a time: a "show more" step.
const REPLY_PART_ITEMS = 2_000;

// Keys listed under the input when several match; the shared prefix covers all of them.
const KEYS_LISTED = 30;

export class RedisConsole {
  /**
   * @param {HTMLElement} root the console's section; holds [data-role] parts
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {{historyKey?: string | null}} [options] where the history is kept (see History)
   */
  constructor(root, playground, { historyKey = "nosql-playground:history:redis" } = {}) {
    this.root = root;
    this.playground = playground;
    this.input = root.querySelector("[data-role=input]");
    this.promptEl = root.querySelector("[data-role=prompt]");
    this.hint = root.querySelector("[data-role=completions]");
    // One log per client: the console types as `clientId`, and shows that client's log.
    this.clientId = 1;
    this.logs = new Map([[1, new Scrollback(root.querySelector("[data-role=log]"))]]);
    this.scrollback = this.logs.get(1);
    /** Set by RedisClients: handles the sandbox's `.client` lines and knows each client's db. */
    this.clients = null;
    this.history = new History(historyKey);
    this.inlineHint = new InlineHint(this.input, (line) => this.playground.redisHint(line));

    this.input.addEventListener("keydown", (e) => this.onKeyDown(e));
    this.input.addEventListener("paste", (e) => this.onPaste(e));
    this.input.addEventListener("input", () => {
      this.history.reset();
      this.showCompletions([]);
      // A scripting command being typed: its module can be on its way before Enter.
      if (this.playground.redisNeedsFull?.(this.input.value)) this.playground.prefetch();
    });
    this.updatePrompt();
  }

  prompt() {
    const db = this.clients ? this.clients.dbOf(this.clientId) : this.playground.redisDb();
    return db === 0 ? "127.0.0.1:6379>" : `127.0.0.1:6379[${db}]>`;
  }

  updatePrompt() {
    const prompt = this.prompt();
    // Set on every command: unchanged, it is left alone rather than rewritten into the page.
    if (this.promptEl.textContent !== prompt) this.promptEl.textContent = prompt;
  }

  /**
   * Runs one line as if typed, echoing it with the prompt it was typed at. A line that runs
   * Lua in the first module, and any line typed while the full one loads, waits for the switch
   * (engine.js): then the return value is a promise, settled once the line has run.
   */
  run(line) {
    const waiting = this.waitForEngine(line);
    if (waiting) return waiting;
    const prompt = this.prompt();
    this.history.add(line);
    this.showCompletions([]);
    // redis-cli clears the screen itself for `clear`; the server never sees it.
    if (line.trim().toLowerCase() === "clear") {
      this.scrollback.clear();
      return;
    }
    if (this.clients && /^\s*\.client\b/.test(line)) {
      const output = this.clients.command(line);
      this.scrollback.append({ prompt, input: line, output, kind: classifyRedisOutput(output) });
      this.updatePrompt();
      return;
    }
    const { output, more } = this.runInEngine(line);
    // What EVAL or FCALL wrote with redis.log comes right under its reply.
    const view = views(scriptLogView(this.playground), searchView(line, output));
    this.scrollback.append({ prompt, input: line, output, kind: classifyRedisOutput(output), view, more });
    this.clients?.refresh();
    this.updatePrompt();
    this.root.dispatchEvent(
      new CustomEvent("playground:change", { bubbles: true, detail: { engine: "redis", input: line, client: this.clientId } }),
    );
  }

  /**
   * Runs `line` as the client typing: a long reply comes back as its first lines, and `more`
   * hands the scrollback the rest part by part, when it is shown (src/redis/long_reply.rs).
   */
  runInEngine(line) {
    const engine = this.playground;
    if (!engine.redisAsPaged) return { output: engine.redisAs(this.clientId, line, Date.now()), more: null };
    const output = engine.redisAsPaged(this.clientId, line, Date.now());
    const kept = engine.redisLongReply();
    if (kept === "") return { output, more: null };
    const { id, written, linesLeft } = JSON.parse(kept);
    let from = written;
    const next = () => {
      const part = engine.redisReplyPart(id, from, REPLY_PART_ITEMS);
      from += REPLY_PART_ITEMS;
      return part;
    };
    return { output, more: { linesLeft, next } };
  }

  /** `null`, or the promise of `line` run (as the client typing it now) after the switch. */
  waitForEngine(line) {
    const engine = this.playground;
    const part = engine.redisNeeds?.(line) ?? null;
    const needsFull = part !== null;
    const starting = needsFull && !engine.loading;
    const client = this.clientId;
    const waiting = engine.later?.(needsFull, (failure) => {
      if (failure && needsFull) {
        const output = loadFailed(failure, part);
        this.history.add(line);
        this.logOf(client).append({ prompt: this.prompt(), input: line, output, kind: "error" });
        return undefined;
      }
      // Typed on another client's tab: it runs there, as it would have.
      if (this.clients && client !== this.clientId) this.clients.use(client);
      return this.run(line);
    });
    if (!waiting) return null;
    if (starting) noteLoading(this.logOf(client), waiting, engine, part);
    return waiting;
  }

  logOf(client) {
    return this.clients ? this.clients.logFor(client) : this.scrollback;
  }

  onKeyDown(e) {
    if (e.isComposing) return;
    switch (e.key) {
      case "Enter": {
        e.preventDefault();
        const line = this.input.value;
        this.input.value = "";
        // Typed while a paste runs: it waits its turn, as in a terminal.
        if (this.pasteRun) this.runPasted([line]);
        else this.run(line);
        break;
      }
      case "ArrowUp": {
        const entry = this.history.previous(this.input.value);
        e.preventDefault();
        if (entry !== null) this.setValue(entry);
        break;
      }
      case "ArrowDown": {
        const entry = this.history.next();
        e.preventDefault();
        if (entry !== null) this.setValue(entry);
        break;
      }
      case "Tab":
        // Shift+Tab always leaves, and Tab leaves whenever there is nothing to complete,
        // so the console never traps keyboard focus.
        if (!e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && this.complete()) {
          e.preventDefault();
        }
        break;
      case "Escape":
        this.showCompletions([]);
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
        // Ctrl+C stops a running paste, as it stops redis-cli reading a script; with text
        // selected it copies as usual.
        if (e.ctrlKey && !e.altKey && !e.metaKey && this.pasteRun && this.input.selectionStart === this.input.selectionEnd) {
          e.preventDefault();
          this.pasteRun.stop();
        }
        break;
      default:
    }
  }

  /** Runs pasted commands in slices (paste-runner.js); a block pasted, or a line entered,
   * while another runs joins the end of it. */
  runPasted(commands) {
    return runSliced(this, commands, {
      runOne: (line) => this.run(line),
      anchor: this.root.querySelector("[data-role=waiting]") ?? this.scrollback.element,
      noun: "commands",
      logs: () => [...this.logs.values()],
      onStop: (ran, total) => {
        const output = stoppedNote(ran, total, "commands");
        this.scrollback.append({ input: null, output, kind: classifyRedisOutput(output) });
      },
    });
  }

  setValue(text) {
    this.input.value = text;
    this.input.setSelectionRange(text.length, text.length);
    this.inlineHint.update();
  }

  /**
   * Completes the command name under the caret: a single match is filled in with a trailing
   * space; several are filled in up to their common prefix and listed. Returns whether it did
   * anything (if not, Tab keeps its usual meaning and moves focus on).
   */
  complete() {
    const value = this.input.value;
    const caret = this.input.selectionStart ?? value.length;
    const before = value.slice(0, caret);
    if (this.input.selectionEnd !== caret) return false;
    const match = /^(\s*)(\S+)$/.exec(before);
    if (!match) return this.completeKey(before, value.slice(caret));
    const [, lead, word] = match;
    const candidates = this.playground.redisComplete(word);
    if (candidates.length === 0) return false;

    // Keep the case the student is typing in: `flu` completes to `flush`, `FLU` to `FLUSH`.
    const lower = word === word.toLowerCase() && word !== word.toUpperCase();
    const shape = (s) => (lower ? s.toLowerCase() : s);
    let completed;
    if (candidates.length === 1) {
      completed = shape(candidates[0]) + (value.slice(caret).startsWith(" ") ? "" : " ");
      this.showCompletions([]);
    } else {
      completed = shape(commonPrefix(candidates));
      if (completed.length < word.length) completed = word;
      this.showCompletions(candidates);
    }
    const rest = value.slice(caret);
    this.input.value = lead + completed + rest;
    const end = lead.length + completed.length;
    this.input.setSelectionRange(end, end);
    this.history.reset();
    this.inlineHint.update();
    return true;
  }

  /**
   * Completes a key name where the command takes a key: the engine knows which argument the
   * word is and quotes the key as redis-cli would need it typed (`"my key"`).
   */
  completeKey(before, rest) {
    const db = this.clients ? this.clients.dbOf(this.clientId) : this.playground.redisDb();
    const found = JSON.parse(this.playground.redisCompleteKey(db, before, KEYS_LISTED, Date.now()));
    if (!found || found.total === 0) return false;
    let insert = found.insert;
    if (insert.endsWith(" ") && rest.startsWith(" ")) insert = insert.slice(0, -1);
    if (insert === found.replace && found.total === 1) return false;
    const head = before.slice(0, before.length - found.replace.length) + insert;
    this.input.value = head + rest;
    this.input.setSelectionRange(head.length, head.length);
    const listed = found.total > 1 ? found.keys : [];
    const more = found.total - found.keys.length;
    this.showCompletions(more > 0 ? [...listed, `(${more} more)`] : listed);
    this.history.reset();
    this.inlineHint.update();
    return true;
  }

  showCompletions(candidates) {
    if (!this.hint || (candidates.length === 0 && this.hint.hidden)) return;
    this.hint.textContent = candidates.join("  ");
    this.hint.hidden = candidates.length === 0;
  }

  /**
   * A pasted block runs line by line, like pasting into redis-cli. Snippets copied from a
   * tutorial rarely end with a newline, so the last line runs too.
   */
  onPaste(e) {
    const text = e.clipboardData?.getData("text/plain") ?? "";
    if (!/[\r\n]/.test(text)) return;
    e.preventDefault();
    const value = this.input.value;
    const start = this.input.selectionStart ?? value.length;
    const end = this.input.selectionEnd ?? value.length;
    const combined = value.slice(0, start) + text + value.slice(end);
    this.input.value = "";
    const commands = joinQuotedLines(combined.split(/\r\n|\r|\n/)).filter((line) => line.trim() !== "");
    if (commands.length > MAX_PASTED_COMMANDS) {
      // Each command is a round through the engine and every panel: millions of them would
      // run for many minutes, so the paste is answered at once and nothing runs.
      const output =
        `(sandbox) this paste holds ${commands.length} commands; the console runs at most ` +
        `${MAX_PASTED_COMMANDS} pasted at once, so none of them ran. Paste them in parts, or load ` +
        "bulk data with a driver snippet.\n";
      this.scrollback.append({ prompt: this.prompt(), input: combined, output, kind: classifyRedisOutput(output) });
    } else {
      this.runPasted(commands);
    }
    this.inlineHint.update();
  }

  /** Types `text` into the input visibly, then runs it (see type-and-run.js). */
  typeAndRun(text, options) {
    return typeAndRun(this, text, options);
  }

  focus() {
    this.input.focus();
  }
}

/**
 * Pasted lines, with a line whose quote is still open joined to the next ones: a Lua script
 * pasted as `EVAL "local x = 1` ... `return x" 0` arrives as one command, newlines kept.
 * Each line is scanned once, carrying the quote state over, so a paste whose quote never
 * closes (megabytes of lines after a stray `"`) takes linear time, not quadratic.
 */
export function joinQuotedLines(lines) {
  const out = [];
  let pending = null;
  let quote = null;
  for (const line of lines) {
    // A backslash ending a line inside a quote escapes the newline that joins the next one,
    // which opens or closes nothing: each line can be scanned on its own.
    quote = quoteLeftOpen(line, quote);
    if (pending === null) pending = [line];
    else pending.push(line);
    if (quote === null) {
      out.push(pending.join("\n"));
      pending = null;
    }
  }
  if (pending !== null) out.push(pending.join("\n"));
  return out;
}

/** The quote still open after `text` (or null), as redis-cli splits arguments, when `quote`
 * was open before it. */
function quoteLeftOpen(text, quote) {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === null) {
      if (c === '"' || c === "'") quote = c;
    } else if (c === "\\") {
      i++;
    } else if (c === quote) {
      quote = null;
    }
  }
  return quote;
}
