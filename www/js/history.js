// Command history for one console, shell style: ArrowUp walks back, ArrowDown walks forward,
// and the line being typed before the walk started comes back at the end.

const MAX_ENTRIES = 500;
/** Longest entry kept in localStorage (a few MB per origin): one 10 MB paste stored there
 * would make every later save fail, and the history would stop surviving a reload. Longer
 * entries stay in this page's history all the same. */
const MAX_STORED_CHARS = 100_000;

export class History {
  /**
   * @param {string | null} storageKey localStorage key; history survives a reload like a
   *   shell's. `null` keeps it in memory only (an embed, whose sandbox is not saved either).
   */
  constructor(storageKey) {
    this.storageKey = storageKey;
    this.entries = load(storageKey);
    this.reset();
  }

  /** Forget the current walk (after a run, or when the user edits the line). */
  reset() {
    this.cursor = this.entries.length;
    this.draft = null;
  }

  add(entry) {
    const text = entry.trim();
    if (text === "") return;
    // Like bash's ignoredups: repeating a command does not push older ones out of reach.
    if (this.entries[this.entries.length - 1] !== text) {
      this.entries.push(text);
      if (this.entries.length > MAX_ENTRIES) {
        this.entries.splice(0, this.entries.length - MAX_ENTRIES);
      }
      this.saveSoon();
    }
    this.reset();
  }

  /** Writes the entries once for every run of adds in one task: a pasted block adds one per
   * command, and serialising the history for each of them was most of a long paste's time. */
  saveSoon() {
    if (this.savePending) return;
    this.savePending = true;
    queueMicrotask(() => {
      this.savePending = false;
      save(this.storageKey, this.entries);
    });
  }

  /** The older entry, or null when there is none. `current` is kept as the draft. */
  previous(current) {
    if (this.cursor === 0) return null;
    if (this.cursor === this.entries.length) this.draft = current;
    this.cursor -= 1;
    return this.entries[this.cursor];
  }

  /** The newer entry, the draft past the newest, or null when not walking. */
  next() {
    if (this.cursor >= this.entries.length) return null;
    this.cursor += 1;
    if (this.cursor === this.entries.length) {
      const draft = this.draft ?? "";
      this.draft = null;
      return draft;
    }
    return this.entries[this.cursor];
  }
}

function load(key) {
  if (key === null) return [];
  try {
    const parsed = JSON.parse(localStorage.getItem(key) ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((e) => typeof e === "string") : [];
  } catch {
    // Storage may be disabled (private mode, file://) or hold junk: start empty, never fail.
    return [];
  }
}

function save(key, entries) {
  if (key === null) return;
  try {
    localStorage.setItem(key, JSON.stringify(entries.filter((e) => e.length <= MAX_STORED_CHARS)));
  } catch {
    // A full or disabled storage only costs persistence; the in-memory history still works.
  }
}
