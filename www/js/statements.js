// Splits a large mongosh input into the statements mongosh would run one by one when the
// same text is pasted into it: it reads a paste line by line and runs what it has as soon as
// the brackets, strings, templates and comments are closed. Scanned once, in linear time, so
// a ten-megabyte paste splits in a few tens of milliseconds; the engine still has the last
// word on each piece (`complete`).

// After these a `/` starts a regular expression rather than dividing.
const BEFORE_REGEX = new Set(["", "(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "+", "-", "*", "%", "<", ">", "~", "^"]);

/** A word character (`\w`, `$`, or beyond ASCII), `)` or `]`: tested per character of a
 * paste, so without a regular expression. */
function endsOperand(code) {
  return (
    (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) ||
    code === 95 || code === 36 || code === 41 || code === 93 || code > 127
  );
}

/**
 * The line numbers (0-based) after which every bracket, string, template and comment of
 * `src` is closed, or null when the scan cannot tell (a string or a regular expression over
 * a line break, a bracket closed that was never opened): then the input runs whole.
 */
export function closedLineEnds(src) {
  return finish(closedLineEndsSteps(src));
}

/** Runs a stepwise scan (one of the `…Steps` generators below) to its end at once. */
function finish(steps) {
  for (;;) {
    const { done, value } = steps.next();
    if (done) return value;
  }
}

// Characters (or lines) a stepwise scan handles between two chances to hand the page the
// event loop: a few milliseconds of work.
const STEP_CHARS = 1 << 16;
const STEP_LINES = 2_000;

/** `closedLineEnds`, yielding every STEP_CHARS characters; `seen.closedAtEnd` says whether
 * everything is closed at the end of `src` (when the scan gets there). */
function* closedLineEndsSteps(src, seen = {}) {
  const ends = [];
  // Open brackets; "${" marks a template substitution, whose "}" returns to the template.
  const stack = [];
  let mode = "code";
  let last = ""; // the last significant character of code, to tell a regex from a division
  let line = 0;
  let inClass = false;
  let pause = STEP_CHARS;
  for (let i = 0; i < src.length; i++) {
    if (i >= pause) {
      yield;
      pause = i + STEP_CHARS;
    }
    const c = src[i];
    if (c === "\n") {
      if (mode === "line-comment") mode = "code";
      else if (mode === "sq" || mode === "dq" || mode === "regex") return null;
      if (mode === "code" && stack.length === 0) ends.push(line);
      line++;
      continue;
    }
    switch (mode) {
      case "code":
        if (c === " " || c === "\t" || c === "\r") break;
        if (c === "/" && src[i + 1] === "/") {
          mode = "line-comment";
          i++;
          break;
        }
        if (c === "/" && src[i + 1] === "*") {
          mode = "block-comment";
          i++;
          break;
        }
        if (c === "/" && BEFORE_REGEX.has(last)) {
          mode = "regex";
          inClass = false;
          break;
        }
        if (c === "'") mode = "sq";
        else if (c === '"') mode = "dq";
        else if (c === "`") mode = "template";
        else if (c === "(" || c === "[" || c === "{") stack.push(c);
        else if (c === ")" || c === "]" || c === "}") {
          if (stack.length === 0) return null;
          if (stack.pop() === "${") mode = "template";
        }
        // `/` after an identifier, a number or a closing bracket divides.
        last = endsOperand(c.charCodeAt(0)) ? "a" : c;
        break;
      case "sq":
      case "dq":
        if (c === "\\") i++;
        else if (c === (mode === "sq" ? "'" : '"')) {
          mode = "code";
          last = "a";
        }
        break;
      case "template":
        if (c === "\\") i++;
        else if (c === "`") {
          mode = "code";
          last = "a";
        } else if (c === "$" && src[i + 1] === "{") {
          stack.push("${");
          mode = "code";
          last = "{";
          i++;
        }
        break;
      case "regex":
        if (c === "\\") i++;
        else if (c === "[") inClass = true;
        else if (c === "]") inClass = false;
        else if (c === "/" && !inClass) {
          mode = "code";
          last = "a";
        }
        break;
      case "block-comment":
        if (c === "*" && src[i + 1] === "/") {
          mode = "code";
          i++;
        }
        break;
      default: // line-comment: runs to the line break
    }
    // A backslash at a line's end inside a string or template continues it.
    if (src[i] === "\n") line++;
  }
  // What is still open at the end is the last piece's business (a paste's unfinished tail).
  seen.closedAtEnd = (mode === "code" || mode === "line-comment") && stack.length === 0;
  return ends;
}

/**
 * `src` cut into the pieces mongosh runs one after another, each a run of whole lines, or
 * null when it is one piece (or the scan cannot tell). `complete(text)` is the engine's own
 * test of whether Enter would run `text`; a piece it calls incomplete (a line ending in `+`,
 * an `if (…)` waiting for its body) takes the next lines too. A line starting with `.`
 * continues the statement above it (`db.c.find()` then `.limit(2)`), as the console's
 * editor runs such an input.
 */
export function splitStatements(src, complete) {
  return finish(splitStatementsSteps(src, complete));
}

/**
 * `splitStatements` in slices of about `sliceMs` milliseconds, with the event loop handed
 * back to the page (`yieldToPage`) between them: a ten-megabyte paste of a hundred thousand
 * statements took one long task to split. Resolves to `undefined` when `stopped()` said so
 * between two slices. `seen.closedAtEnd` tells whether everything is closed at the end of `src`.
 */
export async function splitStatementsSliced(src, complete, yieldToPage, { sliceMs = 12, stopped = () => false, seen = {} } = {}) {
  const steps = splitStatementsSteps(src, complete, seen);
  for (;;) {
    const sliceEnd = performance.now() + sliceMs;
    for (;;) {
      const { done, value } = steps.next();
      if (done) return value;
      if (performance.now() >= sliceEnd) break;
    }
    await yieldToPage();
    if (stopped()) return undefined;
  }
}

/** `splitStatements`, yielding as it goes (`seen` as for `closedLineEndsSteps`). */
function* splitStatementsSteps(src, complete, seen = {}) {
  const ends = yield* closedLineEndsSteps(src, seen);
  if (ends === null || ends.length === 0) return null;
  const lines = src.split("\n");
  yield;
  const closed = new Set(ends);
  const pieces = [];
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    if (i % STEP_LINES === STEP_LINES - 1) yield;
    if (!closed.has(i) || i === lines.length - 1) continue;
    // Lines that are blank so far do not start a piece of their own.
    let next = i + 1;
    while (next < lines.length && lines[next].trim() === "") next++;
    if (next === lines.length) break;
    if (/^\s*(\.|\?\.)/.test(lines[next])) continue;
    const text = lines.slice(start, i + 1).join("\n").trimEnd();
    if (text.trim() === "") {
      start = i + 1;
      continue;
    }
    if (!complete(text)) continue;
    pieces.push(text);
    start = i + 1;
  }
  const rest = lines.slice(start).join("\n").trimEnd();
  if (rest.trim() !== "") pieces.push(rest);
  return pieces.length > 1 ? pieces : null;
}
