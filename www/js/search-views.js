// Readable views of RediSearch replies, shown beside the raw redis-cli text: FT.SEARCH and
// FT.AGGREGATE results as a table, FT.INFO as a summary of the schema. They are built from
// the reply text itself (parsed back into nested arrays), so what the table shows is exactly
// what the console printed.

import { h } from "./dom.js";

const MARKER = /^(\s*)(\d+)\) /;

/** Unquotes a redis-cli bulk string ("a\"b\x00"). */
function unquote(text) {
  let out = "";
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === "x") {
      out += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out += { n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b" }[next] ?? next;
    }
  }
  return out;
}

function scalar(text) {
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) return unquote(text);
  if (text.startsWith("(integer) ")) return Number(text.slice(10));
  if (text === "(nil)") return null;
  if (text === "(empty array)") return [];
  return text;
}

/**
 * The reply a redis-cli text shows, as nested arrays of strings, numbers and nulls; errors
 * give `undefined`.
 */
export function parseCliReply(text) {
  const lines = text.replace(/\n$/, "").split("\n");
  if (lines.length === 0 || lines[0].startsWith("(error)")) return undefined;
  if (!MARKER.test(lines[0])) return lines.length === 1 ? scalar(lines[0]) : undefined;
  const root = [];
  /** Open arrays, outermost first, each with the column of its elements' ")". */
  const stack = [];
  for (const line of lines) {
    let rest = line;
    let offset = 0;
    let first = true;
    let match;
    while ((match = MARKER.exec(rest))) {
      const paren = offset + match[1].length + match[2].length;
      if (first) {
        while (stack.length && stack[stack.length - 1].paren !== paren) stack.pop();
        if (!stack.length) stack.push({ paren, items: root });
        first = false;
      } else {
        const items = [];
        stack[stack.length - 1].items.push(items);
        stack.push({ paren, items });
      }
      offset += match[0].length;
      rest = rest.slice(match[0].length);
    }
    if (!stack.length) return undefined;
    stack[stack.length - 1].items.push(scalar(rest));
  }
  return root;
}

const pairsOf = (list) => {
  const out = new Map();
  for (let i = 0; i + 1 < (list?.length ?? 0); i += 2) out.set(String(list[i]), list[i + 1]);
  return out;
};

const show = (v) => (v === null || v === undefined ? "" : Array.isArray(v) ? v.join(", ") : String(v));

function table(columns, rows, caption) {
  return h(
    "table",
    { class: "kv result-table" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", {}, show(row.get(c))))))),
  );
}

/** FT.SEARCH: one row per key, a column per returned field (and the score). */
function searchTable(reply, words) {
  const flags = new Set(words.map((w) => w.toUpperCase()));
  const scores = flags.has("WITHSCORES") ? 1 : 0;
  const payloads = flags.has("WITHPAYLOADS") ? 1 : 0;
  const step = 1 + scores + payloads + (flags.has("NOCONTENT") ? 0 : 1);
  const rows = [];
  for (let i = 1; i < reply.length; i += step) {
    const row = new Map([["key", reply[i]]]);
    if (scores) row.set("score", reply[i + 1]);
    if (payloads) row.set("payload", reply[i + 1 + scores]);
    if (!flags.has("NOCONTENT")) for (const [k, v] of pairsOf(reply[i + step - 1])) row.set(k, v);
    rows.push(row);
  }
  const columns = [...new Set(rows.flatMap((r) => [...r.keys()]))];
  return table(columns, rows, `${reply[0]} matching, ${rows.length} shown`);
}

function aggregateTable(reply) {
  const rows = reply.slice(1).map((r) => pairsOf(r));
  const columns = [...new Set(rows.flatMap((r) => [...r.keys()]))];
  return table(columns, rows, `${rows.length} rows`);
}

function infoSummary(reply) {
  const info = pairsOf(reply);
  const definition = pairsOf(info.get("index_definition"));
  const attributes = (info.get("attributes") ?? []).map((a) => {
    const p = pairsOf(a);
    const options = a.slice(6).filter((w) => typeof w === "string" && w !== "").join(" ");
    return new Map([
      ["attribute", p.get("attribute")],
      ["identifier", p.get("identifier")],
      ["type", p.get("type")],
      ["options", options],
    ]);
  });
  return h(
    "div",
    { class: "index-summary" },
    h(
      "p",
      {},
      h("strong", {}, info.get("index_name")),
      ` on ${definition.get("key_type")} keys with prefix ${show(definition.get("prefixes")) || "(any)"} · ${info.get("num_docs")} documents`,
    ),
    table(["attribute", "identifier", "type", "options"], attributes, "schema"),
  );
}

/** The readable view for a console line and its reply text, or null when there is none. */
export function searchView(line, output) {
  const words = line.trim().split(/\s+/);
  const command = words[0]?.toUpperCase();
  if (!["FT.SEARCH", "FT.AGGREGATE", "FT.INFO"].includes(command)) return null;
  const reply = parseCliReply(output);
  if (!Array.isArray(reply) || reply.length === 0) return null;
  if (command === "FT.INFO") return infoSummary(reply);
  if (typeof reply[0] !== "number") return null;
  return h("div", { class: "search-view" }, command === "FT.SEARCH" ? searchTable(reply, words.slice(3)) : aggregateTable(reply));
}
