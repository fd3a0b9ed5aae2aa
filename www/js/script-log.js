// The lines scripts write with `redis.log`, shown under the reply that ran them. A real server
// writes them to its log file, not to the client; this is the sandbox's window on that file.
// Messages are the student's own text: they enter the DOM as textContent only.

// The marker serverLog puts before each line, by level (LL_DEBUG, LL_VERBOSE, LL_NOTICE,
// LL_WARNING): `redis.log(redis.LOG_WARNING, "x")` is `# x` in the file.
const LEVELS = [
  { marker: ".", name: "debug" },
  { marker: "-", name: "verbose" },
  { marker: "*", name: "notice" },
  { marker: "#", name: "warning" },
];
// The real server's default `loglevel`: lines below it never reach its file.
const DEFAULT_LOGLEVEL = 2;

/** `[level, message]` pairs as `redisScriptLog()` gives them, as the log file's lines. */
export function scriptLogLines(json) {
  let pairs;
  try {
    pairs = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(pairs)) return [];
  return pairs
    .filter((p) => Array.isArray(p) && LEVELS[p[0]] && typeof p[1] === "string")
    .map(([level, message]) => ({
      text: `${LEVELS[level].marker} ${message}`,
      level: LEVELS[level].name,
      hidden: level < DEFAULT_LOGLEVEL,
    }));
}

/** The lines logged since last asked, as a block for under the reply, or null if none. */
export function scriptLogView(playground) {
  if (typeof playground.redisScriptLog !== "function") return null;
  const lines = scriptLogLines(playground.redisScriptLog());
  if (lines.length === 0) return null;
  const block = document.createElement("pre");
  block.className = "script-log";
  block.setAttribute("aria-label", "Server log");
  block.title = "What the script wrote with redis.log: a real server writes it to its log file";
  lines.forEach((line, i) => {
    const span = document.createElement("span");
    span.className = `log-line log-${line.level}`;
    span.textContent = line.text;
    if (line.hidden) {
      span.title = `A real server leaves ${line.level} lines out of its log at the default loglevel (notice)`;
    }
    block.append(span);
    if (i < lines.length - 1) block.append("\n");
  });
  return block;
}

/** The nodes that are there, as one node for an entry's view (or null). */
export function views(...nodes) {
  const present = nodes.filter(Boolean);
  if (present.length <= 1) return present[0] ?? null;
  const fragment = document.createDocumentFragment();
  fragment.append(...present);
  return fragment;
}
