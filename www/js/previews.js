// One renderer per value type for the keyspace panel. Each receives the `preview` object the
// core's snapshot gives for a key (see src/redis/snapshot.rs, `Preview`, tagged by `kind`)
// and returns a DOM node: `mode` is "row" (one line in the key list) or "detail" (the
// selected key's panel, room for a table). A type registers itself once; a kind with no
// renderer falls back to the generic one, so a new type shows up before its renderer exists.

import { h } from "./dom.js";

/** @type {Map<string, (preview: any, mode: "row" | "detail") => Node>} */
const renderers = new Map();

export function registerPreview(kind, render) {
  renderers.set(kind, render);
}

export function renderPreview(preview, mode = "row") {
  const render = renderers.get(preview?.kind) ?? generic;
  return h("span", { class: `preview preview-${preview?.kind ?? "generic"} ${mode}` }, render(preview ?? {}, mode));
}

function generic(preview) {
  return h("span", { class: "muted" }, preview.text ?? `(${preview.kind ?? "value"})`);
}

/** "… and 12 more" after a capped list. */
function more(shown, len) {
  return len > shown ? h("span", { class: "more" }, `… ${len - shown} more`) : null;
}

registerPreview("generic", generic);

registerPreview("string", (p) =>
  h(
    "span",
    {},
    h("span", { class: "str" }, `"${p.text}"`),
    p.truncated ? h("span", { class: "more" }, ` … ${p.len} bytes`) : null,
  ),
);

// Hash: field/value table in detail, `field=value` pairs in a row.
registerPreview("hash", (p, mode) => {
  const fields = p.fields ?? [];
  if (mode === "detail") {
    return h(
      "span",
      {},
      h(
        "table",
        { class: "kv" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "field"), h("th", { scope: "col" }, "value"))),
        h("tbody", {}, fields.map(([f, v]) => h("tr", {}, h("td", {}, f), h("td", {}, v)))),
      ),
      more(fields.length, p.len),
    );
  }
  return h(
    "span",
    {},
    fields.map(([f, v]) => h("span", { class: "pair" }, h("span", { class: "field" }, f), "=", v)),
    more(fields.length, p.len),
  );
});

// List: a row of cells from the head, marked head and (when all shown) tail.
registerPreview("list", (p) => {
  const items = p.items ?? [];
  return h(
    "span",
    { class: "cells" },
    h("span", { class: "end-label" }, "head"),
    items.map((item) => h("span", { class: "cell" }, item)),
    more(items.length, p.len),
    items.length >= p.len ? h("span", { class: "end-label" }, "tail") : null,
  );
});

// Set: unordered chips.
registerPreview("set", (p) =>
  h("span", { class: "chips" }, (p.members ?? []).map((m) => h("span", { class: "chip" }, m)), more((p.members ?? []).length, p.len)),
);

// Sorted set: rank, member, score.
registerPreview("zset", (p, mode) => {
  const members = p.members ?? [];
  if (mode === "detail") {
    return h(
      "span",
      {},
      h(
        "table",
        { class: "kv" },
        h("thead", {}, h("tr", {}, ["rank", "member", "score"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, members.map(([m, s], i) => h("tr", {}, h("td", {}, i), h("td", {}, m), h("td", { class: "num" }, s)))),
      ),
      more(members.length, p.len),
    );
  }
  return h(
    "span",
    {},
    members.map(([m, s], i) => h("span", { class: "pair" }, h("span", { class: "rank" }, `${i}.`), m, h("span", { class: "score" }, ` (${s})`))),
    more(members.length, p.len),
  );
});

// Stream: entries, oldest shown first, each as its ID and field/value pairs.
registerPreview("stream", (p, mode) => {
  const entries = p.entries ?? [];
  const hidden = (p.len ?? 0) - entries.length;
  const entry = (e) =>
    h(
      mode === "detail" ? "li" : "span",
      { class: "entry-item" },
      h("span", { class: "stream-id" }, e.id),
      " ",
      (e.fields ?? []).map(([f, v]) => h("span", { class: "pair" }, h("span", { class: "field" }, f), "=", v)),
    );
  const list = entries.map(entry);
  const earlier = hidden > 0 ? h("span", { class: "more" }, `${hidden} earlier … `) : null;
  return mode === "detail" ? h("span", {}, earlier, h("ol", { class: "stream-entries" }, list)) : h("span", {}, earlier, list);
});

// JSON document (RedisJSON): one line of compact JSON in a row; in detail, a tree whose
// objects and arrays fold open and shut (<details>), leaves coloured by type. The core cuts
// big documents and marks the cut with "…".
const jsonLeaf = (v) =>
  h("span", { class: `json-${v === null ? "null" : typeof v}` }, typeof v === "string" ? JSON.stringify(v) : String(v));

function jsonTree(value, label) {
  const name = label === undefined ? null : h("span", { class: "json-key" }, `${label}: `);
  if (value === null || typeof value !== "object") return h("li", {}, name, jsonLeaf(value));
  const array = Array.isArray(value);
  const entries = array ? value.map((v, i) => [i, v]) : Object.entries(value);
  const summary = h(
    "summary",
    {},
    name,
    h("span", { class: "json-bracket" }, array ? "[ ]" : "{ }"),
    h("span", { class: "muted" }, ` ${entries.length} ${array ? "items" : "keys"}`),
  );
  return h(
    "li",
    {},
    h("details", { open: "" }, summary, h("ul", { class: "json-children" }, entries.map(([k, v]) => jsonTree(v, k)))),
  );
}

registerPreview("json", (p, mode) => {
  if (mode === "detail") return h("ul", { class: "json-tree", role: "tree" }, jsonTree(p.tree));
  const text = JSON.stringify(p.tree);
  return h("span", { class: "json-inline" }, text.length > 80 ? `${text.slice(0, 80)}…` : text);
});
