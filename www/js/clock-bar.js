// <clock-bar>: the sandbox's virtual time, and the controls that pause, speed up and jump it.
// It reads the clock every frame instead of keeping its own state, so a `.time` line typed
// in either console is reflected at once and the two can never disagree.

import { h } from "./dom.js";

export const JUMPS = [
  { label: "+1 s", ms: 1_000, name: "Advance 1 second" },
  { label: "+10 s", ms: 10_000, name: "Advance 10 seconds" },
  { label: "+1 min", ms: 60_000, name: "Advance 1 minute" },
  { label: "+1 h", ms: 3_600_000, name: "Advance 1 hour" },
];
export const SPEEDS = [0.5, 1, 2, 10];

/** `2026-11-26 05:40:00.1` (UTC, tenths): the `.time` lines' instant, calmer to watch tick. */
export function formatVirtualTime(ms) {
  const iso = new Date(ms).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 21) };
}

export class ClockBar extends HTMLElement {
  connectedCallback() {
    if (this.built) return;
    this.built = true;
    this.setAttribute("role", "region");
    this.setAttribute("aria-label", "Sandbox clock");
    this.dateEl = h("span", { class: "clock-date" });
    this.timeEl = h("span", { class: "clock-time" });
    this.stateEl = h("span", { class: "clock-state" });
    this.pauseButton = h("button", { type: "button", class: "btn", "aria-pressed": "false", onclick: () => this.togglePause() }, "Pause");
    this.speedSelect = h(
      "select",
      { "aria-label": "Clock speed", onchange: () => this.setSpeed(Number(this.speedSelect.value)) },
      SPEEDS.map((s) => h("option", { value: s }, `${s}×`)),
    );
    this.speedSelect.value = "1";
    this.append(
      h(
        "div",
        { class: "clock-readout" },
        h("span", { class: "clock-label", id: "clock-label" }, "Sandbox time"),
        // Not a live region: it changes every frame; the state word is announced instead.
        h("time", { class: "clock-value", "aria-labelledby": "clock-label", "data-role": "virtual-time" }, this.dateEl, " ", this.timeEl, h("span", { class: "clock-zone" }, " UTC")),
        h("span", { role: "status", class: "clock-status" }, this.stateEl),
      ),
      h(
        "div",
        { class: "clock-controls", role: "group", "aria-label": "Clock controls" },
        this.pauseButton,
        JUMPS.map((j) => h("button", { type: "button", class: "btn", "aria-label": j.name, title: j.name, onclick: () => this.jump(j.ms) }, j.label)),
        h("label", { class: "speed" }, h("span", { "aria-hidden": "true" }, "Speed"), this.speedSelect),
      ),
    );
  }

  /**
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {import("./frame-loop.js").FrameLoop} loop
   */
  attach(playground, loop) {
    this.playground = playground;
    this.loop = loop;
    loop.subscribe(({ hostMs }) => this.render(hostMs));
    this.render(Date.now());
  }

  render(hostMs) {
    const p = this.playground;
    if (!p) return;
    const { date, time } = formatVirtualTime(p.now(hostMs));
    if (this.dateEl.textContent !== date) this.dateEl.textContent = date;
    this.timeEl.textContent = time;
    const paused = p.isPaused();
    const speed = p.speed();
    const state = paused ? "paused" : speed === 1 ? "running" : `running at ${speed}×`;
    if (this.stateEl.textContent !== state) {
      this.stateEl.textContent = state;
      this.dataset.state = paused ? "paused" : "running";
      this.pauseButton.textContent = paused ? "Resume" : "Pause";
      this.pauseButton.setAttribute("aria-pressed", String(paused));
    }
    if (this.getRootNode().activeElement !== this.speedSelect && this.speedSelect.value !== String(speed)) {
      if (!SPEEDS.includes(speed)) {
        this.speedSelect.append(h("option", { value: speed }, `${speed}×`));
      }
      this.speedSelect.value = String(speed);
    }
  }

  togglePause() {
    const now = Date.now();
    if (this.playground.isPaused()) this.playground.resume(now);
    else this.playground.pause(now);
    this.changed("pause");
  }

  jump(ms) {
    this.playground.advance(ms);
    this.changed("advance");
  }

  setSpeed(speed) {
    this.playground.setSpeed(speed, Date.now());
    this.changed("speed");
  }

  /** Whatever came due by the new time expires now, and every panel redraws. */
  changed(action) {
    this.loop.tickIfDue(Date.now(), { force: true });
    this.render(Date.now());
    this.dispatchEvent(new CustomEvent("playground:change", { bubbles: true, detail: { engine: "clock", action } }));
  }
}

customElements.define("clock-bar", ClockBar);
