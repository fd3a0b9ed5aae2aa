// <collections-panel>: the Mongo sandbox's databases and collections with their document
// counts, and a page of the selected collection's documents, as a table of top-level fields
// or as mongosh prints them. Refreshed after every Mongo statement; a collection whose
// count just changed becomes the selected one, so a student sees their documents land.

import { atMostOncePerFrame, formatBytes, formatDuration, h } from "./dom.js";

export const PAGE_SIZE = 20;

export class CollectionsPanel extends HTMLElement {
  connectedCallback() {
    if (this.built) return;
    this.built = true;
    this.setAttribute("role", "region");
    this.setAttribute("aria-label", "MongoDB collections");
    this.classList.add("panel");
    this.selected = null; // {db, coll}
    this.offset = 0;
    this.view = "table";
    this.counts = new Map(); // "db.coll" → count at the last refresh

    this.navEl = h("nav", { class: "coll-nav", "aria-label": "Databases and collections" });
    this.titleEl = h("h3", { class: "coll-title" });
    this.rangeEl = h("span", { class: "coll-range", "aria-live": "polite" });
    this.prevButton = h("button", { type: "button", class: "btn", "aria-label": "Previous page of documents", onclick: () => this.page(-1) }, "‹ Prev");
    this.nextButton = h("button", { type: "button", class: "btn", "aria-label": "Next page of documents", onclick: () => this.page(1) }, "Next ›");
    this.viewButtons = ["table", "mongosh"].map((v) =>
      h("button", { type: "button", class: "btn", "aria-pressed": String(v === this.view), "data-view": v, onclick: () => this.setView(v) }, v === "table" ? "Table" : "mongosh"),
    );
    this.docsEl = h("div", { class: "docs", tabindex: "0", role: "region", "aria-label": "Documents" });
    this.indexesEl = h("ul", { class: "coll-indexes", "data-role": "indexes", "aria-label": "Indexes" });
    // The documents' size against the sandbox's memory limit, as the Redis strip shows
    // used_memory against maxmemory.
    this.memoryText = h("span", {});
    this.memoryFill = h("span", { class: "mem-fill" });
    this.memoryBar = h("span", { class: "mem-bar", "aria-hidden": "true" }, this.memoryFill);
    this.memoryEl = h("p", { class: "coll-memory", "data-role": "memory" }, this.memoryText, this.memoryBar);
    this.append(
      h("div", { class: "panel-head" }, h("h2", {}, "Collections"), h("p", { class: "panel-count", "data-role": "summary" }), this.memoryEl),
      h(
        "div",
        { class: "coll-body" },
        this.navEl,
        h(
          "div",
          { class: "coll-main" },
          (this.toolbar = h(
            "div",
            { class: "coll-toolbar" },
            this.titleEl,
            h("div", { class: "view-toggle", role: "group", "aria-label": "Document view" }, this.viewButtons),
            h("div", { class: "pager" }, this.prevButton, this.rangeEl, this.nextButton),
          )),
          this.indexesEl,
          this.docsEl,
        ),
      ),
    );
  }

  /**
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {import("./frame-loop.js").FrameLoop} [loop] drives the TTL countdowns
   * @param {EventTarget} [events] where this sandbox announces `playground:change`
   */
  attach(playground, loop, events = document) {
    this.playground = playground;
    loop?.subscribe(({ hostMs }) => this.frame(hostMs));
    const changed = atMostOncePerFrame(() => this.refresh({ follow: true }));
    events.addEventListener("playground:change", (e) => {
      // `expired` comes from the frame loop's tick: TTL indexes delete documents on the clock too;
      // a lesson's setup may have filled collections.
      if (e.detail?.engine === "mongo" || e.detail?.engine === "lesson" || e.detail?.expired) changed();
    });
    this.refresh({ follow: true });
  }

  refresh({ follow = false } = {}) {
    const catalog = JSON.parse(this.playground.mongoCatalog());
    const counts = new Map();
    let changed = null;
    for (const db of catalog.databases) {
      for (const c of db.collections) {
        const id = `${db.name}.${c.name}`;
        counts.set(id, c.count);
        if (this.counts.get(id) !== c.count) changed = { db: db.name, coll: c.name };
      }
    }
    this.counts = counts;
    const exists = (sel) => sel && counts.has(`${sel.db}.${sel.coll}`);
    if (follow && changed && !(this.selected && this.selected.db === changed.db && this.selected.coll === changed.coll)) {
      this.selected = changed;
      this.offset = 0;
    }
    if (!exists(this.selected)) {
      const shellDb = this.playground.mongoDb();
      const db = catalog.databases.find((d) => d.name === shellDb) ?? catalog.databases[0];
      this.selected = db?.collections[0] ? { db: db.name, coll: db.collections[0].name } : null;
      this.offset = 0;
    }
    this.renderMemory(catalog.memory);
    this.renderNav(catalog, changed);
    this.renderIndexes(catalog);
    this.renderDocuments();
  }

  renderMemory({ used, limit }) {
    const share = limit > 0 ? used / limit : 1;
    this.memoryText.textContent = `Documents ≈ ${formatBytes(used)} of ${formatBytes(limit)}`;
    this.memoryEl.title =
      `${Math.round(share * 100)}% of the sandbox's memory limit (the documents' BSON size over all ` +
      "collections); a write past it fails with 'Sandbox memory limit reached'";
    Object.assign(this.memoryEl.dataset, { used: String(used), limit: String(limit) });
    this.memoryFill.style.transform = `scaleX(${Math.min(1, share)})`;
    this.memoryBar.classList.toggle("full", share >= 0.95);
  }

  /** The selected collection's indexes: name, key pattern, entries and size. */
  renderIndexes(catalog) {
    const sel = this.selected;
    const coll = sel && catalog.databases.find((d) => d.name === sel.db)?.collections.find((c) => c.name === sel.coll);
    this.indexesEl.hidden = !coll;
    if (!coll) return;
    this.indexesEl.replaceChildren(
      ...(coll.indexes ?? []).map((ix) =>
        h(
          "li",
          { class: "coll-index", dataset: { name: ix.name }, title: `${ix.entries} entries · ≈ ${formatBytes(ix.approxBytes)}` },
          h("span", { class: "ix-name" }, ix.name),
          h("code", { class: "ix-key" }, ix.key),
          ix.properties.map((p) => h("span", { class: "ix-prop" }, p)),
          h("span", { class: "ix-size", "data-role": "size" }, formatBytes(ix.approxBytes)),
        ),
      ),
    );
  }

  renderNav(catalog, changed) {
    const collections = catalog.databases.reduce((n, d) => n + d.collections.length, 0);
    this.querySelector("[data-role=summary]").textContent =
      `${catalog.databases.length} database${catalog.databases.length === 1 ? "" : "s"} · ${collections} collection${collections === 1 ? "" : "s"}`;
    if (catalog.databases.length === 0) {
      this.navEl.replaceChildren(h("p", { class: "muted hint" }, "No databases yet. Insert a document and it appears here."));
      return;
    }
    const focused = this.getRootNode().activeElement?.closest?.(".coll-nav button")?.dataset.id;
    this.navEl.replaceChildren(
      ...catalog.databases.map((db) =>
        h(
          "div",
          { class: "db-group" },
          h("p", { class: "db-name", title: `≈ ${formatBytes(db.sizeOnDisk)}` }, db.name),
          h(
            "ul",
            {},
            db.collections.map((c) => {
              const id = `${db.name}.${c.name}`;
              const current = this.selected?.db === db.name && this.selected?.coll === c.name;
              const justChanged = changed?.db === db.name && changed?.coll === c.name;
              return h(
                "li",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: `coll-button${justChanged ? " flash" : ""}`,
                    "aria-current": current ? "true" : null,
                    dataset: { id, db: db.name, coll: c.name },
                    onclick: () => this.choose(db.name, c.name),
                  },
                  h("span", { class: "coll-name" }, c.name),
                  h("span", { class: "coll-count", "aria-label": `${c.count} documents` }, String(c.count)),
                ),
              );
            }),
          ),
        ),
      ),
    );
    if (focused) [...this.navEl.querySelectorAll("button")].find((b) => b.dataset.id === focused)?.focus();
  }

  choose(db, coll) {
    this.selected = { db, coll };
    this.offset = 0;
    this.refresh();
  }


  page(direction) {
    this.offset = Math.max(0, this.offset + direction * PAGE_SIZE);
    this.renderDocuments();
  }

  setView(view) {
    this.view = view;
    for (const b of this.viewButtons) b.setAttribute("aria-pressed", String(b.dataset.view === view));
    this.renderDocuments();
  }

  renderDocuments() {
    const sel = this.selected;
    this.toolbar.hidden = !sel;
    if (!sel) {
      this.titleEl.textContent = "";
      this.rangeEl.textContent = "";
      this.prevButton.disabled = this.nextButton.disabled = true;
      this.docsEl.replaceChildren(h("p", { class: "panel-empty" }, "Try db.posts.insertMany([{title: 'Hello'}, {title: 'World'}])"));
      return;
    }
    let page = JSON.parse(this.playground.mongoDocuments(sel.db, sel.coll, this.offset, PAGE_SIZE));
    if (page.total > 0 && page.documents.length === 0) {
      this.offset = Math.max(0, Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE);
      page = JSON.parse(this.playground.mongoDocuments(sel.db, sel.coll, this.offset, PAGE_SIZE));
    }
    this.titleEl.textContent = `${sel.db}.${sel.coll}`;
    const last = page.offset + page.documents.length;
    this.rangeEl.textContent = page.total === 0 ? "no documents" : `${page.offset + 1}–${last} of ${page.total}`;
    this.prevButton.disabled = page.offset === 0;
    this.nextButton.disabled = last >= page.total;
    if (this.view === "mongosh") {
      this.docsEl.replaceChildren(h("pre", { class: "mongosh-docs" }, page.documents.map((d) => d.text).join(",\n")));
      return;
    }
    // A column of countdowns when a TTL index covers any document of the page.
    const ttl = page.documents.some((d) => d.expireAt != null);
    this.docsEl.replaceChildren(
      h(
        "table",
        { class: "doc-table" },
        h("caption", { class: "visually-hidden" }, `Documents of ${sel.db}.${sel.coll}`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col", class: "num" }, "#"),
            // Beside the row number, so a wide document never scrolls its countdown out of view.
            ttl ? h("th", { scope: "col", class: "doc-expiry-head", title: "When a TTL index deletes the document" }, "expires") : null,
            page.columns.map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h(
          "tbody",
          {},
          page.documents.map((d, i) =>
            h(
              "tr",
              { title: d.ejson },
              h("td", { class: "num muted" }, String(page.offset + i + 1)),
              ttl ? h("td", { class: "doc-expiry", dataset: d.expireAt == null ? {} : { expireAt: String(d.expireAt) } }) : null,
              d.cells.map((c) => (c === null ? h("td", { class: "missing", "aria-label": "missing" }, "·") : h("td", {}, c))),
            ),
          ),
        ),
      ),
    );
    this.frame(Date.now());
  }

  /**
   * Per frame: each TTL countdown against the virtual clock. Past its time a document waits
   * for the TTL monitor (every 60 s of sandbox time); the refresh after its pass removes it.
   */
  frame(hostMs) {
    if (!this.playground) return;
    const cells = this.docsEl.querySelectorAll("td.doc-expiry[data-expire-at]");
    if (cells.length === 0) return;
    const vnow = this.playground.now(hostMs);
    for (const td of cells) {
      const remaining = Number(td.dataset.expireAt) - vnow;
      const label = remaining > 0 ? `expires in ${formatDuration(remaining)}` : "expired, not yet deleted";
      if (td.textContent !== label) td.textContent = label;
      if (td.classList.toggle("due", remaining <= 0)) td.title = "The TTL monitor deletes it on its next pass (every 60 s)";
      else td.removeAttribute("title");
    }
  }
}

customElements.define("collections-panel", CollectionsPanel);
