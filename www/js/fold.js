// Mongo results a student can take in: a long result starts collapsed behind a "Show all"
// toggle, and every multi-line document or array in it can be folded to one line. The text
// is mongosh's own printout; folding only hides lines, so copying a result copies what is
// shown. Every piece of it is a text node.

// A result longer than this starts collapsed.
export const COLLAPSE_LINES = 30;
// Results past what the scrollback shows at once are cut there instead (with "Show more").
const MAX_FOLDABLE_LINES = 200;
const MAX_FOLDABLE_CHARS = 20_000;

/**
 * The foldable blocks of mongosh output: a line ending in `{` or `[` up to the line at the
 * same indent that starts with the matching `}` or `]`.
 * @returns {Map<number, number>} opening line index → closing line index
 */
export function foldRanges(lines) {
  const ranges = new Map();
  const open = [];
  lines.forEach((line, i) => {
    const indent = line.length - line.trimStart().length;
    const trimmed = line.trim();
    if (/^[}\]]/.test(trimmed)) {
      const top = open.at(-1);
      if (top && top.indent === indent && top.close === trimmed[0]) {
        open.pop();
        if (i - top.line > 1) ranges.set(top.line, i);
      }
    }
    const last = trimmed.at(-1);
    if (last === "{" || last === "[") {
      open.push({ line: i, indent, close: last === "{" ? "}" : "]" });
    }
  });
  return ranges;
}

/**
 * Renders `text` into `pre` with fold toggles and, if long, the collapse toggle after it.
 * Returns false (rendering nothing) for text too long to lay out whole: the scrollback cuts
 * that itself.
 */
export function renderFoldable(pre, text, item) {
  if (text.length > MAX_FOLDABLE_CHARS) return false;
  const lines = text.split("\n");
  if (lines.length > MAX_FOLDABLE_LINES) return false;
  const ranges = foldRanges(lines);
  pre.replaceChildren(build(lines, 0, lines.length, ranges));
  if (ranges.size > 0) pre.classList.add("foldable");
  if (lines.length > COLLAPSE_LINES) addCollapse(pre, item, lines.length);
  return true;
}

/**
 * Lines `from..to` as nodes, each foldable block as a toggle, its body and its last line.
 * The toggle's glyph and the folded block's summary are drawn by CSS from attributes, so the
 * output's text stays exactly what mongosh printed (copying, searching and tests read it).
 */
function build(lines, from, to, ranges) {
  const fragment = document.createDocumentFragment();
  let i = from;
  while (i < to) {
    const end = ranges.get(i);
    const newline = i > from ? "\n" : "";
    if (end === undefined || end >= to) {
      fragment.append(newline + lines[i]);
      i++;
      continue;
    }
    if (newline) fragment.append(newline);
    const first = i;
    const block = document.createElement("span");
    block.className = "fold";
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "fold-toggle";
    toggle.setAttribute("aria-expanded", "true");
    toggle.setAttribute("aria-label", `Fold lines ${first + 2} to ${end}`);
    const head = document.createElement("span");
    head.textContent = lines[first];
    const summary = document.createElement("span");
    summary.className = "fold-summary";
    summary.dataset.text = ` … ${end - first - 1} line${end - first - 1 === 1 ? "" : "s"} `;
    summary.hidden = true;
    const body = document.createElement("span");
    body.className = "fold-body";
    body.append("\n", build(lines, first + 1, end, ranges));
    // The closing line's break and indent hide when folded, so it joins the opening line.
    const closing = lines[end];
    const indent = closing.length - closing.trimStart().length;
    const gap = document.createElement("span");
    gap.textContent = "\n" + closing.slice(0, indent);
    const tail = document.createTextNode(closing.slice(indent));
    toggle.addEventListener("click", () => {
      const fold = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!fold));
      toggle.setAttribute("aria-label", `${fold ? "Unfold" : "Fold"} lines ${first + 2} to ${end}`);
      body.hidden = fold;
      gap.hidden = fold;
      summary.hidden = !fold;
    });
    block.append(toggle, head, summary, body, gap, tail);
    fragment.append(block);
    i = end + 1;
  }
  return fragment;
}

function addCollapse(pre, item, total) {
  pre.classList.add("collapsed");
  const actions = document.createElement("div");
  actions.className = "output-actions";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "show-more collapse-toggle";
  button.setAttribute("aria-expanded", "false");
  const label = () => {
    const collapsed = pre.classList.contains("collapsed");
    button.textContent = collapsed ? `Show all (${total} lines)` : "Collapse";
    button.setAttribute("aria-expanded", String(!collapsed));
  };
  label();
  button.addEventListener("click", () => {
    pre.classList.toggle("collapsed");
    label();
  });
  actions.append(button);
  item.append(actions);
}
