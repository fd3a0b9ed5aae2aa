// Plays one lesson against one sandbox: runs its setup silently, types a step's commands
// into the consoles and runs them, and evaluates the steps' checks with the engines'
// read-only check calls (which leave no trace in INFO, MONITOR, LRU data or the consoles).
// It knows nothing of the page around it: it is given the playground and the two consoles
// it drives, so an embed can run a lesson in a sandbox of its own.

import { LessonError, checkPasses, sameCommand } from "./lesson-format.js";

/** mongosh's printed errors: `Name: message`, multi-line ones after `Uncaught:`. */
const MONGO_ERROR = /^(Uncaught:\n)?[A-Z][A-Za-z]*(Error|Exception)\b[^\n]*:/;

/**
 * Runs setup lines silently: redis-cli lines as client 1, then mongosh statements. Throws a
 * LessonError at the first line answering an error, named after `where`
 * (`lesson 'x', setup redis line 2: (error) …`). Lessons and embeds set up through it.
 */
export function runSetup(playground, { redis = [], mongo = [] }, where) {
  redis.forEach((line, i) => {
    const output = playground.redisAs(1, line, Date.now());
    if (/^\(error\)/.test(output)) throw new LessonError(`${where} redis line ${i + 1}: ${output.trim()}`);
  });
  // The setup runs silently: what its scripts logged must not turn up under the student's
  // first command.
  playground.redisScriptLog?.();
  mongo.forEach((statement, i) => {
    const output = playground.mongo(statement, Date.now());
    if (MONGO_ERROR.test(output)) throw new LessonError(`${where} mongo statement ${i + 1}: ${output.trim()}`);
  });
}

/** How often checks are evaluated while the clock runs (a TTL running out on its own). */
const POLL_MS = 1_000;

export class LessonPlayer extends EventTarget {
  /**
   * @param {{playground: any, redis: import("./redis-console.js").RedisConsole,
   *          mongo: import("./mongo-console.js").MongoConsole, events?: EventTarget}} sandbox
   *   `events` is where the consoles and the clock announce `playground:change` (the
   *   document, on the page); checks are evaluated again after each.
   */
  constructor({ playground, redis, mongo, events = null }) {
    super();
    this.playground = playground;
    this.redis = redis;
    this.mongo = mongo;
    this.lesson = null;
    /** Whether the setup ran: until then checks would judge someone else's sandbox. */
    this.ready = false;
    /** Per step: done, and which of its commands have run. */
    this.steps = [];
    this.busy = false;
    /** How long typing a command into a console takes to watch, in milliseconds. */
    this.typingMs = 250;
    this.onChange = (e) => this.noticeInput(e.detail);
    events?.addEventListener("playground:change", this.onChange);
    this.events = events;
    this.timer = setInterval(() => {
      if (this.lesson && !this.busy) this.evaluate();
    }, POLL_MS);
  }

  destroy() {
    clearInterval(this.timer);
    this.events?.removeEventListener("playground:change", this.onChange);
  }

  /**
   * Opens a validated lesson. `done` lists the steps already done in an earlier visit
   * (0-based). Checks refused by the engines (a check that writes) fail the load.
   */
  open(lesson, done = []) {
    this.lesson = lesson;
    this.steps = lesson.steps.map((step, i) => ({
      done: done.includes(i),
      ran: new Set(),
      /** How each command clicked here went: "ok" or "error". */
      outcomes: new Map(),
      checks: (step.checks ?? []).map(() => null),
    }));
    lesson.steps.forEach((step, i) =>
      (step.checks ?? []).forEach((check, j) => {
        const result = this.runCheck(check);
        if (result.refused !== undefined) {
          throw new LessonError(`lesson '${lesson.id}', step ${i + 1}, check ${j + 1}: ${result.refused}`);
        }
      }),
    );
    this.ready = false;
  }

  close() {
    this.lesson = null;
    this.steps = [];
    this.ready = false;
  }

  /** Whether the sandbox holds nothing a student could lose (no keys, no Mongo data). */
  sandboxIsEmpty() {
    const info = JSON.parse(this.playground.redisInfo(Date.now()));
    const catalog = JSON.parse(this.playground.mongoCatalog());
    return info.keys === 0 && catalog.databases.every((db) => db.collections.length === 0);
  }

  /**
   * Empties the sandbox: every Redis database and client but the first, the settings a
   * lesson may change, and every Mongo database. The caller asks the student first when
   * `sandboxIsEmpty()` is false.
   */
  clean() {
    const now = () => Date.now();
    const clients = this.redis.clients;
    const ids = clients ? JSON.parse(this.playground.redisClients(now())).map((s) => s.id) : [];
    for (const id of ids) {
      if (id !== 1) clients.close(id);
    }
    clients?.select?.(1);
    for (const line of [
      "RESET",
      "FLUSHALL",
      "CONFIG SET maxmemory 128mb",
      "CONFIG SET maxmemory-policy noeviction",
      "CONFIG RESETSTAT",
    ]) {
      this.playground.redisAs(1, line, now());
    }
    // Without its Mongo engine (the page's first module) the sandbox has no Mongo data.
    if (!this.playground.mongoNeedsFull) {
      const catalog = JSON.parse(this.playground.mongoCatalog());
      for (const db of catalog.databases) {
        this.playground.mongo(`use ${db.name}`, now());
        this.playground.mongo("db.dropDatabase()", now());
      }
      this.playground.mongo("use test", now());
    }
    this.mongo.trackDatabase?.();
    clients?.refresh?.();
    this.redis.updatePrompt?.();
    this.announce({ clean: true });
  }

  /** Runs the lesson's setup silently; throws a LessonError naming a line that failed. */
  setup() {
    const lesson = this.lesson;
    const setup = lesson?.setup ?? {};
    runSetup(this.playground, setup, `lesson '${lesson?.id}', setup`);
    this.mongo.trackDatabase?.();
    this.redis.clients?.refresh?.();
    this.ready = true;
    this.announce({ setup: { redis: setup.redis ?? [], mongo: setup.mongo ?? [] } });
    this.evaluate();
  }

  /**
   * Types command `j` of step `i` into its console and runs it. Resolves to the reply and
   * whether it was an error.
   */
  async runCommand(i, j) {
    const command = this.lesson?.steps[i]?.commands?.[j];
    if (!command) throw new RangeError(`no command ${j + 1} in step ${i + 1}`);
    this.busy = true;
    try {
      let result;
      if (command.engine === "redis") {
        this.redis.clients?.use(command.client ?? 1);
        result = await this.redis.typeAndRun(command.text, { durationMs: this.typingMs });
      } else {
        result = await this.mongo.typeAndRun(command.text, { durationMs: this.typingMs });
      }
      this.steps[i]?.ran.add(j);
      // The consoles flag one-line errors; mongosh's multi-line ones start with `Uncaught:`.
      const error = result.error || /^(Uncaught:\n)?[A-Z][A-Za-z]*(Error|Exception)\b/.test(result.output);
      this.steps[i]?.outcomes.set(j, error ? "error" : "ok");
      return { output: result.output, error };
    } finally {
      this.busy = false;
      this.evaluate();
    }
  }

  /** A command the student typed themselves counts as run when it is the step's. */
  noticeInput(detail) {
    if (!this.lesson || typeof detail?.input !== "string") {
      if (this.lesson && !this.busy) this.evaluate();
      return;
    }
    const current = this.currentStep();
    const step = this.lesson.steps[current];
    (step?.commands ?? []).forEach((command, j) => {
      if (command.engine === detail.engine && sameCommand(command.text, detail.input)) {
        this.steps[current].ran.add(j);
      }
    });
    if (!this.busy) this.evaluate();
  }

  /** The first step not done (the steps length when all are). */
  currentStep() {
    const at = this.steps.findIndex((s) => !s.done);
    return at < 0 ? this.steps.length : at;
  }

  runCheck(check) {
    const call = check.engine === "redis" ? "redisCheck" : "mongoCheck";
    return JSON.parse(this.playground[call](check.run, Date.now()));
  }

  /**
   * Marks steps done in order: the current step is done when all its checks pass, or, with
   * no checks, when its commands have run (a step of prose alone is done when reached).
   * Done steps stay done.
   */
  evaluate() {
    if (!this.lesson || !this.ready) return;
    let changed = false;
    for (let i = this.currentStep(); i < this.steps.length; i++) {
      const step = this.lesson.steps[i];
      const state = this.steps[i];
      const checks = step.checks ?? [];
      let done;
      if (checks.length > 0) {
        state.checks = checks.map((check) => {
          const result = this.runCheck(check);
          return result.ok !== undefined && checkPasses(check, result.ok);
        });
        done = state.checks.every(Boolean);
      } else {
        done = (step.commands ?? []).every((_, j) => state.ran.has(j));
      }
      if (!done) break;
      state.done = true;
      changed = true;
    }
    if (changed) this.dispatchEvent(new CustomEvent("progress"));
    this.dispatchEvent(new CustomEvent("change"));
  }

  /** The step indexes done, for storing progress. */
  doneSteps() {
    return this.steps.flatMap((s, i) => (s.done ? [i] : []));
  }

  /**
   * Tells both consoles' listeners the sandbox changed. `what` (`clean`, or the `setup` lines
   * run, which the session records) goes with the first event only: on the page both
   * consoles' events reach the same listeners.
   */
  announce(what = {}) {
    [this.redis.root, this.mongo.root].filter(Boolean).forEach((root, i) => {
      const detail = { engine: "lesson", ...(i === 0 ? what : {}) };
      root.dispatchEvent(new CustomEvent("playground:change", { bubbles: true, detail }));
    });
  }
}
