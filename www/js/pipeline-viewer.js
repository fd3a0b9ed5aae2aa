// The pipeline viewer: after a Mongo statement that is an `aggregate` call, one column per
// stage with its documents in → out, documents examined, time and first documents; a
// clicked stage shows every document the engine kept for it. The failing stage is marked
// with its error. The engine decides what counts as an aggregate statement (mongoFlow), so
// the page never parses mongosh itself.

import { h } from "./dom.js";

/** Documents shown inside a column; the rest are one click away. */
export const PREVIEW = 2;

export class PipelineViewer {
  /**
   * @param {HTMLElement} root the `[data-slot=pipeline]` section
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {EventTarget} [events] where this sandbox announces `playground:change`
   */
  constructor(root, playground, events = document) {
    this.root = root;
    this.playground = playground;
    this.report = null;
    this.selected = null;
    root.classList.add("pipeline-viewer");
    root.classList.remove("slot");
    root.setAttribute("role", "region");
    root.setAttribute("aria-label", "Pipeline viewer");
    this.summaryEl = h("p", { class: "panel-count", "data-role": "summary", "aria-live": "polite" });
    this.messageEl = h("p", { class: "pv-message", "data-role": "message", hidden: true });
    this.stagesEl = h("ol", { class: "pv-stages", "aria-label": "Stages" });
    this.detailEl = h("div", { class: "pv-detail", role: "region", "aria-label": "Stage output", tabindex: "0", hidden: true });
    this.emptyEl = h(
      "p",
      { class: "panel-empty" },
      "Run ",
      h("code", {}, "db.posts.aggregate([…])"),
      ": each stage's documents in and out, and its first documents, show here.",
    );
    root.replaceChildren(
      h("div", { class: "panel-head" }, h("h2", {}, "Pipeline stages"), this.summaryEl),
      this.emptyEl,
      this.messageEl,
      this.stagesEl,
      this.detailEl,
    );
    events.addEventListener("playground:change", (e) => {
      if (e.detail?.engine === "mongo" && typeof e.detail.input === "string") this.show(e.detail.input);
    });
  }

  /** Shows the flow of `src` when it is an aggregate statement; other statements leave the view as it is. */
  show(src) {
    // The engine calls nothing an aggregate without the word (`flow::recognise`): a pasted
    // ten-megabyte insertMany need not be copied into it again to learn that.
    if (!src.includes("aggregate")) return;
    let report;
    try {
      report = JSON.parse(this.playground.mongoFlow(src, Date.now()));
    } catch (error) {
      console.error(error);
      return;
    }
    if (!report?.aggregate) return;
    this.report = report;
    const failed = report.error?.stage ?? null;
    const ran = report.stages.filter((s) => s.ran);
    this.selected = failed ?? (ran.length ? ran[ran.length - 1].index : null);
    this.render();
  }

  render() {
    const r = this.report;
    this.emptyEl.hidden = true;
    const source = r.collection ? `db.${r.collection}` : "db";
    const stages = `${r.stages.length} stage${r.stages.length === 1 ? "" : "s"}`;
    this.summaryEl.textContent =
      r.resultCount === null || r.resultCount === undefined
        ? `${source} · ${stages}`
        : `${source} · ${stages} · ${r.resultCount} document${r.resultCount === 1 ? "" : "s"} out`;

    const message = r.error
      ? `${r.error.stage === null ? "" : `Stage ${r.error.stage + 1} failed: `}${r.error.codeName ? `MongoServerError[${r.error.codeName}]: ` : ""}${r.error.message}`
      : r.note
        ? `Not shown: ${r.note}.`
        : "";
    this.messageEl.textContent = message;
    this.messageEl.hidden = message === "";
    this.messageEl.classList.toggle("error", Boolean(r.error));
    this.messageEl.setAttribute("role", r.error ? "alert" : "status");

    this.stagesEl.replaceChildren(...r.stages.map((s) => this.column(s)));
    this.renderDetail();
  }

  column(s) {
    const failed = this.report.error?.stage === s.index;
    const counts = s.ran ? `${s.docsIn} → ${s.docsOut}` : failed ? "failed" : "did not run";
    const button = h(
      "button",
      {
        type: "button",
        class: "pv-stage-button",
        "aria-pressed": String(this.selected === s.index),
        "data-stage": String(s.index),
        onclick: () => this.select(s.index),
      },
      h("span", { class: "pv-name" }, `${s.index + 1} ${s.name}`),
      h("span", { class: "pv-counts", "data-role": "counts" }, counts),
    );
    const facts = s.ran
      ? h(
          "p",
          { class: "pv-facts" },
          `examined ${s.examined}`,
          s.ms === null || s.ms === undefined ? "" : ` · ${formatMs(s.ms)}`,
        )
      : null;
    const preview = s.ran
      ? s.sampleText.length
        ? s.sampleText.slice(0, PREVIEW).map((t) => h("pre", { class: "pv-doc" }, t))
        : h("p", { class: "pv-facts" }, "(no documents)")
      : null;
    const more = s.ran && s.docsOut > PREVIEW ? h("p", { class: "pv-facts" }, `… ${s.docsOut - PREVIEW} more`) : null;
    const error = failed ? h("p", { class: "pv-error", "data-role": "error" }, this.report.error.message) : null;
    return h(
      "li",
      { class: `pv-stage${failed ? " failed" : s.ran ? "" : " skipped"}`, "data-stage": String(s.index), "aria-invalid": failed ? "true" : null },
      button,
      facts,
      error,
      preview,
      more,
    );
  }

  select(index) {
    this.selected = index;
    for (const b of this.stagesEl.querySelectorAll(".pv-stage-button")) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.stage) === index));
    }
    this.renderDetail();
  }

  renderDetail() {
    const s = this.report?.stages.find((x) => x.index === this.selected);
    if (!s) {
      this.detailEl.hidden = true;
      this.detailEl.replaceChildren();
      return;
    }
    this.detailEl.hidden = false;
    const failed = this.report.error?.stage === s.index;
    let title;
    if (failed) title = `Stage ${s.index + 1} ${s.name}: failed`;
    else if (!s.ran) title = `Stage ${s.index + 1} ${s.name}: did not run`;
    else if (s.sampleText.length < s.docsOut) title = `Stage ${s.index + 1} ${s.name}: first ${s.sampleText.length} of ${s.docsOut} documents`;
    else title = `Stage ${s.index + 1} ${s.name}: ${s.docsOut} document${s.docsOut === 1 ? "" : "s"}`;
    const parts = [h("h3", { class: "pv-detail-title" }, title)];
    if (failed) parts.push(h("p", { class: "pv-error" }, this.report.error.message));
    for (const t of s.sampleText) parts.push(h("pre", { class: "pv-doc" }, t));
    this.detailEl.replaceChildren(...parts);
  }
}

function formatMs(ms) {
  // Browsers coarsen performance.now(), so a quick stage can read as exactly zero.
  if (ms < 0.01) return "< 0.01 ms";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}
