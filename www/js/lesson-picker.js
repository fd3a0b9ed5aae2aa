// <lesson-picker>: the built-in course on the page. Lists the lessons of www/lessons/ with
// the progress kept for each (localStorage), opens one into a LessonPlayer, and shows its
// steps: prose, click-to-run commands, checks that turn done, hints on demand. Lesson text
// is student-facing data from files: it only ever becomes text nodes (see lesson-format.js).

import { h } from "./dom.js";
import { LessonError, loadLesson, renderInline, renderMarkdown, validateIndex } from "./lesson-format.js";
import { LessonPlayer } from "./lesson-player.js";

export const PROGRESS_KEY = "nosql-playground:lessons:v1";
const PROGRESS_VERSION = 1;

/** Whether any of a lesson's steps runs or checks something in Mongo. */
function usesMongo(lesson) {
  return (lesson?.steps ?? []).some((step) =>
    [...(step.commands ?? []), ...(step.checks ?? [])].some((c) => c.engine === "mongo"),
  );
}

function readProgress(key) {
  try {
    const data = key === null ? null : JSON.parse(localStorage.getItem(key) ?? "null");
    if (data?.version === PROGRESS_VERSION && data.lessons && typeof data.lessons === "object") return data;
  } catch {
    // A damaged entry starts the course afresh rather than breaking the page.
  }
  return { version: PROGRESS_VERSION, lessons: {}, open: null };
}

function writeProgress(key, progress) {
  if (key === null) return;
  try {
    localStorage.setItem(key, JSON.stringify(progress));
  } catch {
    // Storage may be full or disabled; progress then lasts for this visit only.
  }
}

class LessonPicker extends HTMLElement {
  /**
   * @param {{playground: any, redis: any, mongo: any, events?: EventTarget, base?: string,
   *   restored?: Promise<unknown>, lesson?: string, progressKey?: string | null}} sandbox
   *   `restored` settles once the page has restored the saved sandbox, which the lesson open
   *   at the last visit then continues in. `lesson` (a file, resolved against `base`) shows
   *   that one lesson, open, with no course list: an embed's. `progressKey` is where progress
   *   is kept (`null`: nowhere).
   */
  attach(sandbox) {
    this.player = new LessonPlayer(sandbox);
    this.restored = sandbox.restored ?? Promise.resolve();
    this.base = new URL(sandbox.base ?? "lessons/", document.baseURI);
    this.only = sandbox.lesson ?? null;
    this.progressKey = sandbox.progressKey === undefined ? PROGRESS_KEY : sandbox.progressKey;
    this.progress = readProgress(this.progressKey);
    /** Loaded lessons in course order: {file, lesson} or {file, error}. */
    this.entries = [];
    this.hintsShown = new Map();
    this.player.addEventListener("change", () => this.renderState());
    this.player.addEventListener("progress", () => this.saveProgress());
    this.classList.add("panel", "lessons");
    this.body = h("div", { class: "lesson-body", id: "lesson-body" });
    this.toggle = h("button", {
      type: "button",
      class: "btn",
      "aria-controls": "lesson-body",
      dataset: { role: "lessons-toggle" },
      onclick: () => {
        this.setExpanded(this.body.hidden);
        this.saveProgress();
      },
    });
    /** What the course is at, in the panel's head, so a folded panel still says it. */
    this.status = h("span", { class: "lesson-status muted" });
    this.replaceChildren(
      h("div", { class: "panel-head lesson-head" }, h("h2", { id: "lessons-title" }, "Lessons"), this.status, this.toggle),
      this.body,
    );
    this.setAttribute("role", "region");
    this.setAttribute("aria-labelledby", "lessons-title");
    // Folded until asked for, so the consoles keep the screen on a first visit.
    this.setExpanded(this.only !== null || this.progress.expanded === true);
    this.toggle.hidden = this.only !== null;
    this.ready = this.loadCourse();
    return this.ready;
  }

  setExpanded(expanded) {
    this.body.hidden = !expanded;
    this.dataset.expanded = String(expanded);
    this.toggle.setAttribute("aria-expanded", String(expanded));
    this.toggle.textContent = expanded ? "Hide lessons" : "Show lessons";
  }

  async loadCourse() {
    this.body.replaceChildren(h("p", { class: "muted" }, "Loading the course…"));
    if (this.only !== null) return this.loadOne(this.only);
    // The page is ready once the sandbox is restored, and the course (an index, then every
    // lesson file: a title and a step count each) is not needed before: fetched meanwhile, it
    // would share the page's connections and main thread with the engine's start.
    await this.restored;
    try {
      const response = await fetch(new URL("index.json", this.base));
      if (!response.ok) throw new LessonError(`lesson index: could not be fetched (HTTP ${response.status})`);
      const index = validateIndex(
        await response.json().catch((error) => {
          throw new LessonError(`lesson index: not valid JSON (${error.message})`);
        }),
      );
      this.entries = await Promise.all(
        index.lessons.map((file) =>
          loadLesson(new URL(file, this.base)).then(
            (lesson) => ({ file, lesson }),
            (error) => ({ file, error }),
          ),
        ),
      );
    } catch (error) {
      this.body.replaceChildren(h("p", { class: "lesson-error", role: "alert" }, String(error.message ?? error)));
      return;
    }
    // Progress is kept by id, so two files may not share one.
    const seen = new Set();
    for (const entry of this.entries) {
      if (!entry.lesson) continue;
      if (seen.has(entry.lesson.id)) {
        entry.error = new LessonError(`lesson '${entry.lesson.id}' (${entry.file}): another lesson of the course has this id`);
        entry.lesson = null;
      } else seen.add(entry.lesson.id);
    }
    const open = this.entries.find((e) => e.lesson && e.lesson.id === this.progress.open);
    if (open) {
      await this.restored;
      await this.openLesson(open.lesson, { resume: true });
    } else this.renderList();
  }

  /** The one lesson of an embed, opened at once. */
  async loadOne(file) {
    let lesson;
    try {
      lesson = await loadLesson(new URL(file, this.base));
    } catch (error) {
      this.body.replaceChildren(h("p", { class: "lesson-error", role: "alert" }, String(error.message ?? error)));
      return;
    }
    this.entries = [{ file, lesson }];
    await this.restored;
    // A restored sandbox (an embed that keeps its work) continues; an empty one is set up.
    await this.openLesson(lesson, { resume: true });
  }

  doneOf(id) {
    return this.progress.lessons[id]?.done ?? [];
  }

  saveProgress() {
    const lesson = this.player.lesson;
    if (lesson) this.progress.lessons[lesson.id] = { done: this.player.doneSteps() };
    this.progress.open = lesson?.id ?? null;
    this.progress.expanded = !this.body.hidden;
    writeProgress(this.progressKey, this.progress);
  }

  renderList() {
    const items = this.entries.map((entry, n) => {
      if (entry.error) {
        return h(
          "li",
          { class: "lesson-item broken", dataset: { file: entry.file } },
          h("p", { class: "lesson-error", role: "alert" }, String(entry.error.message ?? entry.error)),
        );
      }
      const { lesson } = entry;
      const total = lesson.steps.length;
      // A lesson file may have lost steps since the progress was stored.
      const done = this.doneOf(lesson.id).filter((i) => i < total).length;
      const status = done === total ? "done" : done > 0 ? "started" : "new";
      return h(
        "li",
        { class: `lesson-item ${status}`, dataset: { lesson: lesson.id } },
        h(
          "button",
          { type: "button", class: "lesson-open", onclick: () => this.openLesson(lesson) },
          h("span", { class: "lesson-number" }, `${n + 1}.`),
          " ",
          h("span", { class: "lesson-title" }, lesson.title),
        ),
        h("span", { class: "lesson-progress", "aria-label": `${done} of ${total} steps done` }, `${done}/${total}`),
        h("p", { class: "lesson-summary" }, renderInline(lesson.summary)),
      );
    });
    this.dataset.view = "list";
    const started = this.entries.filter((e) => e.lesson && this.doneOf(e.lesson.id).length > 0).length;
    this.status.textContent = `${this.entries.length} lessons${started ? `, ${started} started` : ""}`;
    this.body.replaceChildren(h("ol", { class: "lesson-list" }, items));
  }

  /** `resume`: reopened after a reload, where a restored sandbox is the lesson's own. */
  async openLesson(lesson, { resume = false } = {}) {
    this.setExpanded(true);
    this.hintsShown = new Map();
    this.notice = null;
    try {
      this.player.open(lesson, this.doneOf(lesson.id));
    } catch (error) {
      this.player.close();
      this.renderList();
      this.body.prepend(h("p", { class: "lesson-error", role: "alert" }, String(error.message ?? error)));
      return;
    }
    this.saveProgress();
    this.renderLesson();
    if (resume && !this.player.sandboxIsEmpty()) return;
    this.prepare();
  }

  /** Sets the sandbox up for the lesson: at once when empty, else after asking. */
  prepare() {
    if (this.player.sandboxIsEmpty()) {
      this.setUp(true);
      return;
    }
    this.notice = h(
      "div",
      { class: "lesson-confirm", role: "alert" },
      h("p", {}, "This lesson starts from a clean sandbox, but the sandbox already holds keys or collections (your own, or an earlier lesson's). Clearing it deletes every Redis key and every MongoDB database."),
      h("button", { type: "button", class: "btn", dataset: { role: "clear-and-setup" }, onclick: () => this.setUp(true) }, "Clear the sandbox and set up the lesson"),
      " ",
      h("button", { type: "button", class: "btn", dataset: { role: "keep-and-setup" }, onclick: () => this.setUp(false) }, "Keep my data, set up on top"),
    );
    this.renderLesson();
  }

  setUp(clean) {
    // A setup that runs Lua or Mongo waits for the full engine module (engine.js); a lesson
    // that uses Mongo later starts loading it now.
    const lesson = this.player.lesson;
    const playground = this.player.playground;
    const waiting = playground.prepare?.(lesson?.setup?.redis, lesson?.setup?.mongo);
    if (waiting) return waiting.then(() => this.setUp(clean), (error) => this.setUpFailed(error));
    if (playground.mongoNeedsFull && usesMongo(lesson)) playground.switchToFull().catch(() => {});
    this.notice = null;
    try {
      if (clean) this.player.clean();
      this.player.setup();
    } catch (error) {
      this.setUpFailed(error);
      return undefined;
    }
    this.renderLesson();
    return undefined;
  }

  setUpFailed(error) {
    this.notice = h("p", { class: "lesson-error", role: "alert" }, String(error.message ?? error));
    this.renderLesson();
  }

  resetLesson() {
    const lesson = this.player.lesson;
    if (!lesson) return;
    delete this.progress.lessons[lesson.id];
    writeProgress(this.progressKey, this.progress);
    this.openLesson(lesson);
  }

  backToList() {
    this.player.close();
    this.saveProgress();
    this.renderList();
  }

  renderLesson() {
    const lesson = this.player.lesson;
    if (!lesson) return;
    const steps = lesson.steps.map((step, i) => this.renderStep(step, i));
    this.dataset.view = "lesson";
    this.body.replaceChildren(
      h(
        "div",
        { class: "lesson-bar" },
        this.only === null
          ? h("button", { type: "button", class: "btn", dataset: { role: "lesson-list" }, onclick: () => this.backToList() }, "← All lessons")
          : null,
        h("button", { type: "button", class: "btn", dataset: { role: "lesson-reset" }, onclick: () => this.resetLesson() }, "Reset lesson"),
      ),
      h("h3", { class: "lesson-name", dataset: { lesson: lesson.id } }, lesson.title),
      h("p", { class: "lesson-summary" }, renderInline(lesson.summary)),
      // replaceChildren, unlike h(), would write a missing notice as the text "null".
      ...(this.notice ? [this.notice] : []),
      h("ol", { class: "lesson-steps" }, steps),
    );
    this.renderState();
  }

  renderStep(step, i) {
    const commands = (step.commands ?? []).map((command, j) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "lesson-command",
            dataset: {
              role: "run-command",
              engine: command.engine,
              command: String(j),
              ...(this.player.steps[i]?.outcomes.has(j) ? { ran: this.player.steps[i].outcomes.get(j) } : {}),
            },
            title: `Type this into the ${command.engine === "redis" ? "Redis" : "MongoDB"} console and run it`,
            onclick: (e) => this.run(i, j, e.currentTarget),
          },
          h("span", { class: "lesson-engine" }, command.engine === "redis" ? (command.client ? `redis · client ${command.client}` : "redis") : "mongo"),
          h("code", {}, command.text),
        ),
      ),
    );
    const checks = (step.checks ?? []).map((check, j) =>
      h(
        "li",
        { class: "lesson-check", dataset: { check: String(j) } },
        check.label ? renderInline(check.label) : h("code", {}, check.run),
        h("span", { class: "visually-hidden check-status" }),
      ),
    );
    const hints = step.hints ?? [];
    const shown = this.hintsShown.get(i) ?? 0;
    const hintButton =
      shown < hints.length
        ? h(
            "button",
            {
              type: "button",
              class: "btn lesson-hint-button",
              dataset: { role: "hint" },
              // The next hint goes in place, so the step (and the student's place) stays put.
              onclick: (e) => {
                const button = e.currentTarget;
                const next = this.hintsShown.get(i) ?? 0;
                this.hintsShown.set(i, next + 1);
                button.before(h("p", { class: "lesson-hint" }, renderInline(hints[next])));
                if (next + 1 >= hints.length) button.remove();
                else button.textContent = "Another hint";
              },
            },
            shown === 0 ? "Show a hint" : "Another hint",
          )
        : null;
    return h(
      "li",
      { class: "lesson-step", dataset: { step: String(i) } },
      h(
        "h4",
        {},
        h("span", { class: "step-mark", "aria-hidden": "true" }),
        step.title,
        h("span", { class: "visually-hidden step-status" }),
      ),
      h("div", { class: "lesson-text" }, renderMarkdown(step.text)),
      commands.length ? h("ul", { class: "lesson-commands" }, commands) : null,
      checks.length ? h("ul", { class: "lesson-checks", "aria-label": "Checks" }, checks) : null,
      hints.slice(0, shown).map((hint) => h("p", { class: "lesson-hint" }, renderInline(hint))),
      hintButton,
    );
  }

  async run(i, j, button) {
    if (this.player.busy) return;
    button.disabled = true;
    delete button.dataset.ran;
    try {
      const { error } = await this.player.runCommand(i, j);
      // Marks the command as run, and whether its reply was an error (tests read it too).
      button.dataset.ran = error ? "error" : "ok";
    } finally {
      button.disabled = false;
    }
  }

  /** Marks steps and checks without rebuilding them (a hint being read stays put). */
  renderState() {
    const current = this.player.currentStep();
    const lesson = this.player.lesson;
    if (lesson) {
      const total = lesson.steps.length;
      this.status.textContent =
        current >= total ? `${lesson.title}: done` : `${lesson.title}: step ${current + 1} of ${total}`;
    }
    this.player.steps.forEach((state, i) => {
      const el = this.body.querySelector(`.lesson-step[data-step="${i}"]`);
      if (!el) return;
      const status = state.done ? "done" : i === current ? "current" : "pending";
      if (el.dataset.state !== status) {
        if (status === "current" && el.dataset.state !== undefined) {
          const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
          this.body.scrollTo({ top: el.offsetTop - 8, behavior: still ? "auto" : "smooth" });
        }
        el.dataset.state = status;
        el.querySelector(".step-mark").textContent = state.done ? "✓ " : i === current ? "▶ " : "";
        el.querySelector(".step-status").textContent = state.done ? " (done)" : i === current ? " (current step)" : "";
      }
      state.checks.forEach((passed, j) => {
        const check = el.querySelector(`.lesson-check[data-check="${j}"]`);
        const value = state.done || passed ? "true" : "false";
        if (check && check.dataset.passed !== value) {
          check.dataset.passed = value;
          check.querySelector(".check-status").textContent = value === "true" ? " (done)" : " (not yet)";
        }
      });
    });
  }
}

customElements.define("lesson-picker", LessonPicker);
