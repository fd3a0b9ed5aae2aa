// Builds DOM without ever parsing markup. Keys, values, documents and error messages are the
// student's own data (a key may be `<img src=x onerror=...>`), so strings only ever become
// text nodes here; there is deliberately no way to pass HTML.

/**
 * @param {string} tag
 * @param {Record<string, unknown>} [props] `class`, `text`, `on*` handlers, `dataset`,
 *   `style` objects, and attributes (null/false leave them out)
 * @param {...(Node|string|number|null|undefined|false)} children
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = String(value);
    else if (name === "text") el.textContent = String(value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "style") Object.assign(el.style, value);
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** `1.2 KB`, `3.4 MB`: sizes at a glance. */
export function formatBytes(n) {
  if (!Number.isFinite(n)) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `4.2 s`, `12 s`, `3 min 05 s`, `2 h 01 min`, `3 d 4 h`: a TTL as a student reads it. */
export function formatDuration(ms) {
  if (ms < 0) ms = 0;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const pad = (n) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** Runs `fn` at most once per animation frame, however often it is asked for. */
export function coalesce(fn) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fn();
    });
  };
}

/**
 * Runs `fn` at once, and once more at a later animation frame for all further calls until
 * then: one change shows without waiting for a frame, a burst of them (a pasted block run in
 * slices) costs one run per frame rather than one per command. A run that took long waits
 * four times as long before the next, so a panel whose refresh grows with the data (the
 * collections of a big paste) takes at most a fifth of the page's time.
 */
export function atMostOncePerFrame(fn) {
  let armed = false;
  let again = false;
  let notBefore = 0;
  const run = () => {
    const start = performance.now();
    fn();
    const end = performance.now();
    notBefore = end + 4 * (end - start);
  };
  const next = () => {
    if (!again) {
      armed = false;
      return;
    }
    if (performance.now() >= notBefore) {
      again = false;
      run();
    }
    requestAnimationFrame(next);
  };
  return () => {
    if (armed) {
      again = true;
      return;
    }
    run();
    armed = true;
    requestAnimationFrame(next);
  };
}

/**
 * Calls `fn` whenever script sets `field.value` (an input or textarea): no input event fires
 * then, and views mirroring the text (hints, colouring) must still follow it.
 */
export function onValueSet(field, fn) {
  const native = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(field), "value");
  Object.defineProperty(field, "value", {
    configurable: true,
    get() {
      return native.get.call(this);
    },
    set(text) {
      native.set.call(this, text);
      fn();
    },
  });
}
