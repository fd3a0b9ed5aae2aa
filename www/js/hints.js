// redis-cli's grey hints: the arguments still to type, shown after the text as it is typed.
// The text comes from the engine (the command table's argument specs); this module only
// places it. The hint is decoration for sighted users (aria-hidden); the same text is kept
// in a visually hidden description of the input for screen readers.

import { onValueSet } from "./dom.js";

let nextId = 0;

export class InlineHint {
  /**
   * @param {HTMLInputElement} input a one-line input in a flex row
   * @param {(line: string) => string} hintFor the hint for a line ("" for none)
   */
  constructor(input, hintFor) {
    this.input = input;
    this.hintFor = hintFor;
    // The input and its overlay share one box: the overlay repeats the typed text invisibly
    // so the hint starts exactly where the text ends (the font is monospace, but wide
    // characters and tabs make measuring by length wrong).
    this.field = document.createElement("span");
    this.field.className = "hint-field";
    input.replaceWith(this.field);
    this.overlay = document.createElement("span");
    this.overlay.className = "inline-hint";
    this.overlay.setAttribute("aria-hidden", "true");
    this.typed = document.createElement("span");
    this.typed.className = "hint-typed";
    this.text = document.createElement("span");
    this.text.className = "hint-text";
    this.overlay.append(this.typed, this.text);
    this.field.append(input, this.overlay);

    this.description = document.createElement("span");
    this.description.className = "visually-hidden";
    this.description.id = `inline-hint-${++nextId}`;
    this.field.append(this.description);
    const described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", `${described ? `${described} ` : ""}${this.description.id}`);

    const update = () => this.update();
    for (const type of ["input", "keyup", "click", "focus", "select", "scroll"]) {
      input.addEventListener(type, update);
    }
    input.addEventListener("blur", () => this.show(""));
    // A line set by script (history, completion, a lesson typing for the student).
    onValueSet(input, update);
  }

  /** The hint currently shown ("" when none). */
  get value() {
    return this.text.textContent;
  }

  update() {
    const { value, selectionStart, selectionEnd } = this.input;
    // Like redis-cli, the hint follows the end of the line: mid-line editing shows none, and
    // neither does a line scrolled sideways (the hint would sit past the visible end).
    const atEnd = selectionStart === value.length && selectionEnd === value.length;
    if (!atEnd || this.input.scrollLeft > 0 || this.input.getRootNode().activeElement !== this.input) {
      this.show("");
      return;
    }
    this.show(value === "" ? "" : this.hintFor(value));
  }

  show(hint) {
    const typed = hint ? this.input.value : "";
    if (this.text.textContent === hint && this.typed.textContent === typed) return;
    this.typed.textContent = typed;
    this.text.textContent = hint;
    this.description.textContent = hint ? `Arguments: ${hint.trim()}` : "";
  }
}
