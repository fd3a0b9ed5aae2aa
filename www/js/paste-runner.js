// Runs a pasted block one command (or statement) at a time without holding the page: the
// commands run in slices of a few milliseconds, and the page gets the event loop back between
// slices, so it keeps drawing frames, answers clicks and can stop the run, as Ctrl+C stops a
// real client reading a script. What already ran is kept, like a real server's state.

// Work done before the page gets the event loop back: well under a frame, so scrolling and
// clicks stay smooth, and long enough that yielding costs little of the run's time.
const SLICE_MS = 12;

/** Hands the event loop back to the page: input, rendering, timers and the test driver run
 * before this resolves. A posted message is an ordinary task, queued behind what is waiting;
 * `scheduler.yield()` would put the run ahead of those, and `setTimeout(0)` waits 4 ms once
 * nested. */
export function yieldToPage() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

const count = (n) => n.toLocaleString("en-US");

/**
 * One sliced run of `items` through `runOne(item)` (which may return a promise: it is
 * awaited, as when a line waits for the engine's full module). `onStop` receives how many ran.
 * The progress line with its Stop button sits under the console's log while the run lasts.
 */
export class PasteRun {
  /**
   * @param {{items: string[], runOne: (item: string) => unknown, anchor: HTMLElement,
   *          noun: string, logs: () => import("./scrollback.js").Scrollback[],
   *          onStop?: (ran: number, total: number) => void}} options
   *   the progress line goes right after `anchor` (under the console's log); `items` may
   *   grow while the run lasts (input typed meanwhile waits its turn); once the run takes
   *   more than one slice, `logs()` are held (drawn once a frame, see Scrollback.hold)
   */
  constructor({ items, runOne, anchor, noun, logs, onStop = () => {} }) {
    this.items = items;
    this.runOne = runOne;
    this.noun = noun;
    this.onStop = onStop;
    this.ran = 0;
    this.stopped = false;
    this.progress = null;
    this.anchor = anchor;
    this.logs = logs;
    this.held = [];
    this.done = this.start();
  }

  /** Stops before the next command; what ran stays. */
  stop() {
    this.stopped = true;
  }

  async start() {
    try {
      while (this.ran < this.items.length && !this.stopped) {
        const sliceEnd = performance.now() + SLICE_MS;
        do {
          const result = this.runOne(this.items[this.ran]);
          this.ran++;
          if (result && typeof result.then === "function") await result;
        } while (this.ran < this.items.length && !this.stopped && performance.now() < sliceEnd);
        if (this.ran < this.items.length && !this.stopped) {
          if (!this.progress) {
            this.held = this.logs();
            for (const log of this.held) log.hold();
          }
          this.showProgress();
          await yieldToPage();
        }
      }
    } finally {
      for (const log of this.held) log.release();
      this.progress?.remove();
      this.progress = null;
      if (this.stopped && this.ran < this.items.length) this.onStop(this.ran, this.items.length);
    }
  }

  showProgress() {
    if (!this.progress) {
      [this.progress, this.progressText] = progressLine(this.anchor, () => this.stop(), "Stop after the command running now (Ctrl+C); what ran is kept");
    }
    this.progressText.textContent = `running ${count(this.ran)} / ${count(this.items.length)} pasted ${this.noun} …`;
  }
}

/**
 * The line under a console's log while a run lasts: a status text and a Stop button calling
 * `stop`. Returns the line and its text element.
 */
export function progressLine(anchor, stop, title) {
  const line = document.createElement("div");
  line.className = "paste-progress";
  const text = document.createElement("span");
  text.setAttribute("role", "status");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "show-more paste-stop";
  button.textContent = "Stop";
  button.title = title;
  button.addEventListener("click", stop);
  // The button first: the count after it changes width as it runs, and would move a button
  // placed after it from under the pointer.
  line.append(button, " ", text);
  anchor.after(line);
  return [line, text];
}

/**
 * Runs `items` sliced for the console `host`: `host.pasteRun` is the run while it lasts, and
 * items given while one runs join its end. Returns the promise of the run's end.
 * @param {{pasteRun?: PasteRun | null}} host
 * @param {string[]} items
 * @param {Omit<ConstructorParameters<typeof PasteRun>[0], "items">} options
 */
export function runSliced(host, items, options) {
  if (host.pasteRun) {
    host.pasteRun.items.push(...items);
    return host.pasteRun.done;
  }
  const run = new PasteRun({ items, ...options });
  host.pasteRun = run;
  const clear = () => {
    if (host.pasteRun === run) host.pasteRun = null;
  };
  run.done.then(clear, clear);
  return run.done;
}

/** The note a console shows when a run was stopped. */
export function stoppedNote(ran, total, noun) {
  return `(sandbox) stopped: ${count(ran)} of ${count(total)} pasted ${noun} ran; the other ${count(total - ran)} did not.\n`;
}
