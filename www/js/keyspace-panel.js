// <keyspace-panel>: every key of one Redis database, with its type, encoding, size, a preview
// of its value and, for keys with a TTL, a countdown that follows the virtual clock.
//
// The list is virtualised: the core sorts and filters, the panel asks it only for a window of
// rows around what is on screen (plus the total, for the scrollbar), and only the visible rows
// are in the DOM. Snapshots are taken when something changed (a command, the clock, a filter,
// a scroll past the fetched window), never per frame; between snapshots the countdowns are
// interpolated from each key's absolute expiry time and `playground.now()`.

import { atMostOncePerFrame, coalesce, formatBytes, formatDuration, h } from "./dom.js";
import { renderPreview } from "./previews.js";

// The detail views (key-detail.js, with the bit strip and the geo plot) are fetched when a key
// is first opened: the page's bundle leaves them out (scripts/build-page.mjs, LAZY), and the
// key's preview shows until they are there.
let keyDetail = null;
let keyDetailLoading = null;
function loadKeyDetail() {
  keyDetailLoading ??= import("./key-detail.js").then(
    (module) => (keyDetail = module),
    (error) => {
      keyDetailLoading = null;
      throw error;
    },
  );
  return keyDetailLoading;
}

export const ROW_HEIGHT = 30;
/** Rows rendered beyond each edge of the viewport, so a short scroll never shows a gap. */
const OVERSCAN = 8;
/** Rows fetched beyond each edge, so most scrolls are served without asking the core. */
const FETCH_PAD = 40;
/** How long a removed key stays on screen, fading. */
export const GONE_MS = 1_000;
/** How long a written key is highlighted. */
export const FLASH_MS = 1_200;
/** Below this share of its TTL a countdown turns red. */
const NEAR_EXPIRY = 0.25;
export const TYPES = ["string", "hash", "list", "set", "zset", "stream"];
const DATABASES = 16;

const signature = (row) => JSON.stringify([row.type, row.encoding, row.expireAt, row.size, row.preview]);

export class KeyspacePanel extends HTMLElement {
  connectedCallback() {
    if (this.built) return;
    this.built = true;
    this.setAttribute("role", "region");
    this.setAttribute("aria-label", "Redis keyspace");
    this.classList.add("panel");

    this.db = 0;
    this.followConsoleDb = 0;
    this.win = null; // last snapshot: {offset, total, rows, now, keys, volatile, expired}
    this.sigs = new Map(); // key → signature, for the keys of the last window
    this.ttlFull = new Map(); // key → {expireAt, full}: the bar's 100 %
    this.gone = new Map(); // key → {row, until, reason}
    this.evictionSeq = 0; // the newest eviction the panel has seen
    this.flashes = new Map(); // key → until
    this.rowEls = new Map(); // key → element currently rendered
    this.selectedIndex = -1;
    this.selectedKey = null;
    this.selectedRow = null;
    this.detailViews = new Map(); // key → the view the student chose (zset: "map" or "table")
    this.geoOrigins = new Map(); // key → the member geo distances are measured from

    this.dbSelect = h(
      "select",
      { "aria-label": "Database", onchange: () => this.setDb(Number(this.dbSelect.value)) },
      Array.from({ length: DATABASES }, (_, i) => h("option", { value: i }, `db ${i}`)),
    );
    this.patternInput = h("input", {
      type: "search",
      class: "pattern",
      placeholder: "*",
      "aria-label": "Filter keys by pattern",
      title: "Glob pattern, as KEYS takes it: * ? [abc]",
      spellcheck: "false",
      autocomplete: "off",
    });
    const refilter = coalesce(() => this.refilter());
    this.patternInput.addEventListener("input", refilter);
    this.typeSelect = h(
      "select",
      { "aria-label": "Filter keys by type", onchange: refilter },
      h("option", { value: "" }, "all types"),
      TYPES.map((t) => h("option", { value: t }, t)),
    );
    this.countEl = h("p", { class: "panel-count", "aria-live": "polite" });

    this.rowsEl = h("div", { class: "ks-rows", role: "presentation" });
    this.emptyEl = h("p", { class: "panel-empty", hidden: true });
    this.viewport = h(
      "div",
      { class: "ks-viewport", tabindex: "0", role: "rowgroup", "aria-label": "Keys (arrow keys select)" },
      this.rowsEl,
      this.emptyEl,
    );
    this.table = h(
      "div",
      { class: "ks-table", role: "table", "aria-label": "Keys" },
      h(
        "div",
        { role: "rowgroup", class: "ks-head" },
        h("div", { role: "row", class: "ks-row ks-header" }, ["Key", "Type", "Encoding", "Size", "Value", "TTL"].map((c) => h("span", { role: "columnheader" }, c))),
      ),
      this.viewport,
    );
    this.detailEl = h("div", { class: "ks-detail", role: "region", "aria-label": "Selected key" });

    this.append(
      h(
        "div",
        { class: "panel-head" },
        h("h2", {}, "Keyspace"),
        h("div", { class: "panel-controls" }, this.dbSelect, this.patternInput, this.typeSelect),
        this.countEl,
      ),
      this.table,
      this.detailEl,
    );

    // Where the viewport stands, kept from its own events: reading scrollTop or clientHeight
    // at every command forces a layout of the page, and a pasted block of ten thousand
    // commands took minutes.
    this.viewTop = 0;
    this.viewHeight = 0;
    const scrolled = coalesce(() => this.update("scroll"));
    this.viewport.addEventListener(
      "scroll",
      () => {
        this.viewTop = this.viewport.scrollTop;
        scrolled();
      },
      { passive: true },
    );
    this.viewport.addEventListener("keydown", (e) => this.onKeyDown(e));
    this.viewport.addEventListener("click", (e) => {
      const rowEl = e.target.closest(".ks-row[data-index]");
      if (rowEl) this.select(Number(rowEl.dataset.index));
    });
    this.renderDetail();
  }

  /**
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {import("./frame-loop.js").FrameLoop} loop
   * @param {EventTarget} [events] where this sandbox announces `playground:change`
   */
  attach(playground, loop, events = document) {
    this.playground = playground;
    loop.subscribe(() => this.frame());
    // Every change counts, Mongo's too: `.time +1h` typed there moves the shared clock.
    const changed = atMostOncePerFrame(() => {
      this.followConsole();
      this.update("change");
    });
    events.addEventListener("playground:change", (e) => {
      if (e.detail?.engine === "redis" && typeof e.detail.input === "string") {
        // The snapshot diff cannot see a write that changed nothing (SET k v twice).
        const until = performance.now() + FLASH_MS;
        for (const key of JSON.parse(playground.redisWrittenKeys(e.detail.input))) this.flashes.set(key, until);
      }
      changed();
    });
    const resized = coalesce(() => this.update("scroll"));
    new ResizeObserver(() => {
      this.viewHeight = this.viewport.clientHeight;
      resized();
    }).observe(this.viewport);
    // The height is read at the first frame, which lays the page out anyway: read now, it
    // would lay out a page still being built, and again once it is. Until then the rows of a
    // zero-height view are fetched and drawn (the overscan).
    requestAnimationFrame(() => {
      this.viewHeight = this.viewport.clientHeight;
      this.update("scroll");
    });
    this.followConsole();
    this.update("change");
  }

  /** The panel shows the database the console selected, until the student picks another. */
  followConsole() {
    const db = this.playground.redisDb();
    if (db !== this.followConsoleDb) {
      this.followConsoleDb = db;
      this.setDb(db);
    }
  }

  setDb(db) {
    if (db === this.db && this.dbSelect.value === String(db)) return;
    this.db = db;
    this.dbSelect.value = String(db);
    this.reset();
  }

  refilter() {
    this.reset();
  }

  reset() {
    this.win = null;
    this.sigs.clear();
    this.gone.clear();
    this.flashes.clear();
    this.selectedIndex = -1;
    this.selectedKey = null;
    this.selectedRow = null;
    this.scrollViewTo(0);
    this.update("reset");
    this.renderDetail();
  }

  get pattern() {
    return this.patternInput.value.trim() || "*";
  }

  visibleRange() {
    const first = Math.max(0, Math.floor(this.viewTop / ROW_HEIGHT));
    const count = Math.ceil(this.viewHeight / ROW_HEIGHT) + 1;
    return { first, count };
  }

  scrollViewTo(top) {
    this.viewport.scrollTop = top;
    this.viewTop = this.viewport.scrollTop;
  }

  /** Fetches a new window if the one held does not cover the screen (or the data changed). */
  update(reason) {
    if (!this.playground) return;
    const { first, count } = this.visibleRange();
    const w = this.win;
    const from = Math.max(0, first - OVERSCAN);
    const to = first + count + OVERSCAN;
    const covered = w && from >= w.offset && Math.min(to, w.total) <= w.offset + w.rows.length;
    // After a read (KEYS *, DBSIZE) no row changed: a million keys are not walked again.
    const unchanged = reason === "change" && w && this.playground.redisKeyspaceChanged?.(this.db) === false;
    if ((reason !== "scroll" && !unchanged) || !covered) this.fetch(Math.max(0, first - FETCH_PAD), count + 2 * FETCH_PAD, reason);
    this.renderRows();
  }

  fetch(offset, limit, reason) {
    const hostMs = Date.now();
    let snap = JSON.parse(this.playground.redisKeyspace(this.db, this.pattern, this.typeSelect.value, offset, limit, hostMs));
    if (snap.total > 0 && snap.rows.length === 0 && offset > 0) {
      // The list shrank under a scrolled view: show its end.
      snap = JSON.parse(this.playground.redisKeyspace(this.db, this.pattern, this.typeSelect.value, Math.max(0, snap.total - limit), limit, hostMs));
    }
    const before = this.win;
    // Evictions the panel has not seen yet: those keys leave as "evicted", not "deleted".
    const evicted = new Set();
    for (const e of snap.evictions ?? []) if (e.seq > this.evictionSeq && before) evicted.add(e.key);
    this.evictionSeq = snap.lastEviction ?? this.evictionSeq;
    if ((reason === "change" || reason === "due") && before) this.diff(before, snap, evicted);
    this.win = snap;
    this.sigs = new Map(snap.rows.map((r) => [r.key, signature(r)]));
    for (const row of snap.rows) {
      const known = this.ttlFull.get(row.key);
      if (row.expireAt != null && (!known || known.expireAt !== row.expireAt)) {
        this.ttlFull.set(row.key, { expireAt: row.expireAt, full: Math.max(row.ttlMs, 1) });
      }
    }
    if (this.ttlFull.size > 4 * (snap.rows.length + 100)) {
      const keep = new Set(snap.rows.map((r) => r.key));
      for (const key of this.ttlFull.keys()) if (!keep.has(key)) this.ttlFull.delete(key);
    }
    this.rowsEl.style.height = `${snap.total * ROW_HEIGHT}px`;
    this.renderCount();
    if (this.selectedKey !== null) {
      const row = snap.rows.find((r) => r.key === this.selectedKey);
      if (row) {
        this.selectedIndex = snap.offset + snap.rows.indexOf(row);
        this.selectedRow = row;
      }
      this.renderDetail();
    }
  }

  /** Marks written keys (new, or changed in any way the snapshot shows) and removed ones. */
  diff(before, after, evicted = new Set()) {
    const now = performance.now();
    const keys = new Set(after.rows.map((r) => r.key));
    const lo = after.rows[0]?.key;
    const hi = after.rows[after.rows.length - 1]?.key;
    const atStart = after.offset === 0;
    const atEnd = after.offset + after.rows.length >= after.total;
    const inRange = (key) => (atStart || (lo !== undefined && key >= lo)) && (atEnd || (hi !== undefined && key <= hi));
    const beforeLo = before.rows[0]?.key;
    const beforeHi = before.rows[before.rows.length - 1]?.key;
    const beforeCovered = (key) =>
      (before.offset === 0 || (beforeLo !== undefined && key >= beforeLo)) &&
      (before.offset + before.rows.length >= before.total || (beforeHi !== undefined && key <= beforeHi));
    for (const row of after.rows) {
      const old = this.sigs.get(row.key);
      const written = old !== undefined ? old !== signature(row) : beforeCovered(row.key);
      if (written) this.flashes.set(row.key, now + FLASH_MS);
    }
    for (const row of before.rows) {
      if (keys.has(row.key) || !inRange(row.key)) continue;
      const reason = evicted.has(row.key)
        ? "evicted"
        : row.expireAt != null && row.expireAt <= after.now
          ? "expired"
          : "deleted";
      this.markGone(row, reason);
    }
  }

  /**
   * Keeps a removed key on screen for a moment, faded, marked with why it went:
   * "expired", "deleted", or "evicted" (by maxmemory).
   */
  markGone(row, reason) {
    this.gone.set(row.key, { row, reason, until: performance.now() + GONE_MS });
  }

  renderCount() {
    const w = this.win;
    if (!w) return;
    const filtered = this.pattern !== "*" || this.typeSelect.value !== "";
    const keys = `${w.keys} key${w.keys === 1 ? "" : "s"}`;
    const text = filtered ? `${w.total} of ${keys} match` : keys;
    const volatile = w.volatile ? ` · ${w.volatile} with TTL` : "";
    const value = text + volatile;
    if (this.countEl.textContent !== value) this.countEl.textContent = value;
  }

  /** The rows on screen: the window's, with keys that just went merged in at their place. */
  displayRows() {
    const w = this.win;
    if (!w) return [];
    const { first, count } = this.visibleRange();
    const from = Math.max(first - OVERSCAN, w.offset);
    const to = Math.min(first + count + OVERSCAN, w.offset + w.rows.length);
    const shown = [];
    for (let i = from; i < to; i++) shown.push({ row: w.rows[i - w.offset], index: i, state: null });
    const now = performance.now();
    for (const [key, g] of this.gone) {
      if (g.until <= now || this.sigs.has(key)) {
        this.gone.delete(key);
        continue;
      }
      const lo = shown[0]?.row.key;
      const hi = shown[shown.length - 1]?.row.key;
      const fits = shown.length === 0 || ((from === 0 || key >= lo) && (to >= w.total || key <= hi));
      if (!fits) continue;
      let at = shown.findIndex((s) => s.row.key > key);
      if (at < 0) at = shown.length;
      shown.splice(at, 0, { row: g.row, index: null, state: g.reason });
    }
    const base = shown.length ? Math.max(0, Math.min(from, w.total)) : 0;
    shown.forEach((s, i) => (s.position = base + i));
    return shown;
  }

  renderRows() {
    const w = this.win;
    if (!w) return;
    const shown = this.displayRows();
    const now = performance.now();
    const next = new Map();
    const elements = [];
    for (const s of shown) {
      const flash = s.state === null && (this.flashes.get(s.row.key) ?? 0) > now;
      const id = `${s.state ?? "live"}|${signature(s.row)}|${flash}`;
      let el = this.rowEls.get(s.row.key);
      if (!el || el.dataset.id !== id) el = this.buildRow(s.row, s.state, flash, id);
      el.style.transform = `translateY(${s.position * ROW_HEIGHT}px)`;
      if (s.index === null) delete el.dataset.index;
      else el.dataset.index = String(s.index);
      el.setAttribute("aria-rowindex", String(s.position + 2));
      el.classList.toggle("selected", s.index !== null && s.index === this.selectedIndex);
      if (s.index === this.selectedIndex) el.setAttribute("aria-current", "true");
      else el.removeAttribute("aria-current");
      next.set(s.row.key, el);
      elements.push(el);
    }
    this.rowsEl.replaceChildren(...elements);
    this.rowEls = next;
    this.table.setAttribute("aria-rowcount", String(w.total + 1));
    this.emptyEl.hidden = w.total !== 0 || elements.length !== 0;
    this.emptyEl.textContent = w.keys === 0 ? `No keys in db ${this.db} yet. Try SET greeting hello EX 30.` : "No keys match this filter.";
    for (const key of this.flashes.keys()) if ((this.flashes.get(key) ?? 0) <= now) this.flashes.delete(key);
    this.frame();
  }

  buildRow(row, state, flash, id) {
    const ttl = row.expireAt != null
      ? h("span", { class: "ttl" }, h("span", { class: "ttl-bar", "aria-hidden": "true" }, h("span", { class: "ttl-fill" })), h("span", { class: "ttl-text" }))
      : h("span", { class: "muted", title: "no TTL" }, "—");
    const el = h(
      "div",
      {
        role: "row",
        class: `ks-row${state ? ` gone ${state}` : ""}${flash ? " flash" : ""}`,
        dataset: { id, key: row.key, type: row.type },
      },
      h("span", { role: "cell", class: "k", title: row.key }, row.key, state ? h("span", { class: "gone-label" }, ` (${state})`) : null),
      h("span", { role: "cell" }, h("span", { class: `badge t-${row.type}` }, row.type)),
      h("span", { role: "cell", class: "enc" }, row.encoding),
      h("span", { role: "cell", class: "size" }, formatBytes(row.size)),
      h("span", { role: "cell", class: "val" }, renderPreview(row.preview, "row")),
      h("span", { role: "cell", class: "ttl-cell" }, ttl),
    );
    return el;
  }

  /** Per frame: countdowns only (no snapshot), and the fade-outs' end. */
  frame() {
    if (!this.playground || !this.win) return;
    const vnow = this.playground.now(Date.now());
    let due = false;
    for (const [key, el] of this.rowEls) {
      const fill = el.querySelector(".ttl-fill");
      if (!fill) continue;
      const info = this.ttlFull.get(key);
      if (!info) continue;
      const remaining = Math.max(0, info.expireAt - vnow);
      const share = Math.min(1, remaining / info.full);
      fill.style.transform = `scaleX(${share})`;
      const text = el.querySelector(".ttl-text");
      const label = formatDuration(remaining);
      if (text.textContent !== label) text.textContent = label;
      el.dataset.ttl = String(Math.round(remaining));
      el.classList.toggle("near", share <= NEAR_EXPIRY);
      if (remaining === 0 && !el.classList.contains("gone")) due = true;
    }
    const now = performance.now();
    if (keyDetail?.updateFieldTtls(this.detailEl, vnow) && now - (this.lastDetailDue ?? 0) > 200) {
      this.lastDetailDue = now;
      this.renderDetail();
    }
    let stale = false;
    for (const g of this.gone.values()) if (g.until <= now) stale = true;
    for (const until of this.flashes.values()) if (until <= now) stale = true;
    if (due && now - (this.lastDueFetch ?? 0) > 200) {
      this.lastDueFetch = now;
      // Keys ran out of time with nothing written: the snapshot is taken all the same.
      this.update("due");
    } else if (stale) {
      this.renderRows();
    }
  }

  onKeyDown(e) {
    const w = this.win;
    if (!w || w.total === 0) return;
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if (!(e.key in moves)) {
      if (e.key === "Escape") this.select(-1);
      return;
    }
    e.preventDefault();
    const start = this.selectedIndex < 0 ? (moves[e.key] > 0 ? -1 : w.total) : this.selectedIndex;
    this.select(Math.max(0, Math.min(w.total - 1, start + moves[e.key])));
  }

  select(index) {
    this.selectedIndex = index;
    if (index < 0) {
      this.selectedKey = null;
      this.selectedRow = null;
      this.renderRows();
      this.renderDetail();
      return;
    }
    const top = index * ROW_HEIGHT;
    const vp = this.viewport;
    if (top < vp.scrollTop) this.scrollViewTo(top);
    else if (top + ROW_HEIGHT > vp.scrollTop + vp.clientHeight) this.scrollViewTo(top + ROW_HEIGHT - vp.clientHeight);
    this.update("scroll");
    const w = this.win;
    const row = w.rows[index - w.offset];
    this.selectedKey = row?.key ?? null;
    this.selectedRow = row ?? null;
    this.renderRows();
    this.renderDetail();
  }

  renderDetail() {
    const row = this.selectedRow;
    if (!row) {
      this.detailEl.replaceChildren(h("p", { class: "muted hint" }, "Select a key (click it, or arrow keys in the list) to see its value."));
      return;
    }
    const ttl = row.ttlMs == null ? "no TTL" : `TTL ${formatDuration(row.ttlMs)} at the last snapshot`;
    // Redrawn on every change: keep the focus on the control the student was using.
    const active = this.getRootNode().activeElement;
    const focused = this.detailEl.contains(active) ? active.dataset?.focusId : undefined;
    this.detailEl.replaceChildren(
      h(
        "p",
        { class: "detail-head" },
        h("strong", { class: "k" }, row.key),
        " ",
        h("span", { class: `badge t-${row.type}` }, row.type),
        h("span", { class: "muted" }, ` ${row.encoding} · ${formatBytes(row.size)} · ${ttl}`),
      ),
      this.renderValue(row),
    );
    if (focused) this.detailEl.querySelector(`[data-focus-id="${CSS.escape(focused)}"]`)?.focus();
  }

  /** The selected key's value as its type's detail view, or its preview if there is none. */
  renderValue(row) {
    if (!keyDetail) {
      loadKeyDetail().then(
        () => this.renderDetail(),
        (error) => console.error(error),
      );
      return renderPreview(row.preview, "detail");
    }
    const key = row.key;
    const detail = JSON.parse(this.playground.redisKeyDetail(this.db, key, this.geoOrigins.get(key) ?? "", Date.now()));
    const ctx = {
      key,
      view: this.detailViews.get(key),
      setView: (view) => {
        this.detailViews.set(key, view);
        this.renderDetail();
      },
      setOrigin: (member) => {
        this.geoOrigins.set(key, member);
        this.renderDetail();
      },
    };
    return (detail && keyDetail.renderKeyDetail(detail, ctx)) ?? renderPreview(row.preview, "detail");
  }
}

customElements.define("keyspace-panel", KeyspacePanel);
