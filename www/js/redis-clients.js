// Several Redis clients in the one console: a tab per client ("+ client" connects another),
// each with its own log. Every frame, what each client received on its own (a published
// message, a blocked command's late reply, a MONITOR line) is appended to its log, and a
// blocked client shows a waiting line with its timeout counting down on the sandbox clock.
// Messages PUBLISHed here also reach the same sandbox open in other tabs (BroadcastChannel).

import { Scrollback } from "./scrollback.js";

const CHANNEL_NAME = "nosql-playground:redis-pubsub";

export class RedisClients {
  /**
   * @param {import("./redis-console.js").RedisConsole} console the Redis console
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {import("./frame-loop.js").FrameLoop} loop
   * @param {{channel?: string | null}} [options] the BroadcastChannel publishes travel on;
   *   `null` keeps them in this sandbox (an embed: its neighbours are other sandboxes)
   */
  constructor(console, playground, loop, { channel = CHANNEL_NAME } = {}) {
    this.console = console;
    this.playground = playground;
    this.tabs = console.root.querySelector("[data-role=client-tabs]");
    this.waiting = console.root.querySelector("[data-role=waiting]");
    this.template = console.root.querySelector("[data-role=log]");
    this.statuses = [];
    this.unread = new Map();
    console.clients = this;
    this.refresh();
    this.render();
    loop.subscribe(() => this.poll());
    this.broadcast = channel !== null && typeof BroadcastChannel === "function" ? new BroadcastChannel(channel) : null;
    this.broadcast?.addEventListener("message", (e) => {
      const [channel, message] = Array.isArray(e.data) ? e.data : [];
      if (typeof channel === "string" && typeof message === "string") {
        this.playground.redisInjectPublish(channel, message);
      }
    });
  }

  refresh() {
    this.statuses = JSON.parse(this.playground.redisClients(Date.now()));
  }

  dbOf(id) {
    return this.statuses.find((s) => s.id === id)?.db ?? 0;
  }

  /** Connects a client and shows its console. */
  open(id = null) {
    const clientId = id ?? this.playground.redisClientOpen();
    if (id !== null) this.playground.redisAs(id, "", Date.now());
    this.logFor(clientId);
    this.refresh();
    this.select(clientId);
    return clientId;
  }

  /** Shows client `id`'s console, connecting the client first if it is not connected. */
  use(id) {
    if (this.console.clientId === id) return;
    this.refresh();
    if (this.statuses.some((s) => s.id === id)) this.select(id);
    else this.open(id);
  }

  close(id) {
    this.playground.redisClientClose(id);
    const log = this.console.logs.get(id);
    if (id !== 1 && log) {
      log.element.remove();
      this.console.logs.delete(id);
    }
    this.refresh();
    if (this.console.clientId === id) this.select(this.statuses[0]?.id ?? 1);
    else this.render();
  }

  /** The log element of a client, made from the first one on first use. */
  logFor(id) {
    let log = this.console.logs.get(id);
    if (!log) {
      const element = this.template.cloneNode(false);
      element.setAttribute("aria-label", `Redis output, client ${id}`);
      element.hidden = true;
      this.template.parentElement.insertBefore(element, this.template.nextSibling);
      log = new Scrollback(element);
      this.console.logs.set(id, log);
    }
    return log;
  }

  select(id) {
    this.logFor(id);
    this.console.clientId = id;
    for (const [clientId, log] of this.console.logs) log.element.hidden = clientId !== id;
    this.console.scrollback = this.console.logs.get(id);
    this.unread.delete(id);
    this.console.updatePrompt();
    this.render();
    this.showWaiting();
  }

  /** The sandbox's `.client` lines, typed in the page: they switch tabs. */
  command(line) {
    const words = line.trim().split(/\s+/).slice(1);
    if (words.length === 0) {
      this.refresh();
      const list = this.statuses.map((s) => `client ${s.id}${s.id === this.console.clientId ? " (current)" : ""}`);
      return `(sandbox) ${list.join(", ")}\n`;
    }
    const id = (w) => (/^\d+$/.test(w) && Number(w) > 0 && Number(w) < 2 ** 32 ? Number(w) : null);
    if (words.length === 1 && id(words[0]) !== null) {
      this.open(id(words[0]));
      return `(sandbox) client ${id(words[0])}\n`;
    }
    if (words.length === 2 && words[0] === "close" && id(words[1]) !== null) {
      const known = this.statuses.some((s) => s.id === id(words[1]));
      this.close(id(words[1]));
      return known ? `(sandbox) client ${id(words[1])} closed\n` : `(sandbox) no client ${id(words[1])}\n`;
    }
    return "(sandbox) unknown .client argument: use .client, .client 2 or .client close 2\n";
  }

  /** Once per frame: deliver what clients received, pass on local publishes, redraw. */
  poll() {
    let changed = false;
    this.refresh();
    for (const status of this.statuses) {
      const text = this.playground.redisPending(status.id);
      if (text === "") continue;
      changed = true;
      this.logFor(status.id).append({ input: null, output: text, kind: "received" });
      if (status.id !== this.console.clientId) {
        this.unread.set(status.id, (this.unread.get(status.id) ?? 0) + 1);
      }
    }
    const published = JSON.parse(this.playground.redisPublished());
    for (const pair of published) this.broadcast?.postMessage(pair);
    if (changed) {
      this.console.root.dispatchEvent(
        new CustomEvent("playground:change", { bubbles: true, detail: { engine: "redis" } }),
      );
    }
    this.render();
    this.showWaiting();
  }

  showWaiting() {
    if (!this.waiting) return;
    const status = this.statuses.find((s) => s.id === this.console.clientId);
    if (!status?.blocked) {
      this.waiting.hidden = true;
      return;
    }
    // A script past busy-reply-threshold waits like a blocked command; only a kill from another
    // client (or its end on the clock) frees it.
    const script = /^(EVAL|EVALSHA|EVAL_RO|EVALSHA_RO|FCALL|FCALL_RO)\s/i.test(status.blocked);
    const forever = script
      ? "a busy script: SCRIPT KILL or FUNCTION KILL from another client stops it"
      : "until another client serves it";
    const left = status.remainingMs === null ? forever : `${(status.remainingMs / 1000).toFixed(1)} s left`;
    this.waiting.hidden = false;
    this.waiting.textContent = `Waiting: ${status.blocked} (${left})`;
  }

  /** The tab strip: one tab per client, marks for blocked and unread, then "+ client". */
  render() {
    if (!this.tabs) return;
    // Rebuilt only when a label changes: a countdown ticking must not replace the buttons
    // under the pointer.
    const labels = this.statuses.map((s) => [s.id, s.name, Boolean(s.blocked)]);
    const key = JSON.stringify([this.console.clientId, labels, [...this.unread]]);
    if (key === this.lastRender) return;
    this.lastRender = key;
    const buttons = this.statuses.map((status) => {
      const tab = document.createElement("button");
      tab.type = "button";
      tab.className = "client-tab";
      tab.setAttribute("role", "tab");
      tab.dataset.client = String(status.id);
      const selected = status.id === this.console.clientId;
      tab.setAttribute("aria-selected", String(selected));
      // One Tab stop for the strip's tabs (the selected one); arrow keys move between them.
      tab.tabIndex = selected ? 0 : -1;
      tab.addEventListener("keydown", (e) => {
        if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
        e.preventDefault();
        const ids = this.statuses.map((s) => s.id);
        const at = ids.indexOf(status.id) + (e.key === "ArrowRight" ? 1 : -1);
        const next = ids[(at + ids.length) % ids.length];
        this.select(next);
        this.tabs.querySelector(`[data-client="${next}"]`)?.focus();
      });
      let label = `client ${status.id}`;
      if (status.name) label += ` (${status.name})`;
      if (status.blocked) label += " ⏳";
      const unread = this.unread.get(status.id);
      if (unread) label += ` •${unread}`;
      tab.textContent = label;
      tab.addEventListener("click", () => {
        this.select(status.id);
        this.console.focus();
      });
      return tab;
    });
    const add = document.createElement("button");
    add.type = "button";
    add.className = "client-add";
    add.dataset.role = "client-add";
    add.textContent = "+ client";
    add.title = "Connect another client (a second redis-cli)";
    add.addEventListener("click", () => {
      this.open();
      this.console.focus();
    });
    this.tabs.replaceChildren(...buttons, add);
  }
}
