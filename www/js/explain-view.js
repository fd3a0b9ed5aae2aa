// The explain view: after a Mongo statement that ran `.explain(…)`, the plan the engine chose
// as a tree of stages (COLLSCAN, or IXSCAN → FETCH → SORT …) with the index, its bounds and
// the keys and documents each stage examined, beside the raw explain document. "Compare"
// shows the same query without any index (hint({$natural: 1})) next to it: the lesson that
// an index turns 100,000 documents examined into a dozen keys. The engine decides what was
// explained (mongoExplained), so the page never parses mongosh itself.

import { h } from "./dom.js";

/**
 * The stages of a plan from the root (what the find returns) down to the leaves (the scans),
 * depth first: an OR or SORT_MERGE lists each of its branches in turn. Each stage comes with
 * its depth in the tree.
 */
export function planStages(plan, depth = 0, out = []) {
  if (!plan) return out;
  out.push({ s: plan, depth });
  for (const child of plan.inputStages ?? []) planStages(child, depth + 1, out);
  planStages(plan.inputStage, depth + 1, out);
  return out;
}

const n = (x) => (typeof x === "number" ? x.toLocaleString("en-US") : "–");

/** One line per stage fact a student reads: the index, its bounds, the counts. */
function stageFacts(s) {
  const facts = [];
  if (s.indexName) facts.push(`index ${s.indexName} ${JSON.stringify(s.keyPattern)}`);
  if (s.indexBounds) {
    facts.push(
      "bounds " +
        Object.entries(s.indexBounds)
          .map(([k, v]) => `${k}: ${v.join(" ∪ ")}`)
          .join(", "),
    );
  }
  if (s.direction && s.stage !== "COLLSCAN" && s.direction !== "forward") facts.push(`${s.direction} scan`);
  if (s.sortPattern) facts.push(`sort ${JSON.stringify(s.sortPattern)} in memory`);
  if (s.limitAmount !== undefined) facts.push(`limit ${s.limitAmount}`);
  if (s.skipAmount !== undefined) facts.push(`skip ${s.skipAmount}`);
  if (s.filter) facts.push(`filter ${JSON.stringify(s.filter)}`);
  return facts;
}

function stageCounts(s) {
  const parts = [];
  if (s.keysExamined !== undefined) parts.push(`${n(s.keysExamined)} keys examined`);
  if (s.docsExamined !== undefined) parts.push(`${n(s.docsExamined)} docs examined`);
  if (s.nReturned !== undefined) parts.push(`${n(s.nReturned)} out`);
  return parts.join(" · ");
}

function renderTree(explain, label) {
  const stats = explain.executionStats;
  const root = stats?.executionStages ?? explain.queryPlanner?.winningPlan;
  const stages = planStages(root);
  return h(
    "div",
    { class: "ev-plan", "data-role": "plan", "aria-label": label },
    h(
      "p",
      { class: "ev-totals", "data-role": "totals" },
      h("strong", {}, label),
      stats
        ? ` · ${n(stats.nReturned)} returned · ${n(stats.totalKeysExamined)} keys examined · ${n(stats.totalDocsExamined)} docs examined`
        : "",
    ),
    h(
      "ol",
      { class: "ev-stages" },
      stages.map(({ s, depth }) =>
        h(
          "li",
          { class: `ev-stage ev-${String(s.stage).toLowerCase()}`, style: { marginLeft: `${depth * 1.1}rem` }, dataset: { stage: s.stage } },
          h("span", { class: "ev-stage-name" }, depth === 0 ? s.stage : `└ ${s.stage}`),
          h("span", { class: "ev-counts" }, stageCounts(s)),
          stageFacts(s).map((f) => h("span", { class: "ev-fact" }, f)),
        ),
      ),
    ),
  );
}

export class ExplainView {
  /**
   * @param {HTMLElement} root the `[data-slot=explain]` section
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {EventTarget} [events] where this sandbox announces `playground:change`
   */
  constructor(root, playground, events = document) {
    this.root = root;
    this.playground = playground;
    this.result = null;
    this.comparing = false;
    root.classList.add("explain-view");
    root.classList.remove("slot");
    this.summaryEl = h("p", { class: "panel-count", "data-role": "summary", "aria-live": "polite" });
    this.compareButton = h(
      "button",
      { type: "button", class: "btn", "data-role": "compare", "aria-pressed": "false", hidden: true, onclick: () => this.toggleCompare() },
      "Compare without the index",
    );
    this.plansEl = h("div", { class: "ev-plans", "data-role": "plans" });
    this.rawEl = h("pre", { class: "ev-raw", "data-role": "raw", tabindex: "0" });
    this.rawBox = h("details", { class: "ev-raw-box", hidden: true }, h("summary", {}, "Explain document"), this.rawEl);
    this.emptyEl = h(
      "p",
      { class: "panel-empty" },
      "Run ",
      h("code", {}, "db.posts.find({…}).explain(\"executionStats\")"),
      ": the plan, the index it uses and the keys and documents it examines show here.",
    );
    root.replaceChildren(
      h("div", { class: "panel-head" }, h("h2", {}, "Explain"), this.summaryEl, this.compareButton),
      this.emptyEl,
      this.plansEl,
      this.rawBox,
    );
    events.addEventListener("playground:change", (e) => {
      if (e.detail?.engine === "mongo" && typeof e.detail.input === "string") this.show();
    });
  }

  /** Shows the last explained query, if the statement just run explained one. */
  show() {
    let text;
    try {
      text = this.playground.mongoExplained();
    } catch (error) {
      console.error(error);
      return;
    }
    if (!text) return;
    this.result = JSON.parse(text);
    this.render();
  }

  toggleCompare() {
    this.comparing = !this.comparing;
    this.render();
  }

  render() {
    const { explain, withoutIndex } = this.result;
    this.emptyEl.hidden = true;
    this.rawBox.hidden = false;
    const plan = explain.queryPlanner.winningPlan;
    // The scan the plan reads (the first index scan of an OR's branches).
    const leaves = planStages(plan).map(({ s }) => s);
    const leaf = leaves.find((s) => s.stage === "IXSCAN") ?? leaves.at(-1);
    // IDHACK is the server's direct `_id` lookup: an index read too.
    const usesIndex = leaf?.stage === "IXSCAN" || leaf?.stage === "IDHACK";
    this.summaryEl.textContent = `${explain.queryPlanner.namespace} · ${leaf?.indexName ? `IXSCAN ${leaf.indexName}` : leaf?.stage ?? ""}`;
    this.compareButton.hidden = !usesIndex;
    this.compareButton.setAttribute("aria-pressed", String(this.comparing && usesIndex));
    const plans = [renderTree(explain, "Winning plan")];
    if (this.comparing && usesIndex) {
      plans.push(renderTree(withoutIndex, "Without the index"));
      const a = explain.executionStats, b = withoutIndex.executionStats;
      const examinedWith = a.totalKeysExamined + a.totalDocsExamined;
      const examinedWithout = b.totalKeysExamined + b.totalDocsExamined;
      plans.push(
        h(
          "p",
          { class: "ev-ratio", "data-role": "ratio" },
          `Without the index: ${n(b.totalDocsExamined)} documents examined; with it: ${n(a.totalKeysExamined)} keys and ${n(a.totalDocsExamined)} documents` +
            (examinedWith > 0 ? ` (${n(Math.round(examinedWithout / examinedWith))}× less work).` : "."),
        ),
      );
    }
    this.plansEl.replaceChildren(...plans);
    this.rawEl.textContent = JSON.stringify(explain, null, 2);
  }
}
