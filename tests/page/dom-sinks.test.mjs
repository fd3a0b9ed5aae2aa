// Every place in the page's own scripts where a string could become markup, code or a URL
// (innerHTML, eval, a string timer, an href…) must be one reviewed here. The page renders
// student data through dom.js's h(), which only makes text nodes; a new sink that takes data
// is how an XSS hole would come back, so adding one fails this test until it is reviewed and
// listed below with the reason it is safe. A listed use that is gone fails too, so the list
// stays the list of what there is. No browser needed: this reads the files.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { ROOT, WWW } from "./harness.mjs";

/** What turns a string into markup, code or a navigable URL. */
const SINKS = [
  ["innerHTML", /\binnerHTML\b/],
  ["outerHTML", /\bouterHTML\b/],
  ["insertAdjacentHTML", /\binsertAdjacentHTML\b/],
  ["setHTMLUnsafe", /\b(setHTMLUnsafe|parseHTMLUnsafe)\b/],
  ["document.write", /\bdocument\s*\.\s*write(ln)?\b/],
  ["eval", /(^|[^\w$.])eval\s*\(/],
  ["Function constructor", /\bnew\s+Function\b|(^|[^\w$.])Function\s*\(/],
  ["string timer", /\bset(Timeout|Interval|Immediate)\s*\(\s*["'`]/],
  ["createContextualFragment", /\bcreateContextualFragment\b/],
  ["DOMParser", /\bDOMParser\b/],
  ["srcdoc", /\bsrcdoc\b/],
  ["javascript: URL", /javascript:/i],
  ["URL property", /\.(href|src|action|formAction|data)\s*=(?!=)/],
  ["URL attribute", /\b(href|src|action|formaction|xlink:href)\s*:|setAttribute(NS)?\s*\([^)]*["'`](href|src|action|formaction|xlink:href|srcdoc|on\w+)["'`]/i],
  ["computed import", /\bimport\s*\(\s*[^"'`\s]/],
  ["script element", /(createElement(NS)?\s*\([^)]*|\bh\s*\(\s*)["'`](script|iframe|object|embed|frame)["'`]/i],
];

/**
 * Reviewed uses: the file, the line exactly as written (trimmed), and why it is safe.
 * Keep each entry's reason honest; a line that changes must be reviewed again.
 */
const REVIEWED = [
  {
    file: "www/js/lesson-format.js",
    line: "a.href = m[4];",
    why: "lesson links: set only after /^https?:\\/\\//i matched m[4], so no javascript: or data: URL",
  },
  {
    file: "www/js/persistence.js",
    line: 'const a = h("a", { href: url, download: name, hidden: true });',
    why: "downloads: url is a blob: URL the page made with URL.createObjectURL",
  },
  {
    file: "www/js/engine.js",
    line: "loading = import(href).then(async (module) => {",
    why: "the engine's two modules' glue, at the fixed paths FIRST and FULL beside engine.js, never from page input",
  },
];

function* scripts(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // www/pkg and www/pkg-full are wasm-bindgen's generated glue, built and not reviewed line
    // by line here; www/dist is the bundle of the sources reviewed here.
    if (entry.isDirectory()) {
      if (!["pkg", "pkg-full", "dist"].includes(relative(WWW, path))) yield* scripts(path);
    } else if (/\.(m?js|html)$/.test(entry.name)) yield path;
  }
}

/** Lines of code, without whole-line comments (a comment may name a sink to forbid it). */
function codeLines(text) {
  const lines = [];
  let inBlock = false;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (inBlock) {
      if (line.includes("*/")) inBlock = false;
      return;
    }
    if (line.startsWith("/*") || line.startsWith("<!--")) {
      inBlock = !line.includes("*/") && !line.includes("-->");
      return;
    }
    if (line.startsWith("//") || line.startsWith("*")) return;
    lines.push({ number: i + 1, line });
  });
  return lines;
}

function findSinks() {
  const found = [];
  for (const path of scripts(WWW)) {
    const file = relative(ROOT, path);
    for (const { number, line } of codeLines(readFileSync(path, "utf8"))) {
      const html = path.endsWith(".html");
      for (const [name, pattern] of SINKS) {
        // In HTML only what a script would run counts: handler attributes and javascript: URLs.
        if (html && name !== "javascript: URL") continue;
        if (pattern.test(line)) found.push({ file, number, line, name });
      }
      if (html && /<[^>]*\son\w+\s*=/i.test(line)) found.push({ file, number, line, name: "inline handler" });
    }
  }
  return found;
}

test("every markup, code or URL sink in the page's scripts is a reviewed one", () => {
  const found = findSinks();
  const unreviewed = found.filter((f) => !REVIEWED.some((r) => r.file === f.file && r.line === f.line));
  assert.deepEqual(
    unreviewed.map((f) => `${f.file}:${f.number}: ${f.name}: ${f.line}`),
    [],
    "new sinks: render data with h() from dom.js (text only), or review the use and add it to REVIEWED",
  );
  const stale = REVIEWED.filter((r) => !found.some((f) => f.file === r.file && f.line === r.line));
  assert.deepEqual(stale, [], "REVIEWED lists uses that are no longer there");
});

test("the sink patterns catch what they are for", () => {
  const caught = (line) => SINKS.filter(([, p]) => p.test(line)).map(([name]) => name);
  const cases = [
    ["el.innerHTML = `<b>${key}</b>`;", ["innerHTML"]],
    ["row.insertAdjacentHTML('beforeend', html)", ["insertAdjacentHTML"]],
    ["const text = node.outerHTML;", ["outerHTML"]],
    ["document.write(x)", ["document.write"]],
    ["eval(src)", ["eval"]],
    ["window.eval(src)", []],
    ["const f = new Function('a', body)", ["Function constructor"]],
    ["setTimeout(\"refresh()\", 10)", ["string timer"]],
    ["setTimeout(() => refresh(), 10)", []],
    ["range.createContextualFragment(html)", ["createContextualFragment"]],
    ["new DOMParser().parseFromString(s, 'text/html')", ["DOMParser"]],
    ['h("iframe", { srcdoc: page })', ["srcdoc", "script element"]],
    ["link.href = url;", ["URL property"]],
    ["if (a.href === b) go()", []],
    ['h("a", { href: link }, text)', ["URL attribute"]],
    ['img.setAttribute("src", url)', ["URL attribute"]],
    ['el.setAttribute("onclick", code)', ["URL attribute"]],
    ['el.setAttribute("aria-label", name)', []],
    ["await import(moduleUrl)", ["computed import"]],
    ['await import("../pkg/nosql_playground.js")', []],
    ['document.createElement("script")', ["script element"]],
    ["const evaluate = (x) => x; evaluate(1)", []],
  ];
  for (const [line, names] of cases) assert.deepEqual(caught(line), names, line);
  assert.deepEqual(
    codeLines("// el.innerHTML is forbidden\n/* innerHTML\n  innerHTML */\nel.innerHTML = x;").map((l) => l.number),
    [4],
  );
});
