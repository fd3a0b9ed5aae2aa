// One loop per animation frame for everything that follows sandbox time. The engine only
// learns time from what the page passes in, so without this TTLs would run out only when
// the student typed something. Panels register here to redraw from one snapshot per frame.

// Expiry needs no more than a few checks a second; panels still get every frame.
const TICK_INTERVAL_MS = 250;

export class FrameLoop {
  /**
   * @param {import("../pkg/nosql_playground.js").Playground} playground
   * @param {{events?: EventTarget}} [options] where expiries are announced as
   *   `playground:change`: the document on the page, an embed's own root in an embed
   */
  constructor(playground, { events = document } = {}) {
    this.playground = playground;
    this.events = events;
    this.listeners = new Set();
    this.lastTick = -Infinity;
    this.running = false;
  }

  /** @param {(now: {hostMs: number, expired: number}) => void} listener */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start() {
    if (this.running) return;
    this.running = true;
    const frame = () => {
      if (!this.running) return;
      this.step(Date.now());
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    // Frames stop in a background tab; keys still have to expire on time there.
    this.interval = setInterval(() => this.tickIfDue(Date.now()), TICK_INTERVAL_MS);
  }

  stop() {
    this.running = false;
    clearInterval(this.interval);
  }

  step(hostMs) {
    const expired = this.tickIfDue(hostMs);
    for (const listener of this.listeners) listener({ hostMs, expired });
  }

  /**
   * Lets due keys expire; returns how many did. `force` skips the rate limit, for when the
   * clock has just jumped and the panels should not show a stale keyspace for a moment.
   */
  tickIfDue(hostMs, { force = false } = {}) {
    if (!force && hostMs - this.lastTick < TICK_INTERVAL_MS) return 0;
    this.lastTick = hostMs;
    const expired = this.playground.tick(hostMs);
    if (expired > 0) {
      this.events.dispatchEvent(
        new CustomEvent("playground:change", { detail: { engine: "redis", expired } }),
      );
    }
    return expired;
  }
}
