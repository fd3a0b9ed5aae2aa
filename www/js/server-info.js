// <server-info>: the Redis server's counters at a glance: keys, expirations, modelled used
// memory against maxmemory (with the eviction policy), keyspace hits/misses and evictions.

import { atMostOncePerFrame, formatBytes, h } from "./dom.js";

export class ServerInfo extends HTMLElement {
  connectedCallback() {
    if (this.built) return;
    this.built = true;
    this.setAttribute("role", "region");
    this.setAttribute("aria-label", "Redis server info");
    this.classList.add("info-strip");
    this.values = {};
    const stat = (name, label, extra = null) => {
      this.values[name] = h("dd", { "data-stat": name }, "—");
      return h("div", { class: `stat stat-${name}` }, h("dt", {}, label), this.values[name], extra);
    };
    this.memoryFill = h("span", { class: "mem-fill" });
    this.memoryBar = h("span", { class: "mem-bar", "aria-hidden": "true", title: "no maxmemory set" }, this.memoryFill);
    this.perDb = h("span", { class: "per-db muted" });
    this.append(
      h(
        "dl",
        {},
        stat("keys", "Keys", this.perDb),
        stat("volatile", "With TTL"),
        stat("expired", "Expired"),
        stat("memory", "Memory ≈", this.memoryBar),
        stat("hits", "Hits/misses"),
        stat("evicted", "Evicted"),
      ),
    );
  }

  /**
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {EventTarget} [events] where this sandbox announces `playground:change`
   */
  attach(playground, events = document) {
    this.playground = playground;
    events.addEventListener("playground:change", atMostOncePerFrame(() => this.refresh()));
    this.refresh();
  }

  refresh() {
    const info = JSON.parse(this.playground.redisInfo(Date.now()));
    const set = (name, text) => {
      if (this.values[name].textContent !== text) this.values[name].textContent = text;
    };
    set("keys", String(info.keys));
    this.perDb.textContent = info.dbs.filter((d) => d.keys > 0).map((d) => `db${d.db}:${d.keys}`).join(" ");
    set("volatile", String(info.volatile));
    set("expired", String(info.expired));
    const max = info.maxmemory;
    set("memory", max ? `${formatBytes(info.usedMemory)} of ${formatBytes(max)}` : formatBytes(info.usedMemory));
    this.memoryBar.hidden = !max;
    if (max) {
      const share = info.usedMemory / max;
      this.memoryFill.style.transform = `scaleX(${Math.min(1, share)})`;
      this.memoryBar.title = `${Math.round(share * 100)}% of maxmemory · ${info.maxmemoryPolicy}`;
      this.memoryBar.classList.toggle("full", share >= 0.95);
    }
    set("hits", info.hits == null ? "—" : `${info.hits} / ${info.misses ?? 0}`);
    set("evicted", String(info.evicted));
  }
}

customElements.define("server-info", ServerInfo);
