// The explain view's plan trees, fetched the first time a statement explains a query
// (explain-view.js): only Mongo lessons need them, so they stay out of the first load.

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

/** Draws `view.result` (the explained query and the same query without an index) into `view`. */
export function renderExplain(view) {
  const { explain, withoutIndex } = view.result;
  view.emptyEl.hidden = true;
  view.rawBox.hidden = false;
  const plan = explain.queryPlanner.winningPlan;
  // The scan the plan reads (the first index scan of an OR's branches).
  const leaves = planStages(plan).map(({ s }) => s);
  const leaf = leaves.find((s) => s.stage === "IXSCAN") ?? leaves.at(-1);
  // IDHACK is the server's direct `_id` lookup: an index read too.
  const usesIndex = leaf?.stage === "IXSCAN" || leaf?.stage === "IDHACK";
  view.summaryEl.textContent = `${explain.queryPlanner.namespace} · ${leaf?.indexName ? `IXSCAN ${leaf.indexName}` : leaf?.stage ?? ""}`;
  view.compareButton.hidden = !usesIndex;
  view.compareButton.setAttribute("aria-pressed", String(view.comparing && usesIndex));
  const plans = [renderTree(explain, "Winning plan")];
  if (view.comparing && usesIndex) {
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
  view.plansEl.replaceChildren(...plans);
  view.rawEl.textContent = JSON.stringify(explain, null, 2);
}
