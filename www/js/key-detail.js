// The selected key's value in the keyspace panel's detail area, each type as students picture
// it. Each view receives the `detail` object the core gives for the key (src/redis/detail.rs,
// `Detail`, tagged by `kind`) and a context from the panel: the key, the view the student
// chose for it, and ways to ask for a redraw. Every string in `detail` is the student's data
// and only ever becomes text (see dom.js).

import { formatDuration, h } from "./dom.js";
import { renderBitStrip } from "./bit-strip.js";
import { renderGeoPlot } from "./geo-plot.js";
import { renderPreview } from "./previews.js";

/**
 * @typedef {{ key: string, view: string | undefined, setView: (view: string) => void,
 *   setOrigin: (member: string) => void }} DetailContext
 */

/** @type {Map<string, (detail: any, ctx: DetailContext) => Node>} */
const views = new Map();

export function registerDetailView(kind, render) {
  views.set(kind, render);
}

/** The view for `detail`, or null when no view knows its kind (the panel shows the preview). */
export function renderKeyDetail(detail, ctx) {
  const render = views.get(detail?.kind);
  return render ? h("div", { class: `key-detail key-detail-${detail.kind}` }, render(detail, ctx)) : null;
}

/** "… 12 more" after a capped collection. */
function more(shown, len, what = "more") {
  return len > shown ? h("p", { class: "more" }, `… ${len - shown} ${what}`) : null;
}

/** Buttons choosing between two or more ways to show one value. */
function viewSwitch(label, options, current, ctx) {
  return h(
    "div",
    { class: "view-toggle detail-views", role: "group", "aria-label": label },
    options.map(([value, text]) =>
      h(
        "button",
        {
          type: "button",
          class: "btn",
          "aria-pressed": String(value === current),
          dataset: { focusId: `view:${value}` },
          onclick: () => ctx.setView(value),
        },
        text,
      ),
    ),
  );
}

// ---- per-field TTL bars ------------------------------------------------------------------

/** `key\0field` → {expireAt, full}: the TTL a field had when first seen is its bar's 100 %. */
const fieldTtlFull = new Map();

function fieldTtl(key, f) {
  if (f.expireAt == null) return h("span", { class: "muted", title: "no TTL" }, "—");
  const id = `${key}\u0000${f.field}`;
  const known = fieldTtlFull.get(id);
  if (!known || known.expireAt !== f.expireAt) fieldTtlFull.set(id, { expireAt: f.expireAt, full: Math.max(f.ttlMs, 1) });
  if (fieldTtlFull.size > 2_000) fieldTtlFull.delete(fieldTtlFull.keys().next().value);
  return h(
    "span",
    { class: "ttl field-ttl", dataset: { expireAt: String(f.expireAt), full: String(fieldTtlFull.get(id).full) } },
    h("span", { class: "ttl-bar", "aria-hidden": "true" }, h("span", { class: "ttl-fill" })),
    h("span", { class: "ttl-text" }, formatDuration(f.ttlMs)),
  );
}

/**
 * Per frame: moves the field TTL bars under `root` to sandbox time `vnow`. Returns whether a
 * field's time has run out, so the panel fetches the detail again and the field goes.
 */
export function updateFieldTtls(root, vnow) {
  let due = false;
  for (const el of root.querySelectorAll(".field-ttl")) {
    const remaining = Math.max(0, Number(el.dataset.expireAt) - vnow);
    const share = Math.min(1, remaining / Number(el.dataset.full));
    el.querySelector(".ttl-fill").style.transform = `scaleX(${share})`;
    const text = el.querySelector(".ttl-text");
    const label = formatDuration(remaining);
    if (text.textContent !== label) text.textContent = label;
    el.dataset.ttl = String(Math.round(remaining));
    el.classList.toggle("near", share <= 0.25);
    if (remaining === 0) due = true;
  }
  return due;
}

// ---- views -------------------------------------------------------------------------------

registerDetailView("string", (d) => {
  const text = h("span", {}, h("span", { class: "str" }, `"${d.text}"`), d.truncated ? h("span", { class: "more" }, ` … ${d.len} bytes`) : null);
  if (!d.bits) return text;
  return h("div", {}, renderBitStrip(d.bits), h("p", { class: "bits-text" }, h("span", { class: "muted" }, "as text: "), text));
});

// Hash: a field/value table; fields with a TTL (HEXPIRE) carry a bar that runs down.
registerDetailView("hash", (d, ctx) =>
  h(
    "div",
    {},
    h(
      "table",
      { class: "kv hash-fields" },
      h("thead", {}, h("tr", {}, ["field", "value", "TTL"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        d.fields.map((f) => h("tr", { dataset: { field: f.field } }, h("td", { class: "field" }, f.field), h("td", {}, f.value), h("td", {}, fieldTtl(ctx.key, f)))),
      ),
    ),
    more(d.fields.length, d.len, "more fields"),
  ),
);

// List: a row of cells, index above each, the head (LPUSH/LPOP side) and tail marked.
registerDetailView("list", (d) => {
  const cell = (item, index) => h("li", { class: "cell", dataset: { index: String(index) } }, h("span", { class: "index" }, String(index)), h("span", { class: "item" }, item));
  const hidden = d.len - d.head.length - d.tail.length;
  return h(
    "div",
    { class: "list-row" },
    h("span", { class: "end-label head" }, "head ", h("span", { class: "muted" }, "(LPUSH / LPOP)")),
    h(
      "ol",
      { class: "cells", "aria-label": `${d.len} elements, head first` },
      d.head.map((item, i) => cell(item, i)),
      hidden > 0 ? h("li", { class: "gap more" }, `… ${hidden} more …`) : null,
      d.tail.map((item, i) => cell(item, d.len - d.tail.length + i)),
    ),
    h("span", { class: "end-label tail" }, "tail ", h("span", { class: "muted" }, "(RPUSH / RPOP)")),
  );
});

// Set: chips, in no particular order (as SMEMBERS lists them).
registerDetailView("set", (d) =>
  h("div", {}, h("ul", { class: "chips", "aria-label": `${d.len} members` }, d.members.map((m) => h("li", { class: "chip" }, m))), more(d.members.length, d.len)),
);

function rankedTable(d) {
  return h(
    "div",
    {},
    h(
      "table",
      { class: "kv ranked" },
      h("thead", {}, h("tr", {}, ["rank", "member", "score"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, d.members.map(([m, s], i) => h("tr", {}, h("td", { class: "num rank" }, i), h("td", { class: "member" }, m), h("td", { class: "num score" }, s)))),
    ),
    more(d.members.length, d.len),
  );
}

// Sorted set: ranked by score; a set GEOADD wrote shows first as points on a map.
registerDetailView("zset", (d, ctx) => {
  if (!d.geo) return rankedTable(d);
  const view = ctx.view ?? "map";
  return h(
    "div",
    {},
    viewSwitch("Show the sorted set as", [["map", "Map"], ["table", "Ranked table"]], view, ctx),
    view === "map" ? renderGeoPlot(d.geo, d.len, ctx) : rankedTable(d),
  );
});

// Stream: entries oldest first, each consumer group's cursor at the last entry it was given.
registerDetailView("stream", (d) => {
  const hidden = d.len - d.entries.length;
  const groups = d.groups.length
    ? h(
        "table",
        { class: "kv stream-groups" },
        h("caption", {}, "Consumer groups"),
        h("thead", {}, h("tr", {}, ["group", "last delivered", "pending", "consumers"].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          d.groups.map((g) =>
            h("tr", { dataset: { group: g.name } }, h("td", {}, g.name), h("td", { class: "stream-id" }, g.lastDeliveredId), h("td", { class: "num" }, g.pending), h("td", { class: "num" }, g.consumers)),
          ),
        ),
      )
    : h("p", { class: "muted" }, "No consumer groups (XGROUP CREATE adds one).");
  return h(
    "div",
    {},
    hidden > 0 ? h("p", { class: "more" }, `${hidden} earlier entries …`) : null,
    h(
      "ol",
      { class: "stream-entries" },
      d.entries.map((e) =>
        h(
          "li",
          { class: "entry-item", dataset: { id: e.id } },
          h("span", { class: "stream-id" }, e.id),
          " ",
          e.fields.map(([f, v]) => h("span", { class: "pair" }, h("span", { class: "field" }, f), "=", v)),
          e.cursors.map((g) => h("span", { class: "cursor", title: `group ${g} was last delivered this entry` }, `◀ ${g}`)),
        ),
      ),
    ),
    groups,
  );
});

// A JSON document is the preview's collapsible tree, with more of the document in it.
registerDetailView("json", (d) => renderPreview({ kind: "json", tree: d.tree }, "detail"));
