// Syntax colouring for the Mongo editor: a tokenizer for the JavaScript that mongosh reads,
// and an overlay that shows the coloured text behind a transparent textarea. The textarea
// stays the real control, so caret, selection, IME composition, paste, undo and the console's
// own keys behave as they always do; the overlay only mirrors its text. Text only ever enters
// the overlay through textContent.

import { onValueSet } from "./dom.js";

const KEYWORDS = new Set([
  "const", "let", "var", "function", "return", "if", "else", "for", "while", "do", "break",
  "continue", "new", "typeof", "instanceof", "in", "of", "true", "false", "null", "undefined",
  "this", "throw", "try", "catch", "finally", "switch", "case", "default", "async", "await",
  "use", "show", "it", "db",
]);

/**
 * Splits mongosh source into tokens that cover it exactly (joining their texts gives the
 * source back). Unclosed strings and comments run to the end, as they do while being typed.
 * @returns {{type: string, text: string}[]} type: string, number, keyword, operator (a
 *   `$name`, bare or quoted), comment, bracket, punct, name, space
 */
export function tokenize(src) {
  const tokens = [];
  let i = 0;
  const push = (type, end) => {
    tokens.push({ type, text: src.slice(i, end) });
    i = end;
  };
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (c === "/" && next === "/") {
      const nl = src.indexOf("\n", i);
      push("comment", nl < 0 ? src.length : nl);
    } else if (c === "/" && next === "*") {
      const close = src.indexOf("*/", i + 2);
      push("comment", close < 0 ? src.length : close + 2);
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && (c === "`" || src[j] !== "\n")) {
        j += src[j] === "\\" ? 2 : 1;
      }
      const end = Math.min(j + 1, src.length);
      // A quoted `$field` or `$op` reads as an operator: aggregation paths are strings.
      push(src[i + 1] === "$" ? "operator string" : "string", end);
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(next ?? ""))) {
      const m = /^(0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?n?)/.exec(src.slice(i));
      push("number", i + (m ? m[0].length : 1));
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z0-9_$]+/.exec(src.slice(i));
      const word = m[0];
      const type = word.startsWith("$") ? "operator" : KEYWORDS.has(word) ? "keyword" : "name";
      push(type, i + word.length);
    } else if ("{}[]()".includes(c)) {
      push("bracket", i + 1);
    } else if (/\s/.test(c)) {
      const m = /^\s+/.exec(src.slice(i));
      push("space", i + m[0].length);
    } else {
      push("punct", i + 1);
    }
  }
  return tokens;
}

/**
 * Characters coloured; the rest follows as plain text, lined up all the same. A pasted
 * 10 MB insertMany would otherwise become millions of spans and freeze the tab.
 */
export const HIGHLIGHT_CHARS = 20_000;

/** Fills `element` with one span per token (plain text nodes for spaces). */
export function renderHighlighted(element, src) {
  const fragment = document.createDocumentFragment();
  for (const { type, text } of tokenize(src.slice(0, HIGHLIGHT_CHARS))) {
    if (type === "space") {
      fragment.append(text);
    } else {
      const span = document.createElement("span");
      span.className = type
        .split(" ")
        .map((t) => `tok-${t}`)
        .join(" ");
      span.textContent = text;
      fragment.append(span);
    }
  }
  if (src.length > HIGHLIGHT_CHARS) fragment.append(src.slice(HIGHLIGHT_CHARS));
  // A trailing newline needs something after it, or the overlay's last line collapses and
  // the caret row no longer lines up.
  if (src.endsWith("\n") || src === "") fragment.append(" ");
  element.replaceChildren(fragment);
}

/** Puts a coloured copy of `textarea`'s text behind it and keeps the two in step. */
export class HighlightOverlay {
  /** @param {HTMLTextAreaElement} textarea */
  constructor(textarea) {
    this.textarea = textarea;
    this.field = document.createElement("span");
    this.field.className = "highlight-field";
    textarea.replaceWith(this.field);
    this.pre = document.createElement("pre");
    this.pre.className = "highlight";
    this.pre.setAttribute("aria-hidden", "true");
    this.field.append(this.pre, textarea);
    textarea.classList.add("highlighted-input");
    textarea.addEventListener("input", () => this.refresh());
    // Script that sets the value (history, completion, lessons typing for the student) fires
    // no input event: the overlay follows the property itself.
    onValueSet(textarea, () => this.refresh());
    textarea.addEventListener("scroll", () => this.syncScroll());
    // Not refresh(): a textarea just put in place is not scrolled, and reading its scrollTop
    // would lay out the page while the page is still being built.
    renderHighlighted(this.pre, textarea.value);
  }

  refresh() {
    renderHighlighted(this.pre, this.textarea.value);
    this.syncScroll();
  }

  syncScroll() {
    this.pre.scrollTop = this.textarea.scrollTop;
    this.pre.scrollLeft = this.textarea.scrollLeft;
  }
}
