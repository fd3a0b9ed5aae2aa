// The explain view: after a Mongo statement that ran `.explain(…)`, the plan the engine chose
// as a tree of stages (COLLSCAN, or IXSCAN → FETCH → SORT …) with the index, its bounds and
// the keys and documents each stage examined, beside the raw explain document. "Compare"
// shows the same query without any index (hint({$natural: 1})) next to it: the lesson that
// an index turns 100,000 documents examined into a dozen keys. The engine decides what was
// explained (mongoExplained), so the page never parses mongosh itself.

import { h } from "./dom.js";

// The plan trees' code (explain-plan.js) is fetched when the first explain arrives.
let explainPlan = null;

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
    explainPlan ??= import("./explain-plan.js");
    explainPlan.then(
      ({ renderExplain }) => this.result && renderExplain(this),
      (error) => {
        explainPlan = null;
        console.error(error);
      },
    );
  }
}
