// The output region of a console. Everything the engines print is student-controlled data
// (a stored value can be any string), so it only ever enters the DOM as textContent.

// Enough to scroll back through a long session without the DOM growing without bound.
const MAX_ENTRIES = 1000;

export class Scrollback {
  /** @param {HTMLElement} element a role="log" container */
  constructor(element) {
    this.element = element;
  }

  /**
   * One entry: the echoed input after its prompt, then the output, if any.
   * @param {{prompt: string, input: string, output: string, kind?: "error" | "note" | null,
   *          continuation?: string}} entry
   */
  append({ prompt, input, output, kind = null, continuation = "... " }) {
    const item = document.createElement("div");
    item.className = "entry";

    const echo = document.createElement("pre");
    echo.className = "echo";
    const lines = input.split("\n");
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
    item.append(echo);

    if (output !== "") {
      const out = document.createElement("pre");
      out.className = "output" + (kind ? ` ${kind}` : "");
      // The engines end every reply with a newline; a <pre> would show it as a blank line.
      out.textContent = output.endsWith("\n") ? output.slice(0, -1) : output;
      item.append(out);
    }

    this.element.append(item);
    while (this.element.childElementCount > MAX_ENTRIES) {
      this.element.firstElementChild.remove();
    }
    this.scrollToEnd();
  }

  clear() {
    this.element.replaceChildren();
  }

  scrollToEnd() {
    this.element.scrollTop = this.element.scrollHeight;
  }

  /** Page the log from its input, so keyboard users can read back without an extra tab stop. */
  page(direction) {
    this.element.scrollBy({ top: direction * this.element.clientHeight * 0.9 });
  }
}
